#include "convnet/ops/pool2d.h"

#include <memory>
#include <vector>

#include "convnet/autograd/autograd.h"
#include "convnet/autograd/trace.h"
#include "convnet/core/error.h"
#include "convnet/ops/output_size.h"
#include "kernels/layout.h"
#include "kernels/pool2d.h"
#include "kernels/registry.h"
#include "ops/checks.h"

namespace convnet::ops {

namespace {

std::string pair_str(const std::array<int64_t, 2>& p) {
  return "(" + std::to_string(p[0]) + ", " + std::to_string(p[1]) + ")";
}

void check_input(const Tensor& x, const std::string& layer) {
  CONVNET_CHECK(x.defined(), layer, ": input must be defined");
  CONVNET_CHECK(x.dim() == 4, layer, ": expected a 4-D input (N, C, H, W), got input of shape ", shape_str(x.shape()));
  CONVNET_CHECK(x.size(2) > 0 && x.size(3) > 0, layer, ": expected non-empty spatial dimensions, got input of shape ",
                shape_str(x.shape()));
}

// Argument checks and output size shared by max and average pooling (PyTorch's pool2d_shape_check).
kernels::Pool2dGeom pool_geom(const Tensor& x, const Pool2dArgs& a, bool is_max, const std::string& layer) {
  check_input(x, layer);
  const auto& k = a.kernel;
  CONVNET_CHECK(k[0] >= 1 && k[1] >= 1, layer, ": kernel_size must be positive, got ", pair_str(k));
  CONVNET_CHECK(a.stride[0] >= 0 && a.stride[1] >= 0, layer, ": stride must be positive (or 0 for = kernel_size), got ",
                pair_str(a.stride));
  CONVNET_CHECK(a.dilation[0] >= 1 && a.dilation[1] >= 1, layer, ": dilation must be positive, got ",
                pair_str(a.dilation));
  CONVNET_CHECK(is_max || (a.dilation[0] == 1 && a.dilation[1] == 1), layer,
                ": dilation is supported by max pooling only, got dilation ", pair_str(a.dilation));
  CONVNET_CHECK(a.padding[0] >= 0 && a.padding[1] >= 0, layer, ": padding must be non-negative, got ",
                pair_str(a.padding));
  // A window must hold at least one input element: PyTorch allows at most half the kernel.
  CONVNET_CHECK(a.padding[0] <= k[0] / 2 && a.padding[1] <= k[1] / 2, layer, ": padding ", pair_str(a.padding),
                " should be at most half of kernel_size ", pair_str(k));

  kernels::Pool2dGeom g{};
  g.N = x.size(0), g.C = x.size(1), g.H = x.size(2), g.W = x.size(3);
  g.KH = k[0], g.KW = k[1];
  g.SH = a.stride[0] == 0 ? k[0] : a.stride[0];
  g.SW = a.stride[1] == 0 ? k[1] : a.stride[1];
  g.PH = a.padding[0], g.PW = a.padding[1];
  g.DH = a.dilation[0], g.DW = a.dilation[1];
  g.count_include_pad = a.count_include_pad;
  g.OH = conv_output_size(g.H, g.KH, g.SH, g.PH, g.PH, g.DH, a.ceil_mode);
  g.OW = conv_output_size(g.W, g.KW, g.SW, g.PW, g.PW, g.DW, a.ceil_mode);
  CONVNET_CHECK(g.OH > 0 && g.OW > 0, layer, ": output size ", g.OH, "x", g.OW, " is too small: input of shape ",
                shape_str(x.shape()), " with kernel_size ", pair_str(k), ", stride (", g.SH, ", ", g.SW, "), padding ",
                pair_str(a.padding), ", dilation ", pair_str(a.dilation), ", ceil_mode ",
                a.ceil_mode ? "true" : "false");
  return g;
}

kernels::AdaptivePool2dGeom adaptive_geom(const Tensor& x, std::array<int64_t, 2> out, const std::string& layer) {
  check_input(x, layer);
  CONVNET_CHECK(out[0] >= 1 && out[1] >= 1, layer, ": output_size must be positive, got ", pair_str(out),
                " for input of shape ", shape_str(x.shape()));
  return {x.size(0), x.size(1), x.size(2), x.size(3), out[0], out[1]};
}

Tensor adaptive_avg(const Tensor& x, std::array<int64_t, 2> out, const std::string& layer, const char* node) {
  kernels::AdaptivePool2dGeom g = adaptive_geom(x, out, layer);
  g.B = kernels::channel_block(x);  // in x's layout, as max_pool2d
  Tensor y = Tensor::empty_like(x, {g.N, g.C, g.OH, g.OW});
  kernels::with_floating(x.dtype(), [&]<class T>() {
    (*kernels::keys::Pool<T>::adaptive_avg_fwd)(g, x.stored_as<T>(), y.stored_as<T>());
  });
  autograd::record(y, node, {x}, [g, xl = x.layout(), dt = x.dtype(), shape = x.shape()](const Tensor& gy_in) {
    const Tensor gy = gy_in.to(dt).in_layout(xl);
    Tensor gx = Tensor::empty(shape, dt, gy.device(), xl);
    kernels::with_floating(
        dt, [&]<class T>() { (*kernels::keys::Pool<T>::adaptive_avg_bwd)(g, gy.stored_as<T>(), gx.stored_as<T>()); });
    return std::vector<Tensor>{gx};
  });
  if (trace::active()) trace::record(node, {x}, y);
  return y;
}

Tensor adaptive_max(const Tensor& x_arg, std::array<int64_t, 2> out, const std::string& layer, const char* node) {
  const Tensor x = as_fp32(x_arg);  // float32 kernels only (ops/autocast.h)
  const kernels::AdaptivePool2dGeom g = adaptive_geom(x, out, layer);
  Tensor y = Tensor::empty({g.N, g.C, g.OH, g.OW});
  const bool grad = autograd::needs_grad({&x});
  auto argmax = std::make_shared<std::vector<int64_t>>(grad ? y.numel() : 0);
  kernels::keys::adaptive_max_pool2d_fwd(g, x.data(), y.data(),
                                                        grad ? argmax->data() : nullptr);
  autograd::record(y, node, {x}, [g, argmax, shape = x.shape()](const Tensor& gy) {
    Tensor gx = Tensor::empty(shape);
    kernels::keys::adaptive_max_pool2d_bwd(g, gy.data(), argmax->data(),
                                                          gx.data());
    return std::vector<Tensor>{gx};
  });
  if (trace::active()) trace::record(node, {x}, y);
  return y;
}

// What the trace (ONNX export) needs to know of a pooling window.
trace::Attrs pool_attrs(const kernels::Pool2dGeom& g, const Pool2dArgs& a) {
  return {.ints = {{"kernel", {g.KH, g.KW}},
                   {"stride", {g.SH, g.SW}},
                   {"pads", {g.PH, g.PW, g.PH, g.PW}},
                   {"dilation", {g.DH, g.DW}},
                   {"ceil_mode", {a.ceil_mode ? 1 : 0}},
                   {"count_include_pad", {a.count_include_pad ? 1 : 0}}}};
}

}  // namespace

Tensor max_pool2d(const Tensor& x, const Pool2dArgs& a, const std::string& layer) {
  kernels::Pool2dGeom g = pool_geom(x, a, /*is_max=*/true, layer);
  // y (and its indices) in x's layout (the kernels read it as g.B).
  g.B = kernels::channel_block(x);
  Tensor y = Tensor::empty_like(x, {g.N, g.C, g.OH, g.OW});
  // The argmax indices are the only state backward needs; skip them for inference.
  const bool grad = autograd::needs_grad({&x});
  // On x's device; laid out like y (the kernels index it as y).
  const Tensor argmax = grad ? Tensor::empty(y.shape(), DType::int64, x.device()) : Tensor();
  kernels::with_floating(x.dtype(), [&]<class T>() {
    (*kernels::keys::Pool<T>::max_fwd)(g, x.stored_as<T>(), y.stored_as<T>(),
                                       grad ? const_cast<Tensor&>(argmax).stored_as<int64_t>() : nullptr);
  });
  autograd::record(y, "max_pool2d", {x},
                   [g, argmax, xl = x.layout(), dt = x.dtype(), shape = x.shape()](const Tensor& gy_in) {
                     // The indices are laid out like y was (in x's layout): gy and gx in that layout.
                     const Tensor gy = gy_in.to(dt).in_layout(xl);
                     Tensor gx = Tensor::empty(shape, dt, gy.device(), xl);
                     kernels::with_floating(dt, [&]<class T>() {
                       (*kernels::keys::Pool<T>::max_bwd)(g, gy.stored_as<T>(), argmax.stored_as<int64_t>(),
                                                          gx.stored_as<T>());
                     });
                     return std::vector<Tensor>{gx};
                   });
  if (trace::active()) trace::record("max_pool2d", {x}, y, pool_attrs(g, a));
  return y;
}

Tensor avg_pool2d(const Tensor& x, const Pool2dArgs& a, const std::string& layer) {
  kernels::Pool2dGeom g = pool_geom(x, a, /*is_max=*/false, layer);
  g.B = kernels::channel_block(x);  // in x's layout, as max_pool2d
  Tensor y = Tensor::empty_like(x, {g.N, g.C, g.OH, g.OW});
  kernels::with_floating(x.dtype(),
                         [&]<class T>() { (*kernels::keys::Pool<T>::avg_fwd)(g, x.stored_as<T>(), y.stored_as<T>()); });
  autograd::record(y, "avg_pool2d", {x}, [g, xl = x.layout(), dt = x.dtype(), shape = x.shape()](const Tensor& gy_in) {
    const Tensor gy = gy_in.to(dt).in_layout(xl);
    Tensor gx = Tensor::empty(shape, dt, gy.device(), xl);
    kernels::with_floating(
        dt, [&]<class T>() { (*kernels::keys::Pool<T>::avg_bwd)(g, gy.stored_as<T>(), gx.stored_as<T>()); });
    return std::vector<Tensor>{gx};
  });
  if (trace::active()) trace::record("avg_pool2d", {x}, y, pool_attrs(g, a));
  return y;
}

Tensor adaptive_avg_pool2d(const Tensor& x, std::array<int64_t, 2> output_size, const std::string& layer) {
  return adaptive_avg(x, output_size, layer, "adaptive_avg_pool2d");
}
Tensor adaptive_max_pool2d(const Tensor& x, std::array<int64_t, 2> output_size, const std::string& layer) {
  return adaptive_max(x, output_size, layer, "adaptive_max_pool2d");
}
// Global pooling is adaptive pooling to 1x1: one window, the whole plane.
Tensor global_avg_pool2d(const Tensor& x, const std::string& layer) {
  return adaptive_avg(x, {1, 1}, layer, "global_avg_pool2d");
}
Tensor global_max_pool2d(const Tensor& x, const std::string& layer) {
  return adaptive_max(x, {1, 1}, layer, "global_max_pool2d");
}

}  // namespace convnet::ops
