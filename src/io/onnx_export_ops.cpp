// ONNX export: one emitter per traced op type (trace names as the ops record them), each
// writing the ONNX nodes (opset 13) that compute the op in eval mode.
#include <algorithm>
#include <cmath>
#include <limits>

#include "convnet/core/error.h"
#include "io/onnx_export_internal.h"

namespace convnet::io::export_impl {

std::string Emit::label() const {
  return "op '" + op().type + "'" + (op().scope.empty() ? "" : " in layer '" + op().scope + "'");
}

void set_attr(onnx::NodeProto& n, const std::string& name, int64_t v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}
void set_attr(onnx::NodeProto& n, const std::string& name, float v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(v);
}
void set_attr(onnx::NodeProto& n, const std::string& name, const std::string& v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s(v);
}
void set_attr(onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t x : v) a->add_ints(x);
}

namespace {

const Shape& in_shape(Emit& e, size_t i = 0) {
  return e.op().inputs.at(i).shape();
}
const Shape& out_shape(Emit& e) {
  return e.op().output.shape();
}

// A node with one input and one output, as Relu.
Emitter unary(const char* type) {
  return [type](Emit& e) { e.node(type, {e.in(0)}, {e.out()}); };
}
Emitter binary(const char* type) {
  return [type](Emit& e) { e.node(type, {e.in(0), e.in(1)}, {e.out()}); };
}

// Conv / MaxPool / AveragePool over (N, C, D, H, W): the attributes as recorded.
void conv3d(Emit& e) {
  const auto& a = e.op().attrs;
  const Shape& w = in_shape(e, 1);
  std::vector<std::string> ins{e.in(0), e.in(1)};
  if (e.op().inputs[2].defined()) ins.push_back(e.in(2));
  auto& n = e.node("Conv", ins, {e.out()});
  set_attr(n, "kernel_shape", std::vector<int64_t>{w[2], w[3], w[4]});
  set_attr(n, "strides", a.v("stride"));
  set_attr(n, "pads", a.v("pads"));
  set_attr(n, "dilations", a.v("dilation"));
  set_attr(n, "group", a.i("groups"));
}
Emitter pool3d(bool is_max) {
  return [is_max](Emit& e) {
    const auto& a = e.op().attrs;
    auto& n = e.node(is_max ? "MaxPool" : "AveragePool", {e.in(0)}, {e.out()});
    set_attr(n, "kernel_shape", a.v("kernel"));
    set_attr(n, "strides", a.v("stride"));
    set_attr(n, "pads", a.v("pads"));
    set_attr(n, "ceil_mode", a.i("ceil_mode"));
    if (is_max)
      set_attr(n, "dilations", a.v("dilation"));
    else
      set_attr(n, "count_include_pad", a.i("count_include_pad"));
  };
}

void conv2d(Emit& e) {
  const auto& a = e.op().attrs;
  const Shape& w = in_shape(e, 1);
  std::vector<std::string> ins{e.in(0), e.in(1)};
  if (e.op().inputs[2].defined()) ins.push_back(e.in(2));
  auto& n = e.node("Conv", ins, {e.out()});
  set_attr(n, "kernel_shape", std::vector<int64_t>{w[2], w[3]});
  set_attr(n, "strides", a.v("stride"));
  set_attr(n, "pads", a.v("pads"));  // (top, left, bottom, right): ONNX's begins then ends
  set_attr(n, "dilations", a.v("dilation"));
  set_attr(n, "group", a.i("groups"));
}

// y = x W^T + b: Gemm for a 2-D x; otherwise MatMul with W^T (and Add b), which ONNX
// broadcasts over the leading dimensions.
void linear(Emit& e) {
  const bool has_bias = e.op().inputs[2].defined();
  if (in_shape(e).size() == 2) {
    std::vector<std::string> ins{e.in(0), e.in(1)};
    if (has_bias) ins.push_back(e.in(2));
    set_attr(e.node("Gemm", ins, {e.out()}), "transB", int64_t{1});
    return;
  }
  const std::string wt = e.tmp("weight_t");
  set_attr(e.node("Transpose", {e.in(1)}, {wt}), "perm", std::vector<int64_t>{1, 0});
  if (!has_bias) {
    e.node("MatMul", {e.in(0), wt}, {e.out()});
    return;
  }
  const std::string mm = e.tmp("matmul");
  e.node("MatMul", {e.in(0), wt}, {mm});
  e.node("Add", {mm, e.in(2)}, {e.out()});
}

// Layer norm over the last k dimensions: LayerNormalization (opset 17; the writer raises the
// model's opset) with axis -k; a missing weight or bias becomes ones or zeros.
void layer_norm(Emit& e) {
  const auto& a = e.op().attrs;
  const Shape& ns = a.v("normalized_shape");
  const int64_t D = shape_numel(ns);
  const std::string w = e.op().inputs[1].defined() ? e.in(1) : e.const_floats("scale", std::vector<float>(D, 1.f), ns);
  std::vector<std::string> ins{e.in(0), w};
  if (e.op().inputs[2].defined()) ins.push_back(e.in(2));
  auto& n = e.node("LayerNormalization", ins, {e.out()});
  set_attr(n, "axis", -static_cast<int64_t>(ns.size()));
  set_attr(n, "epsilon", static_cast<float>(a.f("eps")));
}

// Group norm as torch.onnx.export writes it: reshape (N, C, *) to (N, G, -1), instance-normalize
// the G "channels" (scale 1, bias 0), reshape back, then the per-channel affine.
void group_norm(Emit& e) {
  const auto& a = e.op().attrs;
  const Shape& x = in_shape(e);
  const int64_t G = a.i("num_groups"), C = x[1];
  const std::string r = e.tmp("grouped"), in = e.tmp("instnorm");
  e.node("Reshape", {e.in(0), e.const_ints("group_shape", {0, G, -1}, {3})}, {r});
  auto& n = e.node("InstanceNormalization",
                   {r, e.const_floats("ones", std::vector<float>(G, 1.f), {G}),
                    e.const_floats("zeros", std::vector<float>(G, 0.f), {G})},
                   {in});
  set_attr(n, "epsilon", static_cast<float>(a.f("eps")));
  std::vector<int64_t> back(x.begin(), x.end());
  back[0] = 0;  // the batch, copied (dynamic)
  const bool w = e.op().inputs[1].defined(), b = e.op().inputs[2].defined();
  if (!w && !b) {
    e.node("Reshape", {in, e.const_ints("shape", back, {static_cast<int64_t>(back.size())})}, {e.out()});
    return;
  }
  const std::string y = e.tmp("normalized");
  e.node("Reshape", {in, e.const_ints("shape", back, {static_cast<int64_t>(back.size())})}, {y});
  // (C) parameters as (C, 1, ..., 1), broadcast over the positions.
  std::vector<int64_t> pshape(x.size() - 1, 1);
  pshape[0] = C;
  const std::string ps = e.const_ints("param_shape", pshape, {static_cast<int64_t>(pshape.size())});
  std::string cur = y;
  if (w) {
    const std::string wr = e.tmp("weight"), m = b ? e.tmp("scaled") : e.out();
    e.node("Reshape", {e.in(1), ps}, {wr});
    e.node("Mul", {cur, wr}, {m});
    cur = m;
  }
  if (b) {
    const std::string br = e.tmp("bias");
    e.node("Reshape", {e.in(2), ps}, {br});
    e.node("Add", {cur, br}, {e.out()});
  }
}

void conv_transpose2d(Emit& e) {
  const auto& a = e.op().attrs;
  std::vector<std::string> ins{e.in(0), e.in(1)};
  if (e.op().inputs[2].defined()) ins.push_back(e.in(2));
  auto& n = e.node("ConvTranspose", ins, {e.out()});
  const Shape& w = e.op().inputs.at(1).shape();
  set_attr(n, "kernel_shape", std::vector<int64_t>{w[2], w[3]});
  set_attr(n, "strides", a.v("stride"));
  set_attr(n, "pads", a.v("pads"));
  set_attr(n, "dilations", a.v("dilation"));
  set_attr(n, "output_padding", a.v("output_padding"));
  set_attr(n, "group", a.i("groups"));
}

// resize as Resize (opset 13): the mode, coordinate transformation and nearest mode as
// recorded; explicit scales when the op had them (the coordinates use them), else sizes.
void resize(Emit& e) {
  const auto& a = e.op().attrs;
  static const char* const kCoord[] = {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric"};
  static const char* const kNearest[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
  const double sh = a.f("scale_h"), sw = a.f("scale_w");
  const std::string roi = e.const_floats("roi", {}, {0});
  std::vector<std::string> ins;
  if (sh > 0 && sw > 0) {
    ins = {e.in(0), roi, e.const_floats("scales", {1.f, 1.f, static_cast<float>(sh), static_cast<float>(sw)}, {4})};
  } else {
    // sizes = concat(shape(x)[0:2], (OH, OW)): the batch stays symbolic.
    const auto& size = a.v("size");
    const std::string shape = e.tmp("shape"), nc = e.tmp("batch_channels"), sizes = e.tmp("sizes");
    e.node("Shape", {e.in(0)}, {shape});
    e.node("Slice", {shape, e.const_ints("starts", {0}, {1}), e.const_ints("ends", {2}, {1})}, {nc});
    set_attr(e.node("Concat", {nc, e.const_ints("hw", {size[0], size[1]}, {2})}, {sizes}), "axis", int64_t{0});
    ins = {e.in(0), roi, e.const_floats("scales", {}, {0}), sizes};
  }
  auto& n = e.node("Resize", ins, {e.out()});
  set_attr(n, "mode", std::string(a.i("mode") == 0 ? "nearest" : "linear"));
  set_attr(n, "coordinate_transformation_mode", std::string(kCoord[a.i("coord")]));
  set_attr(n, "nearest_mode", std::string(kNearest[a.i("nearest")]));
}

void batch_norm(Emit& e) {
  const auto& a = e.op().attrs;
  CONVNET_CHECK(a.i("batch_stats") == 0, "ONNX export: ", e.label(),
                " normalizes with batch statistics (a BatchNorm without running statistics, "
                "track_running_stats=false); only BatchNorm with running statistics can be exported");
  const int64_t C = in_shape(e)[1];
  auto param = [&](size_t i, float fill, const char* hint) {
    return e.op().inputs[i].defined() ? e.in(i) : e.const_floats(hint, std::vector<float>(C, fill), {C});
  };
  auto& n = e.node("BatchNormalization", {e.in(0), param(1, 1.f, "scale"), param(2, 0.f, "bias"), e.in(3), e.in(4)},
                   {e.out()});
  set_attr(n, "epsilon", static_cast<float>(a.f("eps")));
  // ONNX: running = momentum * running + (1 - momentum) * batch; PyTorch weighs the batch by its momentum.
  set_attr(n, "momentum", static_cast<float>(1.0 - a.f("momentum")));
}

// ONNX's pooling output size (opset 13): floor or ceil of (in + pads - dilated kernel) / s + 1,
// without PyTorch's rule that a ceil_mode window must start inside the input.
int64_t onnx_pool_size(int64_t in, int64_t k, int64_t s, int64_t pb, int64_t pe, int64_t d, bool ceil_mode) {
  const int64_t span = in + pb + pe - ((k - 1) * d + 1);
  return (ceil_mode ? (span + s - 1) / s : span / s) + 1;
}

Emitter pool(const char* type, bool is_max) {
  return [type, is_max](Emit& e) {
    const auto& a = e.op().attrs;
    const auto &k = a.v("kernel"), &s = a.v("stride"), &p = a.v("pads"), &d = a.v("dilation");
    const bool ceil_mode = a.i("ceil_mode") != 0;
    const Shape &x = in_shape(e), &y = out_shape(e);
    for (int i = 0; i < 2; ++i) {
      const int64_t want = onnx_pool_size(x[2 + i], k[i], s[i], p[i], p[2 + i], d[i], ceil_mode);
      CONVNET_CHECK(want == y[2 + i], "ONNX export: ", e.label(), ": ONNX's ", type, " would give ",
                    i == 0 ? "height " : "width ", want, " where this model gives ", y[2 + i],
                    " (ceil_mode with a last window that starts in the padding); input of shape ", shape_str(x));
    }
    // Average pooling with ceil_mode: PyTorch divides a last window that hangs over the
    // padded input by the part of it inside the padded input, ONNX Runtime by the whole
    // kernel when count_include_pad = 1. Written so that every reader computes PyTorch's
    // numbers: without padding, count_include_pad = 0 (the part inside the input is all there
    // is); with padding, a zero Pad that also covers the overhang, a plain average over whole
    // windows, and a constant factor per output position, kernel size / PyTorch's divisor
    // (not a Pad followed by count_include_pad = 0: ONNX Runtime 1.23 folds such a Pad into
    // the pooling and then divides by the whole kernel).
    bool include_pad = !is_max && a.i("count_include_pad") != 0;
    std::vector<int64_t> over(2, 0);
    for (int i = 0; i < 2; ++i) over[i] = std::max<int64_t>(0, (y[2 + i] - 1) * s[i] + k[i] - (x[2 + i] + p[i] + p[2 + i]));
    std::vector<int64_t> pads = p;
    std::string in = e.in(0), out = e.out();
    bool scale = false;
    if (include_pad && ceil_mode && (over[0] > 0 || over[1] > 0)) {
      if (p[0] || p[1] || p[2] || p[3]) {
        in = e.tmp("padded");
        e.node("Pad", {e.in(0), e.const_ints("pads", {0, 0, p[0], p[1], 0, 0, p[2] + over[0], p[3] + over[1]}, {8})},
               {in});
        pads = {0, 0, 0, 0};
        out = e.tmp("window_means");
        scale = true;
      } else {
        include_pad = false;
      }
    }
    if (scale) {
      // Whole windows over the padded input: no ceil_mode left.
      auto& n = e.node(type, {in}, {out});
      set_attr(n, "kernel_shape", k);
      set_attr(n, "strides", s);
      set_attr(n, "pads", pads);
      set_attr(n, "count_include_pad", int64_t{1});
      const int64_t OH = y[2], OW = y[3];
      std::vector<float> f(static_cast<size_t>(OH * OW));
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          const int64_t h0 = oh * s[0] - p[0], w0 = ow * s[1] - p[1];
          const int64_t dh = std::min(h0 + k[0], x[2] + p[2]) - h0, dw = std::min(w0 + k[1], x[3] + p[3]) - w0;
          f[static_cast<size_t>(oh * OW + ow)] = static_cast<float>(static_cast<double>(k[0] * k[1]) / static_cast<double>(dh * dw));
        }
      e.node("Mul", {out, e.const_floats("divisor_fix", f, {OH, OW})}, {e.out()});
      return;
    }
    auto& n = e.node(type, {in}, {e.out()});
    set_attr(n, "kernel_shape", k);
    set_attr(n, "strides", s);
    set_attr(n, "pads", pads);
    if (ceil_mode) set_attr(n, "ceil_mode", int64_t{1});
    if (is_max && (d[0] != 1 || d[1] != 1)) set_attr(n, "dilations", d);
    if (!is_max) set_attr(n, "count_include_pad", int64_t{include_pad ? 1 : 0});
  };
}

// Adaptive pooling has no ONNX operator; the output size is fixed by the traced input:
// global pooling for 1x1, a plain pooling when the windows tile the input evenly, and for
// average pooling otherwise a product with the constant (H*W, OH*OW) averaging matrix.
Emitter adaptive(bool is_max) {
  return [is_max](Emit& e) {
    const Shape &x = in_shape(e), &y = out_shape(e);
    const int64_t H = x[2], W = x[3], OH = y[2], OW = y[3];
    if (OH == 1 && OW == 1) {
      e.node(is_max ? "GlobalMaxPool" : "GlobalAveragePool", {e.in(0)}, {e.out()});
      return;
    }
    if (H % OH == 0 && W % OW == 0) {
      auto& n = e.node(is_max ? "MaxPool" : "AveragePool", {e.in(0)}, {e.out()});
      set_attr(n, "kernel_shape", std::vector<int64_t>{H / OH, W / OW});
      set_attr(n, "strides", std::vector<int64_t>{H / OH, W / OW});
      return;
    }
    CONVNET_CHECK(!is_max, "ONNX export: ", e.label(), ": adaptive max pooling from ", H, "x", W, " to ", OH, "x", OW,
                  " has overlapping or uneven windows, which ONNX cannot express; export at an input size where ",
                  "the size before this layer is a multiple of ", OH, "x", OW);
    // Window rows floor(oh*H/OH) .. ceil((oh+1)*H/OH) - 1, as ops/pool2d.h.
    std::vector<float> m(static_cast<size_t>(H * W * OH * OW), 0.f);
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        const int64_t h0 = oh * H / OH, h1 = ((oh + 1) * H + OH - 1) / OH;
        const int64_t w0 = ow * W / OW, w1 = ((ow + 1) * W + OW - 1) / OW;
        const float inv = 1.f / static_cast<float>((h1 - h0) * (w1 - w0));
        for (int64_t h = h0; h < h1; ++h)
          for (int64_t w = w0; w < w1; ++w) m[static_cast<size_t>((h * W + w) * OH * OW + oh * OW + ow)] = inv;
      }
    const std::string flat = e.tmp("flat"), pooled = e.tmp("pooled");
    e.node("Reshape", {e.in(0), e.const_ints("flat_shape", {0, 0, -1}, {3})}, {flat});
    e.node("MatMul", {flat, e.const_floats("window_means", m, {H * W, OH * OW})}, {pooled});
    e.node("Reshape", {pooled, e.const_ints("out_shape", {0, 0, OH, OW}, {4})}, {e.out()});
  };
}

// Clip with the bounds as scalar inputs (opset >= 11); an infinite bound is left out.
void clip(Emit& e, double lo, double hi) {
  std::vector<std::string> ins{e.in(0)};
  ins.push_back(std::isinf(lo) ? "" : e.const_floats("min", {static_cast<float>(lo)}, {}));
  if (!std::isinf(hi)) ins.push_back(e.const_floats("max", {static_cast<float>(hi)}, {}));
  if (ins.back().empty()) ins.pop_back();
  e.node("Clip", ins, {e.out()});
}

// A reshape that keeps the batch dimension: Flatten(axis) when the result is
// (prod of the first `axis` dims, the rest); else Reshape with 0 (copy) for the batch.
void reshape(Emit& e) {
  const Shape &x = in_shape(e), &y = out_shape(e);
  if (y.size() == 2 && !x.empty()) {
    int64_t lead = 1;
    for (size_t k = 1; k <= x.size(); ++k) {
      lead *= x[k - 1];
      if (lead == y[0]) {
        set_attr(e.node("Flatten", {e.in(0)}, {e.out()}), "axis", static_cast<int64_t>(k));
        return;
      }
    }
  }
  std::vector<int64_t> s(y.begin(), y.end());
  if (!x.empty() && !y.empty() && x[0] == y[0]) s[0] = 0;  // ONNX Reshape: 0 copies the input's size
  e.node("Reshape", {e.in(0), e.const_ints("shape", s, {static_cast<int64_t>(s.size())})}, {e.out()});
}

void constant_pad(Emit& e) {
  const auto& p = e.op().attrs.v("pads");
  const std::string pads = e.const_ints("pads", p, {static_cast<int64_t>(p.size())});
  const std::string value = e.const_floats("value", {static_cast<float>(e.op().attrs.f("value"))}, {});
  e.node("Pad", {e.in(0), pads, value}, {e.out()});  // mode "constant", the default
}

// Reflect / replicate padding: Pad with mode "reflect" / "edge" (circular needs opset 19's
// "wrap": not exported).
Emitter index_pad(const char* onnx_mode) {
  return [onnx_mode](Emit& e) {
    const auto& p = e.op().attrs.v("pads");
    const std::string pads = e.const_ints("pads", p, {static_cast<int64_t>(p.size())});
    set_attr(e.node("Pad", {e.in(0), pads}, {e.out()}), "mode", std::string(onnx_mode));
  };
}

// The activations opset 13 has no operator for, written as torch.onnx.export writes them
// at opset 13: hardswish as x * HardSigmoid(x), silu as x * Sigmoid(x), gelu through Erf
// (or Tanh for the tanh form); softplus with beta != 1 as Softplus(beta x) / beta.
void hardswish(Emit& e) {
  const std::string g = e.tmp("hardsigmoid");
  auto& n = e.node("HardSigmoid", {e.in(0)}, {g});
  set_attr(n, "alpha", 1.f / 6.f);
  set_attr(n, "beta", 0.5f);
  e.node("Mul", {e.in(0), g}, {e.out()});
}
void silu(Emit& e) {
  const std::string s = e.tmp("sigmoid");
  e.node("Sigmoid", {e.in(0)}, {s});
  e.node("Mul", {e.in(0), s}, {e.out()});
}
void gelu(Emit& e) {
  const std::string x = e.in(0), half = e.const_floats("half", {0.5f}, {}), one = e.const_floats("one", {1.f}, {});
  const std::string d = e.tmp("div"), f = e.tmp("erf"), a = e.tmp("add"), m = e.tmp("mul");
  e.node("Div", {x, e.const_floats("sqrt2", {1.41421356237f}, {})}, {d});
  e.node("Erf", {d}, {f});
  e.node("Add", {f, one}, {a});
  e.node("Mul", {x, a}, {m});
  e.node("Mul", {m, half}, {e.out()});
}
void gelu_tanh(Emit& e) {
  const std::string x = e.in(0);
  const std::string x2 = e.tmp("x2"), x3 = e.tmp("x3"), k = e.tmp("kx3"), s = e.tmp("sum"), b = e.tmp("inner"),
                    t = e.tmp("tanh"), a = e.tmp("add"), h = e.tmp("halfx");
  e.node("Mul", {x, x}, {x2});
  e.node("Mul", {x2, x}, {x3});
  e.node("Mul", {x3, e.const_floats("kappa", {0.044715f}, {})}, {k});
  e.node("Add", {x, k}, {s});
  e.node("Mul", {s, e.const_floats("beta", {0.7978845608f}, {})}, {b});
  e.node("Tanh", {b}, {t});
  e.node("Add", {t, e.const_floats("one", {1.f}, {})}, {a});
  e.node("Mul", {x, e.const_floats("half", {0.5f}, {})}, {h});
  e.node("Mul", {h, a}, {e.out()});
}
void softplus(Emit& e) {
  const float beta = static_cast<float>(e.op().attrs.f("alpha"));
  if (beta == 1.f) {
    e.node("Softplus", {e.in(0)}, {e.out()});
    return;
  }
  const std::string bx = e.tmp("scaled"), sp = e.tmp("softplus");
  e.node("Mul", {e.in(0), e.const_floats("beta", {beta}, {})}, {bx});
  e.node("Softplus", {bx}, {sp});
  e.node("Div", {sp, e.const_floats("beta", {beta}, {})}, {e.out()});
}

}  // namespace

