#include "convnet/nn/summary.h"

#include <cstdio>

#include "convnet/autograd/autograd.h"
#include "convnet/core/error.h"
#include "convnet/nn/layers.h"

namespace convnet::nn {

namespace {
// Multiply-accumulates of one leaf layer for one image.
int64_t layer_macs(Module& m, const Tensor& out) {
  const int64_t per_image_out = out.numel() / std::max<int64_t>(1, out.size(0));
  if (auto* c = dynamic_cast<Conv2d*>(&m)) {
    const auto& w = c->weight.shape();  // (OC, C/G, KH, KW): each output value reads C/G*KH*KW inputs
    return per_image_out * w[1] * w[2] * w[3];
  }
  if (auto* l = dynamic_cast<Linear*>(&m)) return per_image_out * l->in_features;
  return 0;
}

std::string with_commas(int64_t v) {
  std::string s = std::to_string(v < 0 ? -v : v);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(i, ",");
  return v < 0 ? "-" + s : s;
}

std::string human_bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) b /= 1024, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f %s", b, units[u]);
  return buf;
}
}  // namespace

Summary summarize(Module& m, const Shape& input) {
  CONVNET_CHECK(input.size() == 3, "summary: input must be C,H,W, got ", shape_str(input));
  Summary s;
  s.input = input;
  std::vector<std::pair<Module*, int>> hooks;
  for (auto& [name, mod] : m.named_modules()) {
    if (!mod->named_children().empty()) continue;  // leaves only
    const std::string n = name;
    const int id = mod->register_forward_hook([&s, n](Module& layer, const Tensor&, const Tensor& out) {
      SummaryRow r;
      r.name = n;
      r.type = layer.type_name();
      r.output = out.shape();
      r.params = layer.num_parameters(false);
      r.macs = layer_macs(layer, out);
      s.rows.push_back(r);
    });
    hooks.emplace_back(mod, id);
  }
  const bool was_training = m.is_training();
  m.eval();
  try {
    NoGradGuard g;
    Shape full{1};
    full.insert(full.end(), input.begin(), input.end());
    s.output = m(Tensor::zeros(full)).shape();
  } catch (...) {
    for (auto& [mod, id] : hooks) mod->remove_forward_hook(id);
    m.train(was_training);
    throw;
  }
  for (auto& [mod, id] : hooks) mod->remove_forward_hook(id);
  m.train(was_training);
  for (const auto& r : s.rows) {
    s.macs += r.macs;
    s.activation_floats += shape_numel(r.output);
  }
  s.total_params = m.num_parameters(false);
  s.trainable_params = m.num_parameters(true);
  s.frozen_params = s.total_params - s.trainable_params;
  return s;
}

std::string Summary::table(int64_t batch) const {
  std::string out;
  char line[512];
  std::snprintf(line, sizeof line, "%-40s %-20s %-22s %14s %16s\n", "layer", "type", "output shape", "params", "MACs");
  out += line;
  out += std::string(116, '-') + "\n";
  for (const auto& r : rows) {
    Shape o = r.output;
    if (!o.empty()) o[0] = -1;
    std::string os = shape_str(o);
    if (os.rfind("(-1", 0) == 0) os = "(N" + os.substr(3);
    std::snprintf(line, sizeof line, "%-40s %-20s %-22s %14s %16s\n", r.name.c_str(), r.type.c_str(), os.c_str(),
                  with_commas(r.params).c_str(), with_commas(r.macs).c_str());
    out += line;
  }
  out += std::string(116, '-') + "\n";
  out += "input: " + shape_str(input) + " per image, output: " + shape_str(output) + "\n";
  out += "parameters: " + with_commas(total_params) + " total, " + with_commas(trainable_params) + " trainable, " +
         with_commas(frozen_params) + " frozen (" + human_bytes(4.0 * total_params) + " as float32)\n";
  if (macs >= 1000000000)
    std::snprintf(line, sizeof line, " per image (%.2f GMACs)\n", static_cast<double>(macs) / 1e9);
  else
    std::snprintf(line, sizeof line, " per image (%.2f MMACs)\n", static_cast<double>(macs) / 1e6);
  out += "multiply-accumulates: " + with_commas(macs) + line;
  out += "activations: " + with_commas(activation_floats) + " floats per image; forward activation memory for a batch of " +
         std::to_string(batch) + ": " + human_bytes(4.0 * activation_floats * batch) +
         " (training keeps about this much for the backward pass)\n";
  return out;
}

}  // namespace convnet::nn
