// Fine-tuning an imported ONNX graph: its "layers" (the parameters each node reads first),
// its classifier head (the last Gemm or Conv) resized to a new number of classes, and
// BatchNormalization nodes kept in eval mode while the rest trains.
#include <cmath>
#include <set>
#include <unordered_map>

#include "convnet/core/error.h"
#include "io/onnx_internal.h"

namespace convnet::io {

namespace {
std::string node_id(const OnnxModel::Graph::Step& s) {
  return s.name.empty() ? s.label : s.name;
}

// Outputs of a Gemm (B is (K, N), or (N, K) with transB) or Conv ((OC, C/g, kh, kw)) weight.
int64_t outputs_of(const OnnxModel::Graph::Step& s, const Shape& w) {
  if (s.op_type == "Conv") return w[0];
  return s.gemm_trans_b ? w[0] : w[1];
}
}  // namespace

std::vector<OnnxModel::ParamGroup> OnnxModel::parameter_groups() const {
  std::unordered_map<const TensorImpl*, std::string> name_of;
  for (const auto& [n, p] : named_parameters()) name_of[p.impl()] = n;
  std::set<std::string> seen;
  std::vector<ParamGroup> groups;
  for (const auto& s : graph_->steps) {
    ParamGroup g{node_id(s), s.op_type, {}};
    for (int k : s.in) {
      if (k < 0 || !graph_->fixed[k].defined() || graph_->fixed[k].is_int) continue;
      auto it = name_of.find(graph_->fixed[k].tensor.impl());
      if (it != name_of.end() && seen.insert(it->second).second) g.params.push_back(it->second);
    }
    if (!g.params.empty()) groups.push_back(std::move(g));
  }
  return groups;
}

namespace {
// Index of the head step: the last Gemm or Conv whose weight (input 1) is a parameter.
int head_step(const OnnxModel& m, const OnnxModel::Graph& G) {
  std::set<const TensorImpl*> params;
  for (const auto& [n, p] : m.named_parameters()) params.insert(p.impl());
  for (int i = static_cast<int>(G.steps.size()) - 1; i >= 0; --i) {
    const auto& s = G.steps[i];
    if ((s.op_type != "Gemm" && s.op_type != "Conv") || s.in.size() < 2 || s.in[1] < 0) continue;
    const OnnxValue& w = G.fixed[s.in[1]];
    if (w.defined() && !w.is_int && params.count(w.tensor.impl())) return i;
  }
  throw Error("ONNX model '" + G.source +
              "': no Gemm or Conv node with a weight parameter that could be the classifier head");
}
}  // namespace

std::pair<std::string, int64_t> OnnxModel::head() const {
  const auto& s = graph_->steps[head_step(*this, *graph_)];
  return {node_id(s), outputs_of(s, graph_->fixed[s.in[1]].tensor.shape())};
}

void OnnxModel::replace_head(int64_t num_classes, Generator& gen) {
  CONVNET_CHECK(num_classes > 0, "replace_head: num_classes must be positive, got ", num_classes);
  Graph& G = *graph_;
  const auto& s = G.steps[head_step(*this, G)];
  std::unordered_map<const TensorImpl*, std::string> name_of;
  for (const auto& [n, p] : named_parameters()) name_of[p.impl()] = n;
  const Tensor w = G.fixed[s.in[1]].tensor;
  Shape shape = w.shape();
  const int64_t K = outputs_of(s, shape);
  const size_t out_axis = s.op_type == "Gemm" && !s.gemm_trans_b ? 1 : 0;
  CONVNET_CHECK(s.op_type != "Conv" || shape.size() >= 2, "ONNX model '", G.source, "': head ", s.label,
                " has a weight of shape ", shape_str(shape));
  shape[out_axis] = num_classes;
  const int64_t fan_in = shape_numel(shape) / num_classes;
  const float bound = 1.f / std::sqrt(static_cast<float>(fan_in));
  auto replace = [&](int slot, const Shape& new_shape) {
    Tensor t = Tensor::rand(new_shape, gen, -bound, bound).requires_grad_(true);
    set_parameter(name_of.at(G.fixed[slot].tensor.impl()), t);
    G.fixed[slot] = OnnxValue::of(t);
  };
  replace(s.in[1], shape);
  if (s.in.size() > 2 && s.in[2] >= 0) {  // the bias: Gemm's C, Conv's B
    const OnnxValue& b = G.fixed[s.in[2]];
    if (b.defined() && !b.is_int && name_of.count(b.tensor.impl()) && b.tensor.numel() == K)
      replace(s.in[2], {num_classes});
  }
  for (auto& o : G.outputs)
    if (o.known_rank && !o.dims.empty() && o.dims.back() == K) o.dims.back() = num_classes;
}

void OnnxModel::keep_in_eval(const std::vector<std::string>& nodes) {
  const std::set<std::string> keep(nodes.begin(), nodes.end());
  for (auto& s : graph_->steps) s.force_eval = keep.count(node_id(s)) > 0;
}

}  // namespace convnet::io