const std::map<std::string, Emitter>& emitters() {
  static const std::map<std::string, Emitter> table = [] {
    std::map<std::string, Emitter> t;
    t["conv2d"] = conv2d;
    t["linear"] = linear;
    t["batch_norm"] = batch_norm;
    t["max_pool2d"] = pool("MaxPool", true);
    t["avg_pool2d"] = pool("AveragePool", false);
    t["adaptive_avg_pool2d"] = t["global_avg_pool2d"] = adaptive(false);
    t["adaptive_max_pool2d"] = t["global_max_pool2d"] = adaptive(true);
    t["relu"] = unary("Relu");
    t["tanh"] = unary("Tanh");
    t["sigmoid"] = unary("Sigmoid");
    t["leaky_relu"] = [](Emit& e) {
      set_attr(e.node("LeakyRelu", {e.in(0)}, {e.out()}), "alpha", static_cast<float>(e.op().attrs.f("alpha")));
    };
    t["relu6"] = [](Emit& e) { clip(e, 0.0, 6.0); };
    t["hardsigmoid"] = [](Emit& e) {
      auto& n = e.node("HardSigmoid", {e.in(0)}, {e.out()});
      set_attr(n, "alpha", 1.f / 6.f);
      set_attr(n, "beta", 0.5f);
    };
    t["hardswish"] = hardswish;
    t["silu"] = silu;
    t["gelu"] = gelu;
    t["gelu_tanh"] = gelu_tanh;
    t["elu"] = [](Emit& e) {
      set_attr(e.node("Elu", {e.in(0)}, {e.out()}), "alpha", static_cast<float>(e.op().attrs.f("alpha")));
    };
    t["selu"] = unary("Selu");  // ONNX's default alpha and gamma are SELU's constants
    t["softplus"] = softplus;
    t["softsign"] = unary("Softsign");
    t["exp"] = unary("Exp");
    t["abs"] = unary("Abs");
    t["sqrt"] = unary("Sqrt");
    t["erf"] = unary("Erf");
    t["floor"] = unary("Floor");
    t["ceil"] = unary("Ceil");
    t["reciprocal"] = unary("Reciprocal");
    t["log"] = unary("Log");
    t["layer_norm"] = layer_norm;
    t["conv3d"] = conv3d;
    t["max_pool3d"] = pool3d(true);
    t["avg_pool3d"] = pool3d(false);
    t["conv_transpose2d"] = conv_transpose2d;
    t["resize"] = resize;
    t["reflect_pad"] = index_pad("reflect");
    t["replicate_pad"] = index_pad("edge");
    t["group_norm"] = group_norm;
    t["prelu"] = [](Emit& e) {
      // ONNX broadcasts the slope from the right: one per channel becomes (C, 1, ..., 1).
      const Shape& x = e.op().inputs.at(0).shape();
      const int64_t c = e.op().inputs.at(1).numel();
      std::string slope = e.in(1);
      if (c > 1 && x.size() > 2) {
        std::vector<int64_t> dims(x.size() - 1, 1);
        dims[0] = c;
        const std::string r = e.tmp("slope");
        e.node("Reshape", {slope, e.const_ints("shape", dims, {static_cast<int64_t>(dims.size())})}, {r});
        slope = r;
      }
      e.node("PRelu", {e.in(0), slope}, {e.out()});
    };
    t["clamp"] = [](Emit& e) { clip(e, e.op().attrs.f("min"), e.op().attrs.f("max")); };
    t["add"] = binary("Add");
    t["sub"] = binary("Sub");
    t["mul"] = binary("Mul");
    t["div"] = binary("Div");
    t["maximum"] = binary("Max");
    t["minimum"] = binary("Min");
    t["pow"] = binary("Pow");
    t["matmul"] = binary("MatMul");
    t["where"] = [](Emit& e) {  // the condition is a float 0 / 1 mask here: a boolean in ONNX
      const std::string c = e.tmp("cond");
      set_attr(e.node("Cast", {e.in(0)}, {c}), "to", int64_t{onnx::TensorProto::BOOL});
      e.node("Where", {c, e.in(1), e.in(2)}, {e.out()});
    };
    t["mul_scalar"] = [](Emit& e) {
      e.node("Mul", {e.in(0), e.const_floats("scalar", {static_cast<float>(e.op().attrs.f("scalar"))}, {})}, {e.out()});
    };
    t["concat"] = [](Emit& e) {
      std::vector<std::string> ins;
      for (size_t i = 0; i < e.op().inputs.size(); ++i) ins.push_back(e.in(i));
      set_attr(e.node("Concat", ins, {e.out()}), "axis", e.op().attrs.i("dim"));
    };
    t["reshape"] = reshape;
    t["softmax"] = [](Emit& e) { set_attr(e.node("Softmax", {e.in(0)}, {e.out()}), "axis", e.op().attrs.i("dim")); };
    t["log_softmax"] = [](Emit& e) {
      set_attr(e.node("LogSoftmax", {e.in(0)}, {e.out()}), "axis", e.op().attrs.i("dim"));
    };
    t["constant_pad"] = constant_pad;
    t["permute"] = [](Emit& e) { set_attr(e.node("Transpose", {e.in(0)}, {e.out()}), "perm", e.op().attrs.v("dims")); };
    t["broadcast_to"] = [](Emit& e) {
      const Shape& y = out_shape(e);
      e.node("Expand", {e.in(0), e.const_ints("shape", {y.begin(), y.end()}, {static_cast<int64_t>(y.size())})},
             {e.out()});
    };
    return t;
  }();
  return table;
}

}  // namespace convnet::io::export_impl
