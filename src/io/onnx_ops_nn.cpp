// ONNX neural-network operators as convnet ops: Conv, BatchNormalization, MaxPool,
// AveragePool, GlobalAveragePool, GlobalMaxPool, Gemm, MatMul, Relu, LeakyRelu, Sigmoid,
// Tanh, Clip, Softmax, LogSoftmax, Dropout.
// 1-D convolution and pooling ((N, C, L) inputs) run as 2-D with H = 1.
#include <array>
#include <cmath>
#include <limits>
#include <optional>

#include "convnet/autograd/autograd.h"
#include "convnet/core/rng.h"
#include "convnet/ops/activation.h"
#include "convnet/ops/batch_norm.h"
#include "convnet/ops/broadcast.h"
#include "convnet/ops/clamp.h"
#include "convnet/ops/conv2d.h"
#include "convnet/ops/conv_transpose.h"
#include "convnet/ops/dropout.h"
#include "convnet/ops/elementwise.h"
#include "convnet/ops/interpolate.h"
#include "convnet/ops/linear.h"
#include "convnet/ops/norm.h"
#include "convnet/ops/pad.h"
#include "convnet/ops/permute.h"
#include "convnet/ops/pool2d.h"
#include "convnet/ops/softmax.h"
#include "convnet/ops/volumetric.h"
#include "io/onnx_internal.h"

