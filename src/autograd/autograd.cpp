#include "convnet/autograd/autograd.h"

#include <unordered_map>
#include <unordered_set>

#include "convnet/core/error.h"
#include "convnet/core/profiler.h"
#include "kernels/elementwise.h"
#include "kernels/registry.h"

namespace convnet {

namespace {
thread_local bool g_grad_enabled = true;

// Sum of two gradients as a new tensor: gradients handed around by backward
// functions may share storage (add passes its gradient to both inputs).
// In a's dtype and layout (core/layout.h), b read in them.
void add_into(const Tensor& a, const Tensor& b, Tensor& out) {
  const Tensor pb = b.to(a.dtype()).in_layout(a.layout());
  kernels::with_floating(a.dtype(), [&]<class T>() {
    kernels::keys::Elementwise<T>::add->get(a.device().type)(a.numel(), a.template stored_as<T>(),
                                                             pb.template stored_as<T>(), out.template stored_as<T>());
  });
}
Tensor add_grads(const Tensor& a, const Tensor& b) {
  profiler::Scope scope("autograd_accumulate");
  Tensor out = Tensor::empty_like(a);
  add_into(a, b, out);
  return out;
}
}  // namespace

bool grad_enabled() { return g_grad_enabled; }
NoGradGuard::NoGradGuard() : prev_(g_grad_enabled) { g_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { g_grad_enabled = prev_; }
EnableGradGuard::EnableGradGuard() : prev_(g_grad_enabled) {
  g_grad_enabled = true;
}
EnableGradGuard::~EnableGradGuard() {
  g_grad_enabled = prev_;
}

namespace autograd {

bool needs_grad(std::initializer_list<const Tensor*> inputs) {
  if (!g_grad_enabled) return false;
  for (const Tensor* t : inputs)
    if (t && t->defined() && t->requires_grad()) return true;
  return false;
}
bool needs_grad(const std::vector<Tensor>& inputs) {
  if (!g_grad_enabled) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

void record(Tensor& out, const char* name, std::vector<Tensor> inputs, BackwardFn fn) {
  if (!needs_grad(inputs)) return;
  auto node = std::make_shared<Node>();
  node->name = name;
  node->inputs = std::move(inputs);
  node->backward = std::move(fn);
  out.impl()->grad_fn = std::move(node);
  out.impl()->requires_grad = true;
}

}  // namespace autograd

void Tensor::backward(const Tensor& grad_output) const {
  CONVNET_CHECK(requires_grad(), "backward: tensor of shape ", shape_str(shape()),
                " does not require grad and has no grad_fn");
  CONVNET_CHECK(grad_output.shape() == shape(), "backward: gradient of shape ", shape_str(grad_output.shape()),
                " does not match tensor of shape ", shape_str(shape()));
  NoGradGuard no_grad;  // backward functions compute plain tensors

  // Post-order DFS: every tensor comes after the tensors it was computed from.
  std::vector<TensorImpl*> order;
  std::unordered_set<TensorImpl*> seen;
  std::unordered_map<TensorImpl*, Tensor> leaves;  // handles of the leaves with post-accumulate hooks
  if (!impl()->grad_fn) leaves.emplace(impl(), *this);
  std::vector<std::pair<TensorImpl*, size_t>> stack{{impl(), 0}};
  seen.insert(impl());
  while (!stack.empty()) {
    auto& [t, next] = stack.back();
    const auto& fn = t->grad_fn;
    if (fn && next < fn->inputs.size()) {
      const Tensor& in = fn->inputs[next++];
      if (in.defined() && in.requires_grad() && seen.insert(in.impl()).second) {
        stack.push_back({in.impl(), 0});
        if (!in.impl()->grad_fn && !in.impl()->post_accumulate_hooks.empty()) leaves.emplace(in.impl(), in);
      }
      continue;
    }
    order.push_back(t);
    stack.pop_back();
  }

  std::unordered_map<TensorImpl*, Tensor> grads;
  grads[impl()] = grad_output;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    TensorImpl* t = *it;
    auto found = grads.find(t);
    if (found == grads.end()) continue;
    Tensor g = found->second;
    grads.erase(found);
    for (auto& hook : t->hooks) {
      Tensor replaced = hook(g);
      if (replaced.defined()) g = replaced;
    }
    if (!t->grad_fn) {  // a leaf: accumulate into .grad, owning its own copy
      if (t->grad) {
        profiler::Scope scope("autograd_accumulate");
        Tensor acc(t->grad);  // in place: the add kernels allow y == a
        add_into(acc, g, acc);
      } else
        t->grad = g.clone().impl_ptr();
      // Final for this backward: every consumer of the leaf came before it in `order`.
      if (!t->post_accumulate_hooks.empty()) {
        const Tensor& leaf = leaves.at(t);
        for (const auto& [id, hook] : t->post_accumulate_hooks) hook(leaf);
      }
      continue;
    }
    Node& node = *t->grad_fn;
    std::vector<Tensor> gin = node.backward(g);
    CONVNET_CHECK(gin.size() == node.inputs.size(), "autograd: backward of '", node.name, "' returned ", gin.size(),
                  " gradients for ", node.inputs.size(), " inputs");
    for (size_t i = 0; i < gin.size(); ++i) {
      const Tensor& in = node.inputs[i];
      if (!in.defined() || !in.requires_grad() || !gin[i].defined()) continue;
      CONVNET_CHECK(gin[i].shape() == in.shape(), "autograd: backward of '", node.name, "' gave a gradient of shape ",
                    shape_str(gin[i].shape()), " for input ", i, " of shape ", shape_str(in.shape()));
      auto [pos, inserted] = grads.emplace(in.impl(), gin[i]);
      if (!inserted) pos->second = add_grads(pos->second, gin[i]);
    }
  }
}

}  // namespace convnet
