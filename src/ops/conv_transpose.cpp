// conv_transpose2d: the conv2d geometry whose *input* is the transposed convolution's output;
// the forward is that convolution's data gradient, the backward its forward (dx) and its
// weight gradient (dweight), on the plain conv2d kernels (kernels/conv2d.h).
#include "convnet/ops/conv_transpose.h"

#include "convnet/autograd/autograd.h"
#include "convnet/autograd/trace.h"
#include "convnet/core/error.h"
#include "kernels/conv2d.h"
#include "kernels/registry.h"
#include "ops/checks.h"

namespace convnet::ops {

Tensor conv_transpose2d(const Tensor& x_arg, const Tensor& w_arg, const Tensor& b_arg, const ConvTranspose2dArgs& a,
                        const std::string& layer) {
  CONVNET_CHECK(x_arg.defined() && w_arg.defined(), layer, ": input and weight must be defined");
  const Tensor x = as_fp32(x_arg), weight = as_fp32(w_arg), bias = b_arg.defined() ? as_fp32(b_arg) : Tensor();
  check_operands(layer, {{"input", &x}, {"weight", &weight}, {"bias", &bias}});
  CONVNET_CHECK(x.dim() == 4, layer, ": expected a 4-D input (N, C, H, W), got input of shape ", shape_str(x.shape()));
  CONVNET_CHECK(weight.dim() == 4, layer, ": expected a 4-D weight (Cin, Cout/groups, KH, KW), got weight of shape ",
                shape_str(weight.shape()));
  const int64_t G = a.groups;
  CONVNET_CHECK(G >= 1 && x.size(1) == weight.size(0) && weight.size(0) % G == 0, layer, ": expected input with ",
                weight.size(0), " channels divisible by groups ", G, " (weight of shape ", shape_str(weight.shape()),
                "), got input of shape ", shape_str(x.shape()));
  for (int i = 0; i < 2; ++i) {
    CONVNET_CHECK(a.stride[i] >= 1 && a.dilation[i] >= 1, layer, ": stride and dilation must be positive, got (",
                  a.stride[0], ", ", a.stride[1], ") and (", a.dilation[0], ", ", a.dilation[1], ")");
    CONVNET_CHECK(a.padding[i] >= 0 && a.output_padding[i] >= 0, layer, ": padding and output_padding must be ",
                  "non-negative, got (", a.padding[0], ", ", a.padding[1], ") and (", a.output_padding[0], ", ",
                  a.output_padding[1], ")");
    CONVNET_CHECK(a.output_padding[i] < a.stride[i] || a.output_padding[i] < a.dilation[i], layer, ": output_padding (",
                  a.output_padding[0], ", ", a.output_padding[1], ") must be smaller than either stride or dilation");
    CONVNET_CHECK(
        a.stride[i] <= (int64_t{1} << 24) && a.dilation[i] <= (int64_t{1} << 24) && a.padding[i] <= (int64_t{1} << 24),
        layer, ": stride, dilation and padding must each be at most 2^24");
  }
  const int64_t Cout = weight.size(1) * G;
  if (bias.defined())
    CONVNET_CHECK(bias.dim() == 1 && bias.size(0) == Cout, layer, ": expected bias of shape (", Cout,
                  "), got bias of shape ", shape_str(bias.shape()));
  // The convolution whose data gradient this is: input (N, Cout, OH, OW), output (N, Cin, H, W).
  kernels::Conv2dGeom g;
  g.N = x.size(0), g.C = Cout, g.OC = weight.size(0), g.KH = weight.size(2), g.KW = weight.size(3);
  g.SH = a.stride[0], g.SW = a.stride[1], g.PH = a.padding[0], g.PW = a.padding[1];
  g.DH = a.dilation[0], g.DW = a.dilation[1], g.G = G, g.OH = x.size(2), g.OW = x.size(3);
  g.H = (g.OH - 1) * g.SH - 2 * g.PH + g.DH * (g.KH - 1) + a.output_padding[0] + 1;
  g.W = (g.OW - 1) * g.SW - 2 * g.PW + g.DW * (g.KW - 1) + a.output_padding[1] + 1;
  CONVNET_CHECK(g.H > 0 && g.W > 0, layer, ": the output size ", g.H, "x", g.W, " is not positive (input of shape ",
                shape_str(x.shape()), ", weight of shape ", shape_str(weight.shape()), ")");
  Tensor y = Tensor::empty({g.N, g.C, g.H, g.W});
  if (y.numel() > 0) {
    if (x.numel() > 0)
      kernels::keys::conv2d_bwd_data.get()(g, x.data(), weight.data(), y.data());
    else
      y = Tensor::zeros(y.shape());
    if (bias.defined()) {
      float* yp = y.data();
      const int64_t plane = g.H * g.W;
      for (int64_t n = 0; n < g.N; ++n)
        for (int64_t c = 0; c < g.C; ++c)
          for (int64_t i = 0; i < plane; ++i) yp[(n * g.C + c) * plane + i] += bias.data()[c];
    }
  }
  autograd::record(y, "conv_transpose2d", {x, weight, bias}, [x, weight, bias, g](const Tensor& gy) {
    Tensor gx, gw, gb;
    if (x.requires_grad()) {
      gx = Tensor::empty(x.shape());
      kernels::keys::conv2d_fwd.get()(g, gy.data(), weight.data(), nullptr, gx.data());
    }
    if (weight.requires_grad()) {
      gw = Tensor::empty(weight.shape());
      kernels::keys::conv2d_bwd_weight.get()(g, gy.data(), x.data(), gw.data(), nullptr);
    }
    if (bias.defined() && bias.requires_grad()) {
      gb = Tensor::zeros(bias.shape());
      const int64_t plane = g.H * g.W;
      for (int64_t n = 0; n < g.N; ++n)
        for (int64_t c = 0; c < g.C; ++c) {
          double s = 0;
          for (int64_t i = 0; i < plane; ++i) s += gy.data()[(n * g.C + c) * plane + i];
          gb.data()[c] += static_cast<float>(s);
        }
    }
    return std::vector<Tensor>{gx, gw, gb};
  });
  if (trace::active())
    trace::record("conv_transpose2d", {x, weight, bias}, y,
                  {.ints = {{"stride", {g.SH, g.SW}},
                            {"pads", {g.PH, g.PW, g.PH, g.PW}},
                            {"output_padding", {a.output_padding[0], a.output_padding[1]}},
                            {"dilation", {g.DH, g.DW}},
                            {"groups", {G}}}});
  return y;
}

}  // namespace convnet::ops
