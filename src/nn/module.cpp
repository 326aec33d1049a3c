#include "convnet/nn/module.h"

#include "convnet/autograd/autograd.h"

#include "convnet/autograd/trace.h"
#include "convnet/core/error.h"

namespace convnet::nn {

namespace {
std::string join(const std::string& prefix, const std::string& name) {
  if (name.empty()) return prefix;
  return prefix.empty() ? name : prefix + "." + name;
}
}  // namespace

Tensor Module::operator()(const Tensor& x) {
  trace::Scope scope(path_);  // names the ops of this call when tracing (ONNX export)
  Tensor y = forward(x);
  if (!forward_hooks_.empty()) {
    auto hooks = forward_hooks_;  // a hook may remove itself
    for (auto& [id, h] : hooks) h(*this, x, y);
  }
  return y;
}

int Module::register_forward_hook(ForwardHook hook) {
  forward_hooks_.emplace_back(next_hook_id_, std::move(hook));
  return next_hook_id_++;
}

void Module::remove_forward_hook(int id) {
  std::erase_if(forward_hooks_, [id](const auto& p) { return p.first == id; });
}

Tensor Module::register_parameter(const std::string& name, Tensor t, bool requires_grad) {
  for (auto& [n, p] : params_) CONVNET_CHECK(n != name, type_name(), ": parameter '", name, "' registered twice");
  if (t.defined()) t.requires_grad_(requires_grad);
  params_.emplace_back(name, std::move(t));
  return params_.back().second;
}

Module& Module::to(DType dtype) {
  CONVNET_CHECK(is_floating(dtype), type_name(), ".to(", dtype_name(dtype),
                "): parameters and buffers convert to a floating dtype only");
  auto convert = [&](Tensor& t) {
    if (!t.defined() || !is_floating(t.dtype()) || t.dtype() == dtype) return;
    t.zero_grad();
    NoGradGuard g;
    t.set_data_(t.to(dtype));
  };
  for (auto& [n, p] : named_parameters()) convert(p);
  for (auto& [n, b] : named_buffers()) convert(b);
  return *this;
}

Module& Module::to(const Device& device) {
  auto move = [&](Tensor& t) {
    if (!t.defined() || t.device() == device) return;
    t.zero_grad();
    NoGradGuard g;
    t.set_data_(t.to(device));
  };
  for (auto& [n, p] : named_parameters()) move(p);
  for (auto& [n, b] : named_buffers()) move(b);
  return *this;
}

Tensor Module::register_buffer(const std::string& name, Tensor t) {
  buffers_.emplace_back(name, std::move(t));
  return buffers_.back().second;
}

void Module::set_parameter(const std::string& name, Tensor t) {
  for (auto& [n, p] : params_)
    if (n == name) {
      p = std::move(t);
      return;
    }
  throw Error(type_name() + ": no parameter named '" + name + "'");
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> m) {
  CONVNET_CHECK(m != nullptr, type_name(), ": child module '", name, "' is null");
  for (auto& [n, c] : children_) CONVNET_CHECK(n != name, type_name(), ": child module '", name, "' registered twice");
  m->set_path(join(path_, name));
  children_.emplace_back(name, std::move(m));
}

void Module::replace_child(const std::string& name, std::shared_ptr<Module> m) {
  CONVNET_CHECK(m != nullptr, type_name(), ": replacement for child module '", name, "' is null");
  for (auto& [n, c] : children_)
    if (n == name) {
      m->set_path(join(path_, name));
      m->train(training_);
      c = std::move(m);
      return;
    }
  throw Error(type_name() + ": no child module named '" + name + "'");
}

void Module::set_path(const std::string& path) {
  path_ = path;
  for (auto& [n, c] : children_) c->set_path(join(path_, n));
}

std::string Module::label() const { return path_.empty() ? type_name() : path_ + " (" + type_name() + ")"; }

std::vector<std::pair<std::string, Tensor>> Module::named_parameters(bool recurse) const {
  std::vector<std::pair<std::string, Tensor>> out;
  for (const auto& [n, p] : params_)
    if (p.defined()) out.emplace_back(n, p);
  if (recurse)
    for (const auto& [cn, c] : children_)
      for (auto& [n, p] : c->named_parameters(true)) out.emplace_back(join(cn, n), p);
  return out;
}

std::vector<Tensor> Module::parameters(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& [n, p] : named_parameters(recurse)) out.push_back(p);
  return out;
}

std::vector<Tensor> Module::trainable_parameters() const {
  std::vector<Tensor> out;
  for (auto& [n, p] : named_parameters(true))
    if (p.requires_grad()) out.push_back(p);
  return out;
}

std::vector<std::pair<std::string, Tensor>> Module::named_buffers(bool recurse) const {
  std::vector<std::pair<std::string, Tensor>> out;
  for (const auto& [n, b] : buffers_)
    if (b.defined()) out.emplace_back(n, b);
  if (recurse)
    for (const auto& [cn, c] : children_)
      for (auto& [n, b] : c->named_buffers(true)) out.emplace_back(join(cn, n), b);
  return out;
}

std::vector<std::pair<std::string, std::shared_ptr<Module>>> Module::named_children() const { return children_; }

std::vector<std::pair<std::string, Module*>> Module::named_modules() {
  std::vector<std::pair<std::string, Module*>> out{{"", this}};
  for (auto& [cn, c] : children_)
    for (auto& [n, m] : c->named_modules()) out.emplace_back(join(cn, n), m);
  return out;
}

std::map<std::string, Tensor> Module::state_dict() const {
  std::map<std::string, Tensor> out;
  for (auto& [n, p] : named_parameters()) out[n] = p;
  for (auto& [n, b] : named_buffers()) out[n] = b;
  return out;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [n, c] : children_) c->train(on);
}

void Module::requires_grad_(bool on) {
  for (auto& [n, p] : named_parameters()) p.requires_grad_(on);
}

void Module::zero_grad() {
  for (auto& [n, p] : named_parameters()) p.zero_grad();
}

int64_t Module::num_parameters(bool trainable_only) const {
  int64_t total = 0;
  for (auto& [n, p] : named_parameters())
    if (!trainable_only || p.requires_grad()) total += p.numel();
  return total;
}

std::string Module::repr(int indent) const {
  std::string out = type_name() + "(" + extra_repr();
  if (children_.empty()) return out + ")";
  out += "\n";
  const std::string pad(indent + 2, ' ');
  for (const auto& [n, c] : children_) out += pad + "(" + n + "): " + c->repr(indent + 2) + "\n";
  return out + std::string(indent, ' ') + ")";
}

}  // namespace convnet::nn
