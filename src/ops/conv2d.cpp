#include "convnet/ops/conv2d.h"

#include <cstring>

#include "convnet/autograd/autograd.h"
#include "convnet/autograd/trace.h"
#include "convnet/core/error.h"
#include "convnet/ops/output_size.h"
#include "kernels/conv2d.h"
#include "kernels/layout.h"
#include "kernels/registry.h"
#include "ops/checks.h"

namespace convnet {

Padding::Padding(const char* s) : Padding(std::string(s)) {}
Padding::Padding(const std::string& s) {
  if (s == "same")
    mode = Mode::Same;
  else if (s == "valid")
    mode = Mode::Valid;
  else
    throw Error("conv2d: padding string must be \"same\" or \"valid\", got \"" + s + "\"");
}
std::string Padding::str() const {
  if (mode == Mode::Same) return "\"same\"";
  if (mode == Mode::Valid) return "\"valid\"";
  return h == w ? std::to_string(h) : "(" + std::to_string(h) + ", " + std::to_string(w) + ")";
}

namespace ops {

namespace {
int32_t block(const Tensor& t) {
  return static_cast<int32_t>(kernels::channel_block(t));
}
}  // namespace

namespace {
// The operands of a convolution, checked, and its geometry.
struct Prepared {
  Tensor x, weight, bias;
  kernels::Conv2dGeom g{};
  int64_t pad_b = 0, pad_r = 0;  // bottom/right padding
};

Prepared prepare(const Tensor& x_arg, const Tensor& weight_arg, const Tensor& bias_arg, const Conv2dArgs& a,
                 const std::string& layer) {
  Prepared p;
  CONVNET_CHECK(x_arg.defined() && weight_arg.defined(), layer, ": input and weight must be defined");
  // Precision (ops/autocast.h): under autocast the input in the guard's dtype; a reduced-
  // precision input computes with the float32 weights, which the kernel rounds.
  const Tensor x = p.x = autocast_input(x_arg);
  const bool reduced = is_reduced(x.dtype());
  if (!reduced) check_operands(layer, {{"input", &x}, {"weight", &weight_arg}, {"bias", &bias_arg}});
  const Tensor weight = p.weight = reduced ? param_fp32(layer, "weight", weight_arg, x) : weight_arg;
  const Tensor bias = p.bias = reduced ? param_fp32(layer, "bias", bias_arg, x) : bias_arg;
  CONVNET_CHECK(x.dim() == 4, layer, ": expected a 4-D input (N, C, H, W), got input of shape ", shape_str(x.shape()));
  CONVNET_CHECK(weight.dim() == 4, layer, ": expected a 4-D weight (OC, C/groups, KH, KW), got weight of shape ",
                shape_str(weight.shape()));
  const int64_t G = a.groups;
  CONVNET_CHECK(G >= 1, layer, ": groups must be positive, got ", G);
  CONVNET_CHECK(a.stride[0] >= 1 && a.stride[1] >= 1, layer, ": stride must be positive, got (", a.stride[0], ", ",
                a.stride[1], ")");
  CONVNET_CHECK(a.dilation[0] >= 1 && a.dilation[1] >= 1, layer, ": dilation must be positive, got (", a.dilation[0],
                ", ", a.dilation[1], ")");
  // A file (ONNX attributes, a checkpoint) may claim any number; past 2^24 no image has the
  // size, and the kernels' index arithmetic would overflow.
  constexpr int64_t kMaxGeom = int64_t{1} << 24;
  CONVNET_CHECK(a.stride[0] <= kMaxGeom && a.stride[1] <= kMaxGeom && a.dilation[0] <= kMaxGeom &&
                    a.dilation[1] <= kMaxGeom && a.padding.h <= kMaxGeom && a.padding.w <= kMaxGeom && G <= kMaxGeom,
                layer, ": stride (", a.stride[0], ", ", a.stride[1], "), dilation (", a.dilation[0], ", ",
                a.dilation[1], "), padding (", a.padding.h, ", ", a.padding.w, ") and groups ", G,
                " must each be at most ", kMaxGeom);
  kernels::Conv2dGeom& g = p.g;
  g.N = x.size(0), g.C = x.size(1), g.H = x.size(2), g.W = x.size(3);
  g.OC = weight.size(0), g.KH = weight.size(2), g.KW = weight.size(3);
  g.SH = a.stride[0], g.SW = a.stride[1], g.DH = a.dilation[0], g.DW = a.dilation[1], g.G = G;
  CONVNET_CHECK(g.OC % G == 0, layer, ": out_channels (", g.OC, ") must be divisible by groups (", G,
                "); weight of shape ", shape_str(weight.shape()));
  CONVNET_CHECK(weight.size(1) * G == g.C, layer, ": expected input with ", weight.size(1) * G,
                " channels (weight of shape ", shape_str(weight.shape()), ", groups=", G, "), got input of shape ",
                shape_str(x.shape()));
  if (bias.defined())
    CONVNET_CHECK(bias.dim() == 1 && bias.size(0) == g.OC, layer, ": expected bias of shape (", g.OC,
                  ") for weight of shape ", shape_str(weight.shape()), ", got bias of shape ", shape_str(bias.shape()));

  int64_t& pad_b = p.pad_b;
  int64_t& pad_r = p.pad_r;
  switch (a.padding.mode) {
    case Padding::Mode::Explicit:
      CONVNET_CHECK(a.padding.h >= 0 && a.padding.w >= 0, layer, ": padding must be non-negative, got ",
                    a.padding.str());
      g.PH = pad_b = a.padding.h;
      g.PW = pad_r = a.padding.w;
      break;
    case Padding::Mode::Valid:
      g.PH = g.PW = 0;
      break;
    case Padding::Mode::Same: {
      CONVNET_CHECK(g.SH == 1 && g.SW == 1, layer, ": padding=\"same\" is not supported for strided convolutions (stride (",
                    g.SH, ", ", g.SW, "))");
      // Total padding d*(k-1); PyTorch puts the odd one at the bottom/right.
      const int64_t th = g.DH * (g.KH - 1), tw = g.DW * (g.KW - 1);
      g.PH = th / 2, pad_b = th - th / 2;
      g.PW = tw / 2, pad_r = tw - tw / 2;
      break;
    }
  }
  g.OH = conv_output_size(g.H, g.KH, g.SH, g.PH, pad_b, g.DH);
  g.OW = conv_output_size(g.W, g.KW, g.SW, g.PW, pad_r, g.DW);
  CONVNET_CHECK(g.OH > 0 && g.OW > 0, layer, ": kernel size ", g.DH * (g.KH - 1) + 1, "x", g.DW * (g.KW - 1) + 1,
                " (dilated) is larger than the padded input ", g.H + g.PH + pad_b, "x", g.W + g.PW + pad_r,
                "; input of shape ", shape_str(x.shape()), ", weight of shape ", shape_str(weight.shape()),
                ", padding ", a.padding.str());

  // The weight's identity, so a backend can keep it prepacked while it does not change.
  g.w_id = weight.storage_id(), g.w_version = weight.version();
  return p;
}

// y = conv(x, w) + b with g's post-ops; y in the layout the backend wants (kernels/layout.h:
// oneDNN's blocked nChw16c when the channels fill whole blocks), so that the next layer goes
// on without a reorder; x comes in whatever layout it has. With a sum post-op `residual` is
// copied into y first, in y's layout and dtype.
Tensor forward(const Prepared& p, const Tensor& residual = {}, bool reusable = false) {
  const kernels::Conv2dGeom& g = p.g;
  const float* bp = kdata(p.bias);
  const auto scope = device_scope(p.x);  // the layout query runs on x's device
  Tensor y;
  kernels::with_floating(p.x.dtype(), [&]<class T>() {
    using K = kernels::keys::Conv2d<T>;
    const Layout* layout = K::layout->value(g);
    // A residual handed over, held by nothing else, in y's layout: y is computed in its buffer.
    const auto& impl = residual.impl_ptr();
    if (g.post.sum && reusable && impl.use_count() == 1 && impl->storage.use_count() == 1 && impl->offset == 0 &&
        residual.dtype() == p.x.dtype() && residual.device() == p.x.device() && residual.layout() == layout &&
        impl->storage->bytes() == static_cast<size_t>(residual.numel() * dtype_size(residual.dtype()))) {
      y = residual;
    } else {
      y = Tensor::empty({g.N, g.OC, g.OH, g.OW}, p.x.dtype(), p.x.device(), layout);
    }
    if (g.post.sum && y.impl() != residual.impl()) {
      CONVNET_CHECK(p.x.device().is_cpu(), "conv2d_fused: a residual sum on ", device_name(p.x.device()),
                    " is not supported yet");
      const Tensor r = residual.to(p.x.dtype()).in_layout(y.layout());
      std::memcpy(y.stored_ptr(), r.stored_ptr(), static_cast<size_t>(y.numel()) * dtype_size(y.dtype()));
    }
    (*K::fwd)(g, p.x.stored_as<T>(), block(p.x), kdata(p.weight), bp, y.stored_as<T>(), block(y));
  });
  return y;
}
}  // namespace

Tensor conv2d(const Tensor& x_arg, const Tensor& weight_arg, const Tensor& bias_arg, const Conv2dArgs& a,
              const std::string& layer) {
  const Prepared p = prepare(x_arg, weight_arg, bias_arg, a, layer);
  const Tensor &x = p.x, &weight = p.weight, &bias = p.bias;
  const kernels::Conv2dGeom& g = p.g;
  const int64_t G = g.G, pad_b = p.pad_b, pad_r = p.pad_r;
  Tensor y = forward(p);
  autograd::record(y, "conv2d", {x, weight, bias}, [x, weight, bias, g0 = g](const Tensor& gy_arg) {
    kernels::Conv2dGeom g = g0;
    g.w_version = weight.version();  // as it is now
    Tensor gx, gw, gb;
    const Tensor gy = gy_arg.to(x.dtype());  // y's dtype
    const Device dev = x.device();
    kernels::with_floating(x.dtype(), [&]<class T>() {
      using K = kernels::keys::Conv2d<T>;
      if (x.requires_grad()) {
        // The gradient of x in x's layout (now: it may have been rewritten since the forward):
        // it meets x's producer's backward there.
        gx = Tensor::empty_like(x);
        (*K::bwd_data)(g, gy.stored_as<T>(), block(gy), kdata(weight), gx.stored_as<T>(), block(gx));
      }
      const bool need_b = bias.defined() && bias.requires_grad();
      if (weight.requires_grad() || need_b) {
        // One pass computes both; a frozen weight with a trainable bias pays for the weight too.
        Tensor gw_full = Tensor::empty(weight.shape(), DType::float32, dev);
        if (need_b) gb = Tensor::empty(bias.shape(), DType::float32, dev);
        (*K::bwd_weight)(g, x.stored_as<T>(), block(x), gy.stored_as<T>(), block(gy), kdata(gw_full),
                         need_b ? kdata(gb) : nullptr);
        if (weight.requires_grad()) gw = gw_full;
      }
    });
    return std::vector<Tensor>{gx, gw, gb};
  });
  if (trace::active())
    trace::record("conv2d", {x, weight, bias}, y,
                  {.ints = {{"stride", {g.SH, g.SW}},
                            {"pads", {g.PH, g.PW, pad_b, pad_r}},
                            {"dilation", {g.DH, g.DW}},
                            {"groups", {G}}}});
  return y;
}

Tensor conv2d_fused(const Tensor& x_arg, const Tensor& weight_arg, const Tensor& bias_arg, const Conv2dArgs& a,
                    const ConvEpilogue& e, const std::string& layer) {
  CONVNET_CHECK(!grad_enabled() || !(x_arg.requires_grad() || weight_arg.requires_grad() ||
                                     (bias_arg.defined() && bias_arg.requires_grad()) ||
                                     (e.residual.defined() && e.residual.requires_grad())),
                layer, ": a fused convolution is for inference only; run it under NoGradGuard or on tensors that ",
                "require no gradient");
  Prepared p = prepare(x_arg, weight_arg, bias_arg, a, layer);
  kernels::ConvPostOps& post = p.g.post;
  post.act = e.act == ConvEpilogue::Act::relu   ? kernels::ConvPostOps::kRelu
             : e.act == ConvEpilogue::Act::clip ? kernels::ConvPostOps::kClip
                                                : kernels::ConvPostOps::kNone;
  post.lo = e.lo, post.hi = e.hi;
  if (e.act == ConvEpilogue::Act::clip)
    CONVNET_CHECK(e.lo <= e.hi, layer, ": clip bounds [", e.lo, ", ", e.hi, "] are empty");
  if (e.residual.defined()) {
    const Shape want{p.g.N, p.g.OC, p.g.OH, p.g.OW};
    CONVNET_CHECK(e.residual.shape() == want, layer, ": the residual added to the convolution's output ",
                  shape_str(want), " has shape ", shape_str(e.residual.shape()));
    CONVNET_CHECK(e.residual.device() == p.x.device(), layer, ": the residual is on ", device_name(e.residual.device()),
                  ", the input on ", device_name(p.x.device()));
    post.sum = true;
  }
  return forward(p, e.residual, e.residual_reusable);
}

}  // namespace ops
}  // namespace convnet
