// OnnxModel::optimize_for_inference: graph rewrites on the compiled steps (onnx_internal.h)
// that make an inference graph do fewer passes over memory.
//   1. Conv -> BatchNormalization, the Conv's output read by nothing else: the normalization
//      folded into the Conv's weight and bias (copies; the parameters stay as they were).
//   2. Conv -> Add, the other addend a feature map of the same shape (not a broadcast): the
//      Add becomes the Conv's sum post-op, and a Relu / Clip reading only the sum its
//      activation (ResNet's "conv, bn, += identity, relu" becomes one convolution).
//   3. Conv -> Relu / Clip with constant bounds: the activation as the Conv's post-op.
//   4. The GELU and SiLU that exporters without a Gelu operator write as elementwise steps,
//      x * 0.5 * (1 + erf(x / sqrt 2)) (Div or Mul by 1/sqrt 2; the 0.5 applied first or last)
//      and x * sigmoid(x): one ops::gelu / ops::silu pass instead of five or two (ConvNeXt's
//      and EfficientNet's inner activations, on their widest tensors).
//   5. MatMul by a constant 2-D weight (or its Transpose) -> Add of a constant bias over the last dimension: one
//      linear layer with its bias (torch.onnx.export writes nn.Linear on inputs of more than
//      two dimensions so, e.g. ConvNeXt's pointwise layers): no broadcast bias, no extra pass.
// A fused Conv step runs its kernel with a ConvFuse epilogue (ops::conv2d_fused).
#include <algorithm>
#include <cmath>
#include <limits>

#include "convnet/autograd/autograd.h"
#include "convnet/core/error.h"
#include "convnet/nn/fuse.h"
#include "convnet/ops/activation.h"
#include "convnet/ops/linear.h"
#include "convnet/ops/permute.h"
#include "io/onnx_internal.h"