namespace convnet::io::onnx_impl {

namespace {

using Pair = std::array<int64_t, 2>;

// Convolution/pooling attributes as ONNX writes them for nd spatial dimensions (empty =
// the default), resolved at run time against the input, lifted to 2-D.
struct Window {
  std::vector<int64_t> kernel, strides, dilations, pads;
  std::string auto_pad = "NOTSET";
};

struct Geometry {
  Pair k, s, d, begin, end;  // (H, W); 1-D: H is a dummy 1 (kernel 1, stride 1, no padding)
};

Window read_window(const NodeView& v, bool with_dilations) {
  Window w;
  w.kernel = v.get_ints("kernel_shape");
  w.strides = v.get_ints("strides");
  if (with_dilations) w.dilations = v.get_ints("dilations");
  w.pads = v.get_ints("pads");
  w.auto_pad = v.get_string("auto_pad", "NOTSET");
  if (w.kernel.size() > 3)
    throw Unsupported{std::to_string(w.kernel.size()) + "-D windows (1-D, 2-D and 3-D are supported)"};
  CONVNET_CHECK(
      w.auto_pad == "NOTSET" || w.auto_pad == "SAME_UPPER" || w.auto_pad == "SAME_LOWER" || w.auto_pad == "VALID",
      v.label(), ": unknown auto_pad '", w.auto_pad, "'");
  return w;
}

// The window resolved against the input, one entry per spatial dimension.
struct GeometryN {
  std::vector<int64_t> k, s, d, begin, end;
  bool symmetric() const { return begin == end; }
};

// kernel: the kernel sizes (from kernel_shape or the weight); spatial: the input's sizes.
GeometryN resolve_nd(const Window& w, const std::vector<int64_t>& kernel, const Shape& spatial) {
  const size_t nd = spatial.size();
  CONVNET_CHECK(nd >= 1 && nd <= 3, "only 1-D, 2-D and 3-D windows are supported, got ", nd, " spatial dimensions");
  CONVNET_CHECK(kernel.size() == nd, "kernel_shape ", list_str(kernel), " does not fit ", nd, " spatial dimensions");
  auto or_fill = [&](const std::vector<int64_t>& v, size_t n, int64_t fill, const char* what) {
    CONVNET_CHECK(v.empty() || v.size() == n, what, " ", list_str(v), " should have ", n, " entries");
    return v.empty() ? std::vector<int64_t>(n, fill) : v;
  };
  const auto s = or_fill(w.strides, nd, 1, "strides"), d = or_fill(w.dilations, nd, 1, "dilations");
  auto p = or_fill(w.pads, 2 * nd, 0, "pads");
  if (w.auto_pad == "VALID") std::fill(p.begin(), p.end(), 0);
  if (w.auto_pad == "SAME_UPPER" || w.auto_pad == "SAME_LOWER") {
    // Output size ceil(in / stride); the total padding that gives it, the odd one at the
    // end (SAME_UPPER) or at the beginning (SAME_LOWER).
    for (size_t i = 0; i < nd; ++i) {
      const int64_t out = (spatial[i] + s[i] - 1) / s[i];
      const int64_t total = std::max<int64_t>(0, (out - 1) * s[i] + (kernel[i] - 1) * d[i] + 1 - spatial[i]);
      const int64_t small = total / 2;
      p[i] = w.auto_pad == "SAME_UPPER" ? small : total - small;
      p[i + nd] = total - p[i];
    }
  }
  return {kernel, s, d, std::vector<int64_t>(p.begin(), p.begin() + static_cast<int64_t>(nd)),
          std::vector<int64_t>(p.begin() + static_cast<int64_t>(nd), p.end())};
}

// 1-D and 2-D windows lifted to 2-D (1-D: H is a dummy 1).
Geometry resolve(const Window& w, const std::vector<int64_t>& kernel, const Shape& spatial) {
  const size_t nd = spatial.size();
  CONVNET_CHECK(nd == 1 || nd == 2, "only 1-D and 2-D windows are supported here, got ", nd, " spatial dimensions");
  const GeometryN n = resolve_nd(w, kernel, spatial);
  Geometry g{{1, 1}, {1, 1}, {1, 1}, {0, 0}, {0, 0}};
  const size_t off = 2 - nd;
  for (size_t i = 0; i < nd; ++i) {
    g.k[off + i] = n.k[i];
    g.s[off + i] = n.s[i];
    g.d[off + i] = n.d[i];
    g.begin[off + i] = n.begin[i];
    g.end[off + i] = n.end[i];
  }
  return g;
}

std::array<int64_t, 3> triple(const std::vector<int64_t>& v) {
  return {v[0], v[1], v[2]};
}
// Explicit padding of the three spatial dimensions of (N, C, D, H, W).
Tensor pad_dhw(const Tensor& x, const GeometryN& g, float value) {
  return ops::constant_pad(x, {{0, 0}, {0, 0}, {g.begin[0], g.end[0]}, {g.begin[1], g.end[1]}, {g.begin[2], g.end[2]}},
                           value);
}

// Conv over (N, C, D, H, W): ops::conv3d, asymmetric padding made explicit.
Tensor conv_3d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Window& w, int64_t group) {
  const std::vector<int64_t> kernel(weight.shape().begin() + 2, weight.shape().end());
  const GeometryN g = resolve_nd(w, kernel, Shape(x.shape().begin() + 2, x.shape().end()));
  Conv3dArgs a;
  a.stride = triple(g.s);
  a.dilation = triple(g.d);
  a.groups = group;
  if (g.symmetric()) {
    a.padding = triple(g.begin);
    return ops::conv3d(x, weight, bias, a, "Conv");
  }
  return ops::conv3d(pad_dhw(x, g, 0.f), weight, bias, a, "Conv");
}

// MaxPool / AveragePool over (N, C, D, H, W), as the 2-D path: padding that PyTorch's rule
// does not allow is made explicit (-inf for max; zeros for average, with the divisor
// corrected when count_include_pad is 0).
Tensor pool_3d(const Tensor& x, const Window& w, bool is_max, bool ceil_mode, bool include_pad) {
  const GeometryN g = resolve_nd(w, w.kernel, Shape(x.shape().begin() + 2, x.shape().end()));
  Pool3dArgs a;
  a.kernel = triple(g.k);
  a.stride = triple(g.s);
  a.dilation = triple(g.d);
  a.ceil_mode = ceil_mode;
  a.count_include_pad = include_pad;
  bool native = g.symmetric();
  for (int i = 0; i < 3; ++i) native = native && g.begin[i] <= g.k[i] / 2;
  if (native) {
    a.padding = triple(g.begin);
    return is_max ? ops::max_pool3d(x, a, "MaxPool") : ops::avg_pool3d(x, a, "AveragePool");
  }
  if (is_max) return ops::max_pool3d(pad_dhw(x, g, -std::numeric_limits<float>::infinity()), a, "MaxPool");
  a.count_include_pad = true;
  Tensor y = ops::avg_pool3d(pad_dhw(x, g, 0.f), a, "AveragePool");
  if (include_pad) return y;
  NoGradGuard no_grad;
  Tensor inside = ops::avg_pool3d(pad_dhw(Tensor::ones({1, 1, x.size(2), x.size(3), x.size(4)}), g, 0.f), a);
  float* r = inside.data();
  for (int64_t i = 0; i < inside.numel(); ++i) r[i] = r[i] > 0.f ? 1.f / r[i] : 0.f;
  return ops::mul(y, ops::broadcast_to(inside, y.shape()));
}

// (N, C, L) -> (N, C, 1, L), so 1-D runs through the 2-D ops.
Tensor lift(const Tensor& x) {
  return x.dim() == 3 ? x.reshape({x.size(0), x.size(1), 1, x.size(2)}) : x;
}
Tensor unlift(const Tensor& y, int64_t nd) {
  return nd == 1 ? y.reshape({y.size(0), y.size(1), y.size(3)}) : y;
}
Shape spatial_of(const Tensor& x) {
  return Shape(x.shape().begin() + 2, x.shape().end());
}
Tensor pad_hw(const Tensor& x, const Geometry& g, float value) {
  return ops::constant_pad(x, {{0, 0}, {0, 0}, {g.begin[0], g.end[0]}, {g.begin[1], g.end[1]}}, value);
}

// ConvTranspose, 2-D: strides, dilations, group, output_padding and symmetric pads. The
// output_shape attribute, auto_pad and asymmetric pads are refused by name.
Kernel build_conv_transpose(const NodeView& v) {
  if (v.has("output_shape")) throw Unsupported{"the output_shape attribute (give pads and output_padding)"};
  const std::string auto_pad = v.get_string("auto_pad", "NOTSET");
  if (auto_pad != "NOTSET") throw Unsupported{"auto_pad " + auto_pad};
  const auto pads = v.get_ints("pads", {0, 0, 0, 0}), strides = v.get_ints("strides", {1, 1});
  const auto dil = v.get_ints("dilations", {1, 1}), outpad = v.get_ints("output_padding", {0, 0});
  if (pads.size() != 4 || strides.size() != 2 || dil.size() != 2 || outpad.size() != 2)
    throw Unsupported{"non-2-D windows (only 2-D transposed convolutions are supported)"};
  if (pads[0] != pads[2] || pads[1] != pads[3]) throw Unsupported{"asymmetric pads"};
  ops::ConvTranspose2dArgs a;
  a.stride = {strides[0], strides[1]}, a.padding = {pads[0], pads[1]}, a.dilation = {dil[0], dil[1]};
  a.output_padding = {outpad[0], outpad[1]}, a.groups = v.get_int("group", 1);
  return [a](const Inputs& in, const RunCtx&) {
    const Tensor bias = in.size() > 2 && in[2] ? float_input(in, 2, "B") : Tensor();
    return std::vector<OnnxValue>{OnnxValue::of(
        ops::conv_transpose2d(float_input(in, 0, "X"), float_input(in, 1, "W"), bias, a, "ConvTranspose"))};
  };
}

// Resize (opset 10: X, scales; 11+: X, roi, scales, sizes) and Upsample (opset 7-9: scales as
// an attribute, then an input; asymmetric coordinates): 4-D input, batch and channels kept,
// modes nearest and linear with every coordinate transformation but tf_crop_and_resize.
Kernel build_resize(const NodeView& v, bool upsample) {
  ops::ResizeArgs a;
  const std::string mode = v.get_string("mode", "nearest");
  if (mode != "nearest" && mode != "linear" && mode != "bilinear") throw Unsupported{"mode " + mode};
  a.mode = mode == "nearest" ? "nearest" : "linear";
  if (upsample || v.opset() < 11) {
    a.coordinate_transformation_mode = "asymmetric";  // Resize-10 and Upsample
    a.nearest_mode = "floor";
  } else {
    a.coordinate_transformation_mode = v.get_string("coordinate_transformation_mode", "half_pixel");
    a.nearest_mode = v.get_string("nearest_mode", "round_prefer_floor");
  }
  const std::string& ct = a.coordinate_transformation_mode;
  if (ct != "half_pixel" && ct != "pytorch_half_pixel" && ct != "align_corners" && ct != "asymmetric")
    throw Unsupported{"coordinate_transformation_mode " + ct};
  if (v.get_int("antialias", 0) != 0) throw Unsupported{"antialias"};
  if (v.has("axes")) throw Unsupported{"the axes attribute"};
  if (v.get_string("keep_aspect_ratio_policy", "stretch") != "stretch") throw Unsupported{"keep_aspect_ratio_policy"};
  const std::vector<float> attr_scales = upsample && v.opset() < 9 ? v.get_floats("scales") : std::vector<float>{};
  const bool from_attr = upsample && v.opset() < 9;
  const int scales_at = upsample || v.opset() < 11 ? 1 : 2;
  return [a, attr_scales, from_attr, scales_at](const Inputs& in, const RunCtx&) mutable {
    const Tensor& x = float_input(in, 0, "X");
    CONVNET_CHECK(x.dim() == 4, "only 4-D inputs (N, C, H, W) are resized, got ", shape_str(x.shape()));
    std::vector<double> scales;
    std::vector<int64_t> sizes;
    if (from_attr) {
      scales.assign(attr_scales.begin(), attr_scales.end());
    } else {
      if (scales_at == 2 && in.size() > 3 && in[3] && in[3]->defined() && !in[3]->shape().empty() &&
          shape_numel(in[3]->shape()) > 0)
        sizes = int_input(in, 3, "sizes").ints;
      if (sizes.empty() && static_cast<int>(in.size()) > scales_at && in[scales_at] && in[scales_at]->defined()) {
        const OnnxValue& s = *in[scales_at];
        const Tensor t = s.is_int ? Tensor() : s.tensor;
        for (int64_t i = 0; t.defined() && i < t.numel(); ++i) scales.push_back(t.data()[i]);
      }
    }
    std::array<int64_t, 2> out{};
    if (!sizes.empty()) {
      CONVNET_CHECK(sizes.size() == 4 && sizes[0] == x.size(0) && sizes[1] == x.size(1), "sizes ", list_str(sizes),
                    " must keep the batch and channels of X ", shape_str(x.shape()));
      out = {sizes[2], sizes[3]};
    } else {
      CONVNET_CHECK(scales.size() == 4 && scales[0] == 1 && scales[1] == 1, "scales must be 4 values with 1 for the ",
                    "batch and channels, for X ", shape_str(x.shape()));
      a.scales = {scales[2], scales[3]};
      out = {static_cast<int64_t>(std::floor(static_cast<double>(x.size(2)) * scales[2])),
             static_cast<int64_t>(std::floor(static_cast<double>(x.size(3)) * scales[3]))};
    }
    return std::vector<OnnxValue>{OnnxValue::of(ops::resize(x, out, a, "Resize"))};
  };
}

Kernel build_conv(const NodeView& v) {
  const Window w = read_window(v, true);
  const int64_t group = v.get_int("group", 1);
  // A 2-D window with its kernel_shape and explicit (or no) padding does not depend on the
  // input: resolved once here instead of on every call (a small image's call is short).
  std::optional<Geometry> fixed;
  if (w.kernel.size() == 2 && (w.auto_pad == "NOTSET" || w.auto_pad == "VALID")) {
    try {
      fixed = resolve(w, w.kernel, Shape(2, 0));
    } catch (const Error&) {
      // a malformed window: the call resolves it, and reports it with the node
    }
  }
  return [w, group, fixed](const Inputs& in, const RunCtx& ctx) {
    const Tensor& x = float_input(in, 0, "X");
    const Tensor& weight = float_input(in, 1, "W");
    const Tensor bias = in.size() > 2 && in[2] ? float_input(in, 2, "B") : Tensor();
    const int64_t nd = weight.dim() - 2;
    CONVNET_CHECK(nd >= 1 && nd <= 3, "W of shape ", shape_str(weight.shape()),
                  ": only 1-D, 2-D and 3-D convolutions are supported");
    CONVNET_CHECK(x.dim() == nd + 2, "X of shape ", shape_str(x.shape()), " should have rank ", nd + 2,
                  " for W of shape ", shape_str(weight.shape()));
    const bool use_fixed = fixed && nd == 2 && weight.size(2) == w.kernel[0] && weight.size(3) == w.kernel[1];
    std::vector<int64_t> kernel;
    if (!use_fixed) {
      kernel.assign(weight.shape().begin() + 2, weight.shape().end());
      CONVNET_CHECK(w.kernel.empty() || w.kernel == kernel, "kernel_shape ", list_str(w.kernel),
                    " does not match W of shape ", shape_str(weight.shape()));
    }
    if (nd == 3) return std::vector<OnnxValue>{OnnxValue::of(conv_3d(x, weight, bias, w, group))};
    const Geometry g = use_fixed ? *fixed : resolve(w, kernel, spatial_of(x));
    Conv2dArgs a;
    a.stride = g.s;
    a.dilation = g.d;
    a.groups = group;
    Tensor x4 = lift(x);
    const Tensor w4 = lift(weight);
    if (g.begin == g.end)
      a.padding = Padding(g.begin[0], g.begin[1]);
    else
      x4 = pad_hw(x4, g, 0.f);  // asymmetric padding: explicit zeros, then a valid convolution
    if (ctx.fuse) {             // an inference graph's fused epilogue (onnx_optimize.cpp)
      ConvEpilogue e{ctx.fuse->act, ctx.fuse->lo, ctx.fuse->hi, {}};
      if (ctx.fuse->residual_input >= 0) {
        const Tensor& r = float_input(in, ctx.fuse->residual_input, "residual");
        if (ctx.residual_owned && nd == 2) {  // the runner handed over its own copy: taken, not copied
          e.residual = std::move(const_cast<Tensor&>(r));
          e.residual_reusable = true;
        } else {
          e.residual = lift(r);
        }
      }
      return std::vector<OnnxValue>{OnnxValue::of(unlift(ops::conv2d_fused(x4, w4, bias, a, e, "Conv"), nd))};
    }
    return std::vector<OnnxValue>{OnnxValue::of(unlift(ops::conv2d(x4, w4, bias, a, "Conv"), nd))};
  };
}

Kernel build_pool(const NodeView& v, bool is_max) {
  if (is_max && v.output_used(1)) throw Unsupported{"the Indices output"};
  const Window w = read_window(v, is_max);
  CONVNET_CHECK(!w.kernel.empty(), v.label(), ": kernel_shape is required");
  const bool ceil_mode = v.get_int("ceil_mode", 0) != 0;
  const bool include_pad = v.get_int("count_include_pad", 0) != 0;
  return [w, is_max, ceil_mode, include_pad](const Inputs& in, const RunCtx&) {
    const Tensor& x = float_input(in, 0, "X");
    const auto nd = static_cast<int64_t>(w.kernel.size());
    CONVNET_CHECK(x.dim() == nd + 2, "X of shape ", shape_str(x.shape()), " should have rank ", nd + 2,
                  " for kernel_shape ", list_str(w.kernel));
    if (nd == 3) return std::vector<OnnxValue>{OnnxValue::of(pool_3d(x, w, is_max, ceil_mode, include_pad))};
    const Geometry g = resolve(w, w.kernel, spatial_of(x));
    Pool2dArgs a;
    a.kernel = g.k;
    a.stride = g.s;
    a.dilation = g.d;
    a.ceil_mode = ceil_mode;
    a.count_include_pad = include_pad;
    const Tensor x4 = lift(x);
    // convnet's pooling pads symmetrically by at most half the kernel (PyTorch's rule);
    // other paddings are made explicit: -inf for max, zeros for average.
    const bool native = g.begin == g.end && g.begin[0] <= g.k[0] / 2 && g.begin[1] <= g.k[1] / 2;
    Tensor y;
    if (native) {
      a.padding = g.begin;
      y = is_max ? ops::max_pool2d(x4, a, "MaxPool") : ops::avg_pool2d(x4, a, "AveragePool");
    } else if (is_max) {
      y = ops::max_pool2d(pad_hw(x4, g, -std::numeric_limits<float>::infinity()), a, "MaxPool");
    } else {
      a.count_include_pad = true;
      y = ops::avg_pool2d(pad_hw(x4, g, 0.f), a, "AveragePool");
      if (!include_pad) {
        // y averages over whole windows; rescale each by window / (its elements inside x),
        // the same pooling applied to an indicator of x (a constant, no gradient).
        NoGradGuard no_grad;
        Tensor inside = ops::avg_pool2d(pad_hw(Tensor::ones({1, 1, x4.size(2), x4.size(3)}), g, 0.f), a);
        float* r = inside.data();
        for (int64_t i = 0; i < inside.numel(); ++i) r[i] = r[i] > 0.f ? 1.f / r[i] : 0.f;
        inside = ops::broadcast_to(inside, y.shape());
        y = ops::mul(y, inside);
      }
    }
    return std::vector<OnnxValue>{OnnxValue::of(unlift(y, nd))};
  };
}

Kernel build_global_pool(const NodeView&, bool is_max) {
  return [is_max](const Inputs& in, const RunCtx&) {
    const Tensor& x = float_input(in, 0, "X");
    CONVNET_CHECK(x.dim() == 3 || x.dim() == 4, "X of shape ", shape_str(x.shape()),
                  ": only (N, C, L) and (N, C, H, W) inputs are supported");
    const Tensor x4 = lift(x);
    Tensor y = is_max ? ops::global_max_pool2d(x4) : ops::global_avg_pool2d(x4);
    return std::vector<OnnxValue>{OnnxValue::of(unlift(y, x.dim() - 2))};
  };
}

Kernel build_batch_norm(const NodeView& v) {
  if (v.output_used(1) || v.output_used(2) || v.output_used(3) || v.output_used(4))
    throw Unsupported{"the running mean/variance outputs (train-mode graphs)"};
  if (v.opset() < 9 && v.get_int("spatial", 1) == 0) throw Unsupported{"spatial=0"};
  const double eps = v.get_float("epsilon", 1e-5f);
  // ONNX: running = momentum * running + (1 - momentum) * batch; PyTorch weighs the batch
  // by its momentum, so torch.onnx.export writes 1 - momentum (0.9 for the default 0.1).
  const double momentum = 1.0 - v.get_float("momentum", 0.9f);
  const bool always_batch_stats = v.get_int("training_mode", 0) != 0;
  return [eps, momentum, always_batch_stats](const Inputs& in, const RunCtx& ctx) {
    const Tensor& x = float_input(in, 0, "X");
    Tensor y = ops::batch_norm(x, float_input(in, 3, "input_mean"), float_input(in, 4, "input_var"),
                               float_input(in, 1, "scale"), float_input(in, 2, "B"), ctx.training || always_batch_stats,
                               momentum, eps, "BatchNormalization");
    return std::vector<OnnxValue>{OnnxValue::of(y)};
  };
}

// LayerNormalization (opset 17): normalized over the dimensions from `axis` on; Scale and B
// broadcast to those dimensions (usually exactly their shape). The Mean and InvStdDev
// outputs are training-only.
Kernel build_layer_norm(const NodeView& v) {
  if (v.get_int("stash_type", 1) != 1) throw Unsupported{"stash_type other than float"};
  const int64_t axis = v.get_int("axis", -1);
  const double eps = v.get_float("epsilon", 1e-5f);
  const bool stats = v.output_used(1) || v.output_used(2);
  return [axis, eps, stats](const Inputs& in, const RunCtx&) {
    const Tensor& x = float_input(in, 0, "X");
    const int64_t a = norm_axis(axis, x.dim(), "axis");
    const Shape ns(x.shape().begin() + a, x.shape().end());
    auto param = [&](size_t i, const char* what) {
      if (i >= in.size() || !in[i] || !in[i]->defined()) return Tensor();
      const Tensor& p = float_input(in, i, what);
      return p.shape() == ns ? p : ops::broadcast_to(p, ns, std::string("LayerNormalization (") + what + ")");
    };
    std::vector<OnnxValue> out{
        OnnxValue::of(ops::layer_norm(x, ns, param(1, "Scale"), param(2, "B"), eps, "LayerNormalization"))};
    if (stats) {
      // Mean and InvStdDev: x's shape with the normalized dimensions 1 (values only, no gradient).
      Shape s = x.shape();
      for (int64_t d = a; d < x.dim(); ++d) s[d] = 1;
      Tensor mean = Tensor::empty(s), inv = Tensor::empty(s);
      const int64_t D = shape_numel(ns);
      for (int64_t r = 0; r < mean.numel(); ++r) {
        const float* row = x.data() + r * D;
        double m = 0, q = 0;
        for (int64_t i = 0; i < D; ++i) m += row[i];
        m /= static_cast<double>(D);
        for (int64_t i = 0; i < D; ++i) q += (row[i] - m) * (row[i] - m);
        mean.data()[r] = static_cast<float>(m);
        inv.data()[r] = static_cast<float>(1 / std::sqrt(q / static_cast<double>(D) + eps));
      }
      out.push_back(OnnxValue::of(mean));
      out.push_back(OnnxValue::of(inv));
    }
    return out;
  };
}

// InstanceNormalization: each (sample, channel) plane normalized on its own, then the
// per-channel scale and bias: group norm with one group per channel.
Kernel build_instance_norm(const NodeView& v) {
  const double eps = v.get_float("epsilon", 1e-5f);
  return [eps](const Inputs& in, const RunCtx&) {
    const Tensor& x = float_input(in, 0, "input");
    CONVNET_CHECK(x.dim() >= 3, "expected an input (N, C, D1, ...), got ", shape_str(x.shape()));
    return std::vector<OnnxValue>{OnnxValue::of(ops::group_norm(
        x, x.size(1), float_input(in, 1, "scale"), float_input(in, 2, "B"), eps, "InstanceNormalization"))};
  };
}

Kernel build_gemm(const NodeView& v) {
  const float alpha = v.get_float("alpha", 1.f), beta = v.get_float("beta", 1.f);
  const bool trans_a = v.get_int("transA", 0) != 0, trans_b = v.get_int("transB", 0) != 0;
  return [=](const Inputs& in, const RunCtx&) {
    const Tensor& A = float_input(in, 0, "A");
    const Tensor& B = float_input(in, 1, "B");
    const Tensor C = in.size() > 2 && in[2] && beta != 0.f ? float_input(in, 2, "C") : Tensor();
    CONVNET_CHECK(A.dim() == 2 && B.dim() == 2, "A and B must be 2-D, got ", shape_str(A.shape()), " and ",
                  shape_str(B.shape()));
    const Tensor a = trans_a ? ops::transpose2d(A) : A;
    const Tensor w = trans_b ? B : ops::transpose2d(B);  // linear() takes (out, in): B^T
    // torch.onnx.export writes nn.Linear as Gemm(transB=1) with a 1-D bias: one linear().
    if (alpha == 1.f && beta == 1.f && C.defined() && C.dim() == 1 && C.size(0) == w.size(0))
      return std::vector<OnnxValue>{OnnxValue::of(ops::linear(a, w, C, "Gemm"))};
    Tensor y = ops::linear(a, w, Tensor(), "Gemm");
    if (alpha != 1.f) y = ops::mul(y, alpha);
    if (C.defined()) y = ops::add(y, ops::broadcast_to(beta == 1.f ? C : ops::mul(C, beta), y.shape(), "Gemm"), "Gemm");
    return std::vector<OnnxValue>{OnnxValue::of(y)};
  };
}

// Batched MatMul (NumPy's matmul): a 1-D operand gains a dimension (dropped after), the
// batch dimensions broadcast, then one GEMM per matrix.
Tensor batched_matmul(const Tensor& A, const Tensor& B) {
  const Tensor a = A.dim() == 1 ? A.reshape({1, A.size(0)}) : A;
  const Tensor b = B.dim() == 1 ? B.reshape({B.size(0), 1}) : B;
  const Shape sa(a.shape().begin(), a.shape().end() - 2), sb(b.shape().begin(), b.shape().end() - 2);
  const Shape batch = ops::broadcast_shapes(sa, sb, "MatMul");
  Shape fa = batch, fb = batch;
  fa.insert(fa.end(), a.shape().end() - 2, a.shape().end());
  fb.insert(fb.end(), b.shape().end() - 2, b.shape().end());
  if (batch.empty()) fa.insert(fa.begin(), 1), fb.insert(fb.begin(), 1);
  const Tensor y = ops::matmul(ops::broadcast_to(a, fa, "MatMul"), ops::broadcast_to(b, fb, "MatMul"), "MatMul");
  Shape out = batch;
  if (A.dim() > 1) out.push_back(A.size(-2));
  if (B.dim() > 1) out.push_back(B.size(-1));
  return y.reshape(out);
}

Kernel build_matmul(const NodeView&) {
  return [](const Inputs& in, const RunCtx&) {
    const Tensor& A = float_input(in, 0, "A");
    const Tensor& B = float_input(in, 1, "B");
    CONVNET_CHECK(A.dim() >= 1 && B.dim() >= 1 && A.size(-1) == B.size(B.dim() == 1 ? 0 : -2), "shapes ",
                  shape_str(A.shape()), " and ", shape_str(B.shape()), " cannot be multiplied");
    if (B.dim() > 2) return std::vector<OnnxValue>{OnnxValue::of(batched_matmul(A, B))};
    // A right operand of 1 or 2 dimensions (a layer's weight): one linear() over A's rows.
    const int64_t K = B.size(0);
    // As numpy.matmul: a 1-D A is a row (dropped after), a 1-D B a column (dropped after).
    const Tensor a = A.dim() == 1 ? A.reshape({1, K}) : A;
    const Tensor w = B.dim() == 1 ? B.reshape({1, K}) : ops::transpose2d(B);
    Tensor y = ops::linear(a, w, Tensor(), "MatMul");
    Shape out(A.shape().begin(), A.shape().end() - 1);
    if (B.dim() == 2) out.push_back(B.size(1));
    return std::vector<OnnxValue>{OnnxValue::of(y.reshape(out))};
  };
}

template <Tensor (*F)(const Tensor&)>
Kernel build_unary(const NodeView&) {
  return
      [](const Inputs& in, const RunCtx&) { return std::vector<OnnxValue>{OnnxValue::of(F(float_input(in, 0, "X")))}; };
}

// HardSigmoid(alpha, beta) = clamp(alpha x + beta, 0, 1). PyTorch's (1/6, 1/2) is
// ops::hardsigmoid; with beta 1/2 any alpha is hardsigmoid(6 alpha x) (paddle2onnx writes
// alpha 0.2); other betas run as the clamp itself (gradient 1 on the bounds, as clamp's).
Kernel build_hardsigmoid(const NodeView& v) {
  const double alpha = v.get_float("alpha", 0.2f), beta = v.get_float("beta", 0.5f);
  const bool half = std::abs(beta - 0.5) <= 1e-6, plain = half && std::abs(alpha - 1.0 / 6.0) < 1e-6;
  return [alpha, beta, half, plain](const Inputs& in, const RunCtx&) {
    const Tensor& x = float_input(in, 0, "X");
    if (!half) {
      const Tensor ax = ops::mul(x, static_cast<float>(alpha));
      return std::vector<OnnxValue>{OnnxValue::of(ops::clamp(
          ops::add(ax, Tensor::full(ax.shape(), static_cast<float>(beta)), "HardSigmoid"), 0, 1, "HardSigmoid"))};
    }
    return std::vector<OnnxValue>{
        OnnxValue::of(ops::hardsigmoid(plain ? x : ops::mul(x, static_cast<float>(6 * alpha))))};
  };
}
Kernel build_elu(const NodeView& v) {
  const double alpha = v.get_float("alpha", 1.f);
  return [alpha](const Inputs& in, const RunCtx&) {
    return std::vector<OnnxValue>{OnnxValue::of(ops::elu(float_input(in, 0, "X"), alpha))};
  };
}
// Selu: ONNX's defaults (the constants of SELU, as float32) run as ops::selu; other alpha
// and gamma as gamma * elu(x, alpha), which is the same function.
Kernel build_selu(const NodeView& v) {
  const double alpha = v.get_float("alpha", 1.67326319217681884765625f),
               gamma = v.get_float("gamma", 1.05070102214813232421875f);
  const bool standard = std::abs(alpha - 1.6732632423543772) <= 1e-6 && std::abs(gamma - 1.0507009873554805) <= 1e-6;
  return [alpha, gamma, standard](const Inputs& in, const RunCtx&) {
    const Tensor& x = float_input(in, 0, "X");
    return std::vector<OnnxValue>{
        OnnxValue::of(standard ? ops::selu(x) : ops::mul(ops::elu(x, alpha), static_cast<float>(gamma)))};
  };
}
Kernel build_gelu(const NodeView& v) {
  const std::string approximate = v.get_string("approximate", "none");
  if (approximate != "none" && approximate != "tanh")
    throw Unsupported{"approximate '" + approximate + "' (\"none\" and \"tanh\" are supported)"};
  return [approximate](const Inputs& in, const RunCtx&) {
    return std::vector<OnnxValue>{OnnxValue::of(ops::gelu(float_input(in, 0, "X"), approximate))};
  };
}
Kernel build_softplus(const NodeView&) {
  return [](const Inputs& in, const RunCtx&) {
    return std::vector<OnnxValue>{OnnxValue::of(ops::softplus(float_input(in, 0, "X"), 1.0))};
  };
}
// PRelu(X, slope): a slope of one element, or one per channel of shape (C), (C, 1, ..., 1)
// or (1, C, 1, ..., 1) as exporters write it, runs as ops::prelu; any other slope that
// broadcasts to X is composed.
Kernel build_prelu(const NodeView&) {
  return [](const Inputs& in, const RunCtx&) {
    const Tensor& x = float_input(in, 0, "X");
    const Tensor& slope = float_input(in, 1, "slope");
    int64_t not_one = 0;
    for (int64_t d : slope.shape()) not_one += d != 1;
    const int64_t c = x.dim() >= 2 ? x.size(1) : 1;
    const bool per_channel = slope.numel() == c && not_one <= 1 &&
                             (slope.dim() == 1 || (slope.dim() == x.dim() - 1 && slope.size(0) == c) ||
                              (slope.dim() == x.dim() && slope.size(1) == c));
    if (slope.numel() == 1 || per_channel)
      return std::vector<OnnxValue>{OnnxValue::of(ops::prelu(x, slope.reshape({slope.numel()})))};
    // Any other slope that broadcasts to x (NumPy's rule): relu(x) + slope * min(x, 0).
    const Tensor s = ops::broadcast_to(slope, x.shape(), "PRelu");
    const Tensor neg = ops::minimum(x, Tensor::zeros(x.shape()));
    return std::vector<OnnxValue>{OnnxValue::of(ops::add(ops::relu(x), ops::mul(s, neg), "PRelu"))};
  };
}
Kernel build_leaky_relu(const NodeView& v) {
  const double alpha = v.get_float("alpha", 0.01f);
  return [alpha](const Inputs& in, const RunCtx&) {
    return std::vector<OnnxValue>{OnnxValue::of(ops::leaky_relu(float_input(in, 0, "X"), alpha))};
  };
}

Kernel build_clip(const NodeView& v) {
  // Before opset 11 the bounds are attributes; from 11 on optional scalar inputs.
  const bool attrs = v.opset() < 11;
  const double inf = std::numeric_limits<double>::infinity();
  const double attr_lo = v.has("min") ? v.get_float("min", 0.f) : -inf;
  const double attr_hi = v.has("max") ? v.get_float("max", 0.f) : inf;
  return [=](const Inputs& in, const RunCtx&) {
    CONVNET_CHECK(!in.empty() && in[0] && in[0]->defined(), "input (input 0) is missing");
    const double lo = attrs ? attr_lo : in.size() > 1 && in[1] ? scalar_input(in, 1, "min") : -inf;
    const double hi = attrs ? attr_hi : in.size() > 2 && in[2] ? scalar_input(in, 2, "max") : inf;
    if (in[0]->is_int) {  // integer data: clamped exactly (no gradient)
      std::vector<int64_t> r = in[0]->ints;
      for (int64_t& e : r) e = static_cast<int64_t>(std::min(std::max(static_cast<double>(e), lo), hi));
      return std::vector<OnnxValue>{OnnxValue::of_ints(in[0]->int_shape, std::move(r))};
    }
    const Tensor& x = float_input(in, 0, "input");
    // torch.onnx.export writes nn.ReLU6 as Clip(0, 6); relu6 keeps its gradient convention.
    Tensor y = lo == 0.0 && hi == 6.0 ? ops::relu6(x) : ops::clamp(x, lo, hi, "Clip");
    return std::vector<OnnxValue>{OnnxValue::of(y)};
  };
}

Kernel build_softmax(const NodeView& v, bool log) {
  // Opset 13 normalizes along `axis` (default -1); before, the input was seen as 2-D
  // (dims before axis, dims from axis on; default axis 1) and normalized along the second.
  const bool coerce_2d = v.opset() < 13;
  const int64_t axis = v.get_int("axis", coerce_2d ? 1 : -1);
  return [=](const Inputs& in, const RunCtx&) {
    const Tensor& x = float_input(in, 0, "input");
    const int64_t a = norm_axis(axis, x.dim(), "axis");
    if (!coerce_2d) return std::vector<OnnxValue>{OnnxValue::of(log ? ops::log_softmax(x, a) : ops::softmax(x, a))};
    int64_t outer = 1;
    for (int64_t k = 0; k < a; ++k) outer *= x.size(k);
    const Tensor x2 = x.reshape({outer, x.numel() / outer});
    const Tensor y = log ? ops::log_softmax(x2, 1) : ops::softmax(x2, 1);
    return std::vector<OnnxValue>{OnnxValue::of(y.reshape(x.shape()))};
  };
}

Kernel build_dropout(const NodeView& v) {
  if (v.output_used(1)) throw Unsupported{"the mask output"};
  const bool ratio_attr = v.opset() < 12;
  const double attr_ratio = v.get_float("ratio", 0.5f);
  return [=](const Inputs& in, const RunCtx& ctx) {
    const Tensor& x = float_input(in, 0, "data");
    const double p = ratio_attr ? attr_ratio : in.size() > 1 && in[1] ? scalar_input(in, 1, "ratio") : 0.5;
    // train()/eval() decide, not the training_mode input: torch.onnx.export writes a
    // constant there, and a graph fine-tuned in convnet should drop in train mode.
    return std::vector<OnnxValue>{OnnxValue::of(ops::dropout(x, p, ctx.training, default_generator()))};
  };
}

}  // namespace

