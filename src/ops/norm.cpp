// layer_norm / group_norm: check the shapes, view x as (rows, D) with its affine geometry
// (kernels/norm.h), dispatch. The backward needs x, the weight and each row's mean and rstd.
#include "convnet/ops/norm.h"

#include "convnet/autograd/autograd.h"
#include "convnet/autograd/trace.h"
#include "convnet/core/error.h"
#include "kernels/norm.h"
#include "kernels/registry.h"
#include "ops/checks.h"

namespace convnet::ops {

namespace {

void check_param(const Tensor& p, const Shape& want, const char* what, const std::string& layer) {
  if (!p.defined()) return;
  CONVNET_CHECK(p.shape() == want, layer, ": expected ", what, " of shape ", shape_str(want), ", got ",
                shape_str(p.shape()));
}

Tensor normalize(const char* op, const Tensor& x, const Tensor& w, const Tensor& b, double eps,
                 const kernels::NormGeom& g, const std::string& layer, trace::Attrs attrs) {
  CONVNET_CHECK(eps > 0, layer, ": eps must be positive, got ", eps);
  check_operands(layer, {{"input", &x}, {"weight", &w}, {"bias", &b}});
  if (x.numel() == 0) return Tensor::empty(x.shape());  // nothing to normalize
  Tensor y = Tensor::empty(x.shape());
  Tensor mean = Tensor::empty({g.rows}), rstd = Tensor::empty({g.rows});
  kernels::keys::norm_fwd.get()(g, x.data(), w.defined() ? w.data() : nullptr, b.defined() ? b.data() : nullptr, eps,
                                y.data(), mean.data(), rstd.data());
  autograd::record(y, op, {x, w, b}, [g, x, w, b, mean, rstd](const Tensor& gy) {
    Tensor gx = x.requires_grad() ? Tensor::empty(x.shape()) : Tensor();
    Tensor gw = w.defined() && w.requires_grad() ? Tensor::empty(w.shape()) : Tensor();
    Tensor gb = b.defined() && b.requires_grad() ? Tensor::empty(b.shape()) : Tensor();
    kernels::keys::norm_bwd.get()(g, x.data(), w.defined() ? w.data() : nullptr, mean.data(), rstd.data(), gy.data(),
                                  gx.defined() ? gx.data() : nullptr, gw.defined() ? gw.data() : nullptr,
                                  gb.defined() ? gb.data() : nullptr);
    return std::vector<Tensor>{gx, gw, gb};
  });
  if (trace::active()) trace::record(op, {x, w, b}, y, std::move(attrs));
  return y;
}

}  // namespace

Tensor layer_norm(const Tensor& x_arg, const Shape& normalized_shape, const Tensor& weight, const Tensor& bias,
                  double eps, const std::string& layer) {
  CONVNET_CHECK(x_arg.defined(), layer, ": input must be defined");
  const Tensor x = as_fp32(x_arg);  // float32 kernels only (ops/autocast.h)
  const auto k = static_cast<int64_t>(normalized_shape.size());
  bool ok = k >= 1 && k <= x.dim();
  for (int64_t i = 0; ok && i < k; ++i) ok = x.size(x.dim() - k + i) == normalized_shape[i];
  CONVNET_CHECK(ok, layer, ": normalized_shape ", shape_str(normalized_shape),
                " must equal the last dimensions of the input, got input of shape ", shape_str(x.shape()));
  check_param(weight, normalized_shape, "weight", layer);
  check_param(bias, normalized_shape, "bias", layer);
  const int64_t D = shape_numel(normalized_shape);
  const kernels::NormGeom g{D ? x.numel() / D : 0, D, 1, 1};
  return normalize("layer_norm", x, weight, bias, eps, g, layer,
                   {.ints = {{"normalized_shape", normalized_shape}}, .floats = {{"eps", eps}}});
}

Tensor group_norm(const Tensor& x_arg, int64_t G, const Tensor& weight, const Tensor& bias, double eps,
                  const std::string& layer) {
  CONVNET_CHECK(x_arg.defined() && x_arg.dim() >= 2, layer, ": expected an input (N, C, *), got ",
                x_arg.defined() ? shape_str(x_arg.shape()) : std::string("an undefined tensor"));
  const Tensor x = as_fp32(x_arg);  // float32 kernels only (ops/autocast.h)
  const int64_t C = x.size(1);
  CONVNET_CHECK(G >= 1 && C % G == 0, layer, ": ", G, " groups do not divide the ", C,
                " channels of the input of shape ", shape_str(x.shape()));
  check_param(weight, {C}, "weight", layer);
  check_param(bias, {C}, "bias", layer);
  int64_t inner = 1;
  for (int64_t d = 2; d < x.dim(); ++d) inner *= x.size(d);
  const kernels::NormGeom g{x.size(0) * G, (C / G) * inner, G, inner};
  return normalize("group_norm", x, weight, bias, eps, g, layer,
                   {.ints = {{"num_groups", {G}}}, .floats = {{"eps", eps}}});
}

}  // namespace convnet::ops