namespace convnet::io {

using namespace onnx_impl;

namespace {

using Graph = OnnxModel::Graph;
using Step = Graph::Step;

// Who produces and how many read each slot (graph outputs count as readers).
struct Uses {
  std::vector<int> producer, readers;
  explicit Uses(const Graph& G) : producer(G.fixed.size(), -1), readers(G.fixed.size(), 0) {
    for (size_t k = 0; k < G.steps.size(); ++k) {
      for (int s : G.steps[k].in)
        if (s >= 0) ++readers[s];
      for (int s : G.steps[k].out)
        if (s >= 0) producer[s] = static_cast<int>(k);
    }
    for (int s : G.output_slots) ++readers[s];
  }
};

bool is_fixed_float(const Graph& G, int slot) {
  return slot >= 0 && G.fixed[slot].defined() && !G.fixed[slot].is_int;
}

// A Conv step the optimizer may rewrite: a constant weight of rank 3 or 4 and, if any, a constant bias.
bool plain_conv(const Graph& G, const Step& s) {
  if (s.op_type != "Conv" || s.fuse || s.in.size() < 2 || s.out.size() != 1) return false;
  if (!is_fixed_float(G, s.in[1])) return false;
  const int64_t rank = G.fixed[s.in[1]].tensor.dim();
  return (rank == 3 || rank == 4) && (s.in.size() < 3 || s.in[2] < 0 || is_fixed_float(G, s.in[2]));
}

int add_fixed(Graph& G, Tensor t) {
  G.fixed.push_back(OnnxValue::of(std::move(t)));
  return static_cast<int>(G.fixed.size()) - 1;
}

double scalar_of(const OnnxValue& v) {
  if (v.is_int) return static_cast<double>(v.ints.at(0));
  return v.tensor.data()[0];
}

// The activation of a Relu or Clip step as an epilogue, if its bounds are constants.
bool activation_of(const Graph& G, const Step& s, ConvFuse& f) {
  if (s.op_type == "Relu" && s.in.size() == 1) {
    f.act = ConvEpilogue::Act::relu;
    return true;
  }
  if (s.op_type != "Clip") return false;
  const double inf = std::numeric_limits<double>::infinity();
  double lo = -inf, hi = inf;
  if (G.opset < 11) {
    const NodeView v(s.node, G.opset, s.label, {});
    if (v.has("min")) lo = v.get_float("min", 0.f);
    if (v.has("max")) hi = v.get_float("max", 0.f);
  } else {
    for (size_t i = 1; i < s.in.size() && i < 3; ++i) {
      if (s.in[i] < 0) continue;
      const OnnxValue& b = G.fixed[s.in[i]];
      if (!b.defined() || b.shape().size() > 1 || (b.is_int ? b.ints.size() : b.tensor.numel()) != 1) return false;
      (i == 1 ? lo : hi) = scalar_of(b);
    }
  }
  if (!(lo <= hi)) return false;
  if (lo == 0 && hi == inf) {
    f.act = ConvEpilogue::Act::relu;
    return true;
  }
  const double big = std::numeric_limits<float>::max();
  f.act = ConvEpilogue::Act::clip;
  f.lo = static_cast<float>(std::max(lo, -big));
  f.hi = static_cast<float>(std::min(hi, big));
  return true;
}

// 1. BatchNormalization folded into the Conv before it.
int fold_batch_norms(Graph& G) {
  int folded = 0;
  std::vector<bool> dead(G.steps.size(), false);
  const Uses u(G);
  for (size_t k = 0; k < G.steps.size(); ++k) {
    const Step& bn = G.steps[k];
    if (bn.op_type != "BatchNormalization" || bn.in.size() < 5 || bn.out.empty()) continue;
    const NodeView v(bn.node, G.opset, bn.label, {});
    if (v.get_int("training_mode", 0) != 0) continue;
    bool params = true;
    for (int i = 1; i < 5; ++i) params = params && is_fixed_float(G, bn.in[i]);
    const int x = bn.in[0], p = x >= 0 ? u.producer[x] : -1;
    if (!params || p < 0 || dead[p] || u.readers[x] != 1 || !plain_conv(G, G.steps[p])) continue;
    Step& conv = G.steps[p];
    const Tensor& W = G.fixed[conv.in[1]].tensor;
    const int64_t OC = W.size(0), per = W.numel() / OC;
    const Tensor &scale = G.fixed[bn.in[1]].tensor, &beta = G.fixed[bn.in[2]].tensor, &mean = G.fixed[bn.in[3]].tensor,
                 &var = G.fixed[bn.in[4]].tensor;
    if (scale.numel() != OC || beta.numel() != OC || mean.numel() != OC || var.numel() != OC) continue;
    const bool has_bias = conv.in.size() > 2 && conv.in[2] >= 0;
    Tensor W2 = W.clone(), b2 = has_bias ? G.fixed[conv.in[2]].tensor.clone() : Tensor::zeros({OC});
    nn::fold_affine_into(
        W2.data(), b2.data(), OC, per,
        nn::batch_norm_affine(OC, mean.data(), var.data(), scale.data(), beta.data(), v.get_float("epsilon", 1e-5f)));
    conv.in.resize(3);
    conv.in[1] = add_fixed(G, std::move(W2));
    conv.in[2] = add_fixed(G, std::move(b2));
    conv.out[0] = bn.out[0];
    dead[k] = true;
    ++folded;
  }
  std::vector<Step> kept;
  for (size_t k = 0; k < G.steps.size(); ++k)
    if (!dead[k]) kept.push_back(std::move(G.steps[k]));
  G.steps = std::move(kept);
  return folded;
}

// The shape of every slot on a run of zeros of `probe` (eval mode, no gradients).
std::vector<Shape> probe_shapes(const Graph& G, const Shape& probe) {
  std::vector<Shape> shapes(G.fixed.size());
  std::vector<OnnxValue> values = G.fixed;
  values[G.input_slots.at(0)] = OnnxValue::of(Tensor::zeros(probe));
  NoGradGuard no_grad;
  G.execute(values, false, false);
  for (size_t k = 0; k < values.size(); ++k)
    if (values[k].defined()) shapes[k] = values[k].shape();
  return shapes;
}

// 2. Conv -> Add (-> Relu / Clip): the fused Conv takes the Add's place (both addends exist there).
int fuse_residuals(Graph& G, const std::vector<Shape>& shapes) {
  int fused = 0;
  for (size_t k = 0; k < G.steps.size(); ++k) {
    const Uses u(G);
    Step& add = G.steps[k];
    if (add.op_type != "Add" || add.in.size() != 2 || add.out.size() != 1) continue;
    int pick = -1;
    for (int i = 0; i < 2; ++i) {
      const int a = add.in[i], other = add.in[1 - i];
      if (a < 0 || other < 0 || a == other || G.fixed[other].defined() || G.fixed[a].defined()) continue;
      const int p = u.producer[a];
      if (p < 0 || u.readers[a] != 1 || !plain_conv(G, G.steps[p])) continue;
      if (shapes[a].empty() || shapes[a] != shapes[other] ||
          static_cast<int64_t>(shapes[a].size()) != G.fixed[G.steps[p].in[1]].tensor.dim())
        continue;
      if (pick < 0 || p > u.producer[add.in[pick]]) pick = i;  // the later Conv: its residual is older
    }
    if (pick < 0) continue;
    const int p = u.producer[add.in[pick]];
    Step fusedStep = G.steps[p];
    auto f = std::make_shared<ConvFuse>();
    fusedStep.in.resize(3, -1);
    fusedStep.in.push_back(add.in[1 - pick]);
    f->residual_input = 3;
    fusedStep.out = add.out;
    // An activation that reads only the sum joins it.
    const int sum = add.out[0];
    for (size_t j = k + 1; j < G.steps.size(); ++j) {
      const Step& act = G.steps[j];
      if (act.in.empty() || act.in[0] != sum) continue;
      ConvFuse af;
      if (u.readers[sum] == 1 && act.out.size() == 1 && activation_of(G, act, af)) {
        f->act = af.act, f->lo = af.lo, f->hi = af.hi;
        fusedStep.out = act.out;
        G.steps.erase(G.steps.begin() + static_cast<std::ptrdiff_t>(j));
      }
      break;
    }
    fusedStep.fuse = std::move(f);
    G.steps[k] = std::move(fusedStep);
    G.steps.erase(G.steps.begin() + p);  // p < k
    --k;
    ++fused;
  }
  return fused;
}

// 3. Conv -> Relu / Clip.
int fuse_activations(Graph& G) {
  int fused = 0;
  for (size_t k = 0; k < G.steps.size(); ++k) {
    const Uses u(G);
    const Step& act = G.steps[k];
    ConvFuse af;
    if (act.in.empty() || act.out.size() != 1 || act.in[0] < 0 || !activation_of(G, act, af)) continue;
    const int x = act.in[0], p = u.producer[x];
    if (p < 0 || u.readers[x] != 1 || !plain_conv(G, G.steps[p])) continue;
    Step& conv = G.steps[p];
    conv.fuse = std::make_shared<ConvFuse>(af);
    conv.out = act.out;
    G.steps.erase(G.steps.begin() + static_cast<std::ptrdiff_t>(k));
    --k;
    ++fused;
  }
  return fused;
}

// Whether `slot` is a constant one-element float within 1e-6 (relative) of `want`.
bool is_constant(const Graph& G, int slot, double want) {
  if (!is_fixed_float(G, slot) || G.fixed[slot].tensor.numel() != 1) return false;
  return std::abs(scalar_of(G.fixed[slot]) - want) <= 1e-6 * std::abs(want);
}
// The operand of a binary step `s` other than the constant `want` (-1 if neither is it).
int other_than_constant(const Graph& G, const Step& s, double want) {
  if (s.in.size() != 2) return -1;
  if (is_constant(G, s.in[1], want)) return s.in[0];
  if (is_constant(G, s.in[0], want)) return s.in[1];
  return -1;
}
// The only step reading `slot` (its index), if exactly one step and no graph output reads it.
int sole_reader(const Graph& G, const Uses& u, int slot) {
  if (slot < 0 || u.readers[slot] != 1) return -1;
  for (size_t k = 0; k < G.steps.size(); ++k)
    for (int s : G.steps[k].in)
      if (s == slot) return static_cast<int>(k);
  return -1;
}

Step fused_unary(const Step& first, int x, int out, const char* op, Tensor (*f)(const Tensor&)) {
  Step s;
  s.label = "node '" + first.node.name() + "' (" + op + ", fused from its elementwise steps)";
  s.name = first.node.name();
  s.op_type = op;
  s.node = first.node;
  s.in = {x};
  s.out = {out};
  s.fn = [f](const Inputs& in, const RunCtx&) {
    return std::vector<OnnxValue>{OnnxValue::of(f(float_input(in, 0, "X")))};
  };
  return s;
}
Tensor gelu_erf(const Tensor& x) {
  return ops::gelu(x, "none");
}

// 4. Decomposed GELU (erf form) and SiLU. Returns how many were fused.
int fuse_decomposed_activations(Graph& G) {
  int fused = 0;
  for (size_t k = 0; k < G.steps.size(); ++k) {
    const Uses u(G);
    const Step& st = G.steps[k];
    std::vector<int> dead;
    int x = -1, out = -1;
    const char* op = nullptr;
    if (st.op_type == "Erf" && st.in.size() == 1 && st.out.size() == 1) {
      // d = x / sqrt 2 (or x * 1/sqrt 2) -> Erf -> + 1 -> * x -> * 0.5, or (x * 0.5) * (1 + erf).
      const int d = st.in[0], p = d >= 0 ? u.producer[d] : -1;
      if (p < 0 || u.readers[d] != 1) continue;
      const Step& pre = G.steps[p];
      x = pre.op_type == "Div" && pre.in.size() == 2 && is_constant(G, pre.in[1], std::sqrt(2.0)) ? pre.in[0]
          : pre.op_type == "Mul" ? other_than_constant(G, pre, std::sqrt(0.5))
                                 : -1;
      const int a1 = sole_reader(G, u, st.out[0]);
      if (x < 0 || a1 < 0 || G.steps[a1].op_type != "Add" || other_than_constant(G, G.steps[a1], 1.0) != st.out[0])
        continue;
      const int m1 = sole_reader(G, u, G.steps[a1].out[0]);
      if (m1 < 0 || G.steps[m1].op_type != "Mul" || G.steps[m1].in.size() != 2) continue;
      const Step& mul = G.steps[m1];
      const int partner = mul.in[0] == G.steps[a1].out[0] ? mul.in[1] : mul.in[0];
      if (partner == x) {  // (x * (1 + erf)) * 0.5
        const int m2 = sole_reader(G, u, mul.out[0]);
        if (m2 < 0 || G.steps[m2].op_type != "Mul" || other_than_constant(G, G.steps[m2], 0.5) != mul.out[0]) continue;
        dead = {p, static_cast<int>(k), a1, m1, m2};
        out = G.steps[m2].out[0];
      } else {  // (x * 0.5) * (1 + erf)
        const int h = partner >= 0 ? u.producer[partner] : -1;
        if (h < 0 || u.readers[partner] != 1 || G.steps[h].op_type != "Mul" ||
            other_than_constant(G, G.steps[h], 0.5) != x)
          continue;
        dead = {p, static_cast<int>(k), a1, h, m1};
        out = mul.out[0];
      }
      op = "Gelu";
    } else if (st.op_type == "Sigmoid" && st.in.size() == 1 && st.out.size() == 1) {
      x = st.in[0];  // Sigmoid(x) -> Mul(x, s)
      const int m = sole_reader(G, u, st.out[0]);
      if (x < 0 || m < 0 || G.steps[m].op_type != "Mul" || G.steps[m].in.size() != 2) continue;
      const Step& mul = G.steps[m];
      if (!((mul.in[0] == x && mul.in[1] == st.out[0]) || (mul.in[1] == x && mul.in[0] == st.out[0]))) continue;
      dead = {static_cast<int>(k), m};
      out = mul.out[0];
      op = "Silu";
    } else {
      continue;
    }
    // The fused step takes the place of the last one (every input exists there).
    const int last = *std::max_element(dead.begin(), dead.end());
    Step f = fused_unary(G.steps[static_cast<size_t>(dead[0])], x, out, op,
                         std::string(op) == "Gelu" ? &gelu_erf : &ops::silu);
    G.steps[static_cast<size_t>(last)] = std::move(f);
    std::sort(dead.begin(), dead.end());
    for (size_t i = dead.size() - 1; i-- > 0;) G.steps.erase(G.steps.begin() + dead[i]);
    k = static_cast<size_t>(dead[0]);  // rescan from the first removed position
    --k;
    ++fused;
  }
  return fused;
}

// 5. MatMul (constant 2-D B, or the Transpose of a constant 2-D weight, as our exporter writes
// nn.Linear on inputs of more than two dimensions) -> Add (constant bias of OUT values over the
// last dimension).
int fuse_linear_bias(Graph& G) {
  int fused = 0;
  for (size_t k = 0; k < G.steps.size(); ++k) {
    const Uses u(G);
    const Step& mm = G.steps[k];
    if (mm.op_type != "MatMul" || mm.in.size() != 2 || mm.out.size() != 1 || mm.in[1] < 0) continue;
    Tensor W;  // (OUT, IN), as linear() takes it
    int transpose = -1;
    if (is_fixed_float(G, mm.in[1])) {
      if (G.fixed[mm.in[1]].tensor.dim() == 2) W = ops::transpose2d(G.fixed[mm.in[1]].tensor).detach();
    } else if (const int t = u.producer[mm.in[1]]; t >= 0 && u.readers[mm.in[1]] == 1) {
      const Step& tr = G.steps[t];
      const NodeView v(tr.node, G.opset, tr.label, {});
      const auto perm = v.get_ints("perm");
      if (tr.op_type == "Transpose" && tr.in.size() == 1 && is_fixed_float(G, tr.in[0]) &&
          G.fixed[tr.in[0]].tensor.dim() == 2 && (perm.empty() || perm == std::vector<int64_t>{1, 0}))
        W = G.fixed[tr.in[0]].tensor, transpose = t;
    }
    if (!W.defined()) continue;
    const int64_t OUT = W.size(0);
    const int a = sole_reader(G, u, mm.out[0]);
    if (a < 0 || G.steps[a].op_type != "Add" || G.steps[a].in.size() != 2 || G.steps[a].out.size() != 1) continue;
    const Step& add = G.steps[a];
    const int bias = add.in[0] == mm.out[0] ? add.in[1] : add.in[0];
    if (!is_fixed_float(G, bias)) continue;
    const Tensor& b = G.fixed[bias].tensor;
    if (b.numel() != OUT || b.dim() < 1 || b.size(-1) != OUT) continue;
    Step f = mm;
    f.label = "node '" + mm.node.name() + "' (MatMul with the bias of the Add after it)";
    f.in = {mm.in[0], add_fixed(G, W), add_fixed(G, b.reshape({OUT}).clone())};
    f.out = add.out;
    f.fn = [](const Inputs& in, const RunCtx&) {
      return std::vector<OnnxValue>{OnnxValue::of(
          ops::linear(float_input(in, 0, "A"), float_input(in, 1, "W"), float_input(in, 2, "bias"), "MatMul"))};
    };
    G.steps[static_cast<size_t>(a)] = std::move(f);  // where the bias add was: A exists there
    G.steps.erase(G.steps.begin() + static_cast<std::ptrdiff_t>(k));
    if (transpose >= 0) G.steps.erase(G.steps.begin() + transpose);  // transpose < k
    k = transpose >= 0 ? static_cast<size_t>(transpose) : k;
    --k;
    ++fused;
  }
  return fused;
}

}  // namespace

std::string OnnxModel::Optimized::describe() const {
  return std::to_string(nodes_before) + " -> " + std::to_string(nodes_after) +
         " nodes: " + std::to_string(batch_norms_folded) + " batch norm(s) folded into convolutions, " +
         std::to_string(residuals_fused) + " residual add(s) and " + std::to_string(activations_fused) +
         " activation(s) fused into them, " + std::to_string(decomposed_fused) + " decomposed GELU / SiLU fused, " +
         std::to_string(linear_biases_fused) + " MatMul + Add as linear layers";
}

OnnxModel::Optimized OnnxModel::optimize_for_inference(const Shape& probe_shape) {
  Graph& G = *graph_;
  CONVNET_CHECK(!G.inference_only, "ONNX model '", G.source, "' is optimized for inference already");
  eval();
  Optimized r;
  r.nodes_before = static_cast<int>(G.steps.size());
  r.batch_norms_folded = fold_batch_norms(G);
  if (G.inputs.size() == 1 && !probe_shape.empty()) {
    Shape probe = probe_shape;
    probe[0] = 2;  // a broadcast over the batch would pass unnoticed at batch 1
    r.residuals_fused = fuse_residuals(G, probe_shapes(G, probe));
  }
  r.activations_fused = fuse_activations(G);
  r.decomposed_fused = fuse_decomposed_activations(G);
  r.linear_biases_fused = fuse_linear_bias(G);
  r.nodes_after = static_cast<int>(G.steps.size());
  G.inference_only = true;
  G.compute_releases();
  return r;
}

bool OnnxModel::optimized_for_inference() const {
  return graph_->inference_only;
}

}  // namespace convnet::io