void add_nn_builders(BuilderTable& t) {
  t["Conv"] = build_conv;
  t["MaxPool"] = [](const NodeView& v) { return build_pool(v, true); };
  t["AveragePool"] = [](const NodeView& v) { return build_pool(v, false); };
  t["GlobalMaxPool"] = [](const NodeView& v) { return build_global_pool(v, true); };
  t["GlobalAveragePool"] = [](const NodeView& v) { return build_global_pool(v, false); };
  t["BatchNormalization"] = build_batch_norm;
  t["ConvTranspose"] = build_conv_transpose;
  t["Resize"] = [](const NodeView& v) { return build_resize(v, false); };
  t["Upsample"] = [](const NodeView& v) { return build_resize(v, true); };
  t["LayerNormalization"] = build_layer_norm;
  t["InstanceNormalization"] = build_instance_norm;
  t["Gemm"] = build_gemm;
  t["MatMul"] = build_matmul;
  t["Relu"] = build_unary<ops::relu>;
  t["Sigmoid"] = build_unary<ops::sigmoid>;
  t["Tanh"] = build_unary<ops::tanh>;
  t["LeakyRelu"] = build_leaky_relu;
  t["HardSigmoid"] = build_hardsigmoid;
  t["HardSwish"] = build_unary<ops::hardswish>;
  t["Elu"] = build_elu;
  t["Selu"] = build_selu;
  t["Gelu"] = build_gelu;
  t["Softplus"] = build_softplus;
  t["Softsign"] = build_unary<ops::softsign>;
  t["Exp"] = build_unary<ops::exp>;
  t["Abs"] = build_unary<ops::abs>;
  t["Sqrt"] = build_unary<ops::sqrt>;
  t["Erf"] = build_unary<ops::erf>;
  t["PRelu"] = build_prelu;
  t["Clip"] = build_clip;
  t["Softmax"] = [](const NodeView& v) { return build_softmax(v, false); };
  t["LogSoftmax"] = [](const NodeView& v) { return build_softmax(v, true); };
  t["Dropout"] = build_dropout;
}

}  // namespace convnet::io::onnx_impl
