// resize / interpolate: per output row and column, the source indices and weights from the
// coordinate transformation (ops/interpolate.h), then the interp kernels. Coordinates are
// computed in float, as PyTorch's CPU kernels compute them.
#include "convnet/ops/interpolate.h"

#include <cmath>
#include <vector>

#include "convnet/autograd/autograd.h"
#include "convnet/autograd/trace.h"
#include "convnet/core/error.h"
#include "kernels/interp.h"
#include "kernels/registry.h"
#include "ops/checks.h"

namespace convnet::ops {

namespace {

struct Axis {
  std::vector<int64_t> i0, i1;
  std::vector<float> w0, w1;
};

Axis tabulate(int64_t n, int64_t m, double scale, const ResizeArgs& a, const std::string& layer) {
  const float r = scale > 0 ? static_cast<float>(1.0 / scale) : static_cast<float>(n) / static_cast<float>(m);
  const std::string& ct = a.coordinate_transformation_mode;
  const float m_eff = scale > 0 ? static_cast<float>(static_cast<double>(n) * scale) : static_cast<float>(m);
  Axis t;
  for (int64_t o = 0; o < m; ++o) {
    const auto of = static_cast<float>(o);
    float s;
    if (ct == "half_pixel")
      s = (of + 0.5f) * r - 0.5f;
    else if (ct == "pytorch_half_pixel")
      s = m > 1 ? (of + 0.5f) * r - 0.5f : 0.f;
    else if (ct == "align_corners")  // with explicit scales, ONNX's resized length n * scale is not floored
      s = m_eff > 1.f ? of * static_cast<float>(n - 1) / (m_eff - 1.f) : 0.f;
    else if (ct == "asymmetric")
      s = of * r;
    else
      throw Error(layer + ": unknown coordinate transformation mode '" + ct + "'");
    if (a.mode == "nearest") {
      const std::string& nm = a.nearest_mode;
      float f;
      if (nm == "floor")
        f = std::floor(s);
      else if (nm == "ceil")
        f = std::ceil(s);
      else if (nm == "round_prefer_floor")
        f = s - std::floor(s) == 0.5f ? std::floor(s) : std::round(s);
      else if (nm == "round_prefer_ceil")
        f = std::round(s);
      else
        throw Error(layer + ": unknown nearest mode '" + nm + "'");
      const int64_t i = std::min<int64_t>(std::max<int64_t>(static_cast<int64_t>(f), 0), n - 1);
      t.i0.push_back(i), t.i1.push_back(i), t.w0.push_back(1.f), t.w1.push_back(0.f);
    } else {
      s = std::min(std::max(s, 0.f), static_cast<float>(n - 1));
      const auto i = static_cast<int64_t>(std::floor(s));
      const float l1 = s - static_cast<float>(i);
      t.i0.push_back(i), t.i1.push_back(std::min(i + 1, n - 1)), t.w0.push_back(1.f - l1), t.w1.push_back(l1);
    }
  }
  return t;
}

}  // namespace

Tensor resize(const Tensor& x_arg, std::array<int64_t, 2> size, const ResizeArgs& a, const std::string& layer) {
  CONVNET_CHECK(x_arg.defined() && x_arg.dim() == 4, layer, ": expected an input (N, C, H, W), got ",
                x_arg.defined() ? shape_str(x_arg.shape()) : std::string("an undefined tensor"));
  const Tensor x = as_fp32(x_arg);  // float32 kernels only (ops/autocast.h)
  CONVNET_CHECK(x.size(2) > 0 && x.size(3) > 0, layer, ": empty input of shape ", shape_str(x.shape()));
  CONVNET_CHECK(size[0] > 0 && size[1] > 0 && size[0] <= (int64_t{1} << 24) && size[1] <= (int64_t{1} << 24), layer,
                ": output size (", size[0], ", ", size[1], ") must be positive and at most 2^24");
  CONVNET_CHECK(a.scales[0] >= 0 && a.scales[1] >= 0, layer, ": scales must be positive (or 0: from the sizes)");
  CONVNET_CHECK(a.mode == "nearest" || a.mode == "linear", layer, ": unknown mode '", a.mode, "' (nearest or linear)");
  const Axis h = tabulate(x.size(2), size[0], a.scales[0], a, layer);
  const Axis w = tabulate(x.size(3), size[1], a.scales[1], a, layer);
  kernels::InterpGeom g{x.size(0) * x.size(1), x.size(2),   x.size(3),   size[0],     size[1],
                        h.i0.data(),           h.i1.data(), w.i0.data(), w.i1.data(), h.w0.data(),
                        h.w1.data(),           w.w0.data(), w.w1.data()};
  Tensor y = Tensor::empty({x.size(0), x.size(1), size[0], size[1]});
  if (g.planes > 0) kernels::keys::interp_fwd.get()(g, x.data(), y.data());
  autograd::record(y, "resize", {x}, [h, w, g, in = x.shape()](const Tensor& gy) {
    kernels::InterpGeom gg = g;
    gg.ih0 = h.i0.data(), gg.ih1 = h.i1.data(), gg.iw0 = w.i0.data(), gg.iw1 = w.i1.data();
    gg.wh0 = h.w0.data(), gg.wh1 = h.w1.data(), gg.ww0 = w.w0.data(), gg.ww1 = w.w1.data();
    Tensor gx = Tensor::zeros(in);
    if (gg.planes > 0) kernels::keys::interp_bwd.get()(gg, gy.data(), gx.data());
    return std::vector<Tensor>{gx};
  });
  if (trace::active()) {
    const auto mode_id = a.mode == "nearest" ? 0 : 1;
    const std::string& ct = a.coordinate_transformation_mode;
    const int64_t ct_id = ct == "half_pixel" ? 0 : ct == "pytorch_half_pixel" ? 1 : ct == "align_corners" ? 2 : 3;
    const std::string& nm = a.nearest_mode;
    const int64_t nm_id = nm == "round_prefer_floor" ? 0 : nm == "round_prefer_ceil" ? 1 : nm == "floor" ? 2 : 3;
    trace::record(
        "resize", {x}, y,
        {.ints = {{"size", {size[0], size[1]}}, {"mode", {mode_id}}, {"coord", {ct_id}}, {"nearest", {nm_id}}},
         .floats = {{"scale_h", a.scales[0]}, {"scale_w", a.scales[1]}}});
  }
  return y;
}

namespace {
// PyTorch's modes as coordinate transformations. align_corners=False is half_pixel (clamped at
// 0 for linear, as the kernels clamp): not ONNX's pytorch_half_pixel, which maps a single
// output pixel to 0 while PyTorch maps it to the centre ((0 + 0.5) n - 0.5).
ResizeArgs torch_args(const std::string& mode, bool align_corners, const std::string& layer) {
  CONVNET_CHECK(mode == "nearest" || mode == "bilinear", layer, ": mode '", mode,
                "' is not supported (nearest or bilinear)");
  CONVNET_CHECK(!align_corners || mode == "bilinear", layer,
                ": align_corners option can only be set with the interpolating modes: bilinear");
  ResizeArgs a;
  a.mode = mode == "nearest" ? "nearest" : "linear";
  a.coordinate_transformation_mode = mode == "nearest" ? "asymmetric" : align_corners ? "align_corners" : "half_pixel";
  a.nearest_mode = "floor";
  return a;
}
}  // namespace

Tensor interpolate(const Tensor& x, std::array<int64_t, 2> size, const std::string& mode, bool align_corners,
                   const std::string& layer) {
  return resize(x, size, torch_args(mode, align_corners, layer), layer);
}

Tensor interpolate_scale(const Tensor& x, std::array<double, 2> scale, const std::string& mode, bool align_corners,
                         const std::string& layer) {
  CONVNET_CHECK(x.defined() && x.dim() == 4, layer, ": expected an input (N, C, H, W), got ",
                x.defined() ? shape_str(x.shape()) : std::string("an undefined tensor"));
  CONVNET_CHECK(scale[0] > 0 && scale[1] > 0, layer, ": scale factors must be positive, got (", scale[0], ", ",
                scale[1], ")");
  ResizeArgs a = torch_args(mode, align_corners, layer);
  if (!align_corners) a.scales = scale;  // PyTorch's coordinates use 1 / scale_factor
  const auto oh = static_cast<int64_t>(std::floor(static_cast<double>(x.size(2)) * scale[0]));
  const auto ow = static_cast<int64_t>(std::floor(static_cast<double>(x.size(3)) * scale[1]));
  return resize(x, {oh, ow}, a, layer);
}

}  // namespace convnet::ops
