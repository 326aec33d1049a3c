#include "convnet/ops/batch_norm.h"

#include <vector>

#include "convnet/autograd/autograd.h"
#include "convnet/autograd/trace.h"
#include "convnet/core/error.h"
#include "kernels/batch_norm.h"
#include "kernels/layout.h"
#include "kernels/registry.h"
#include "kernels/vector.h"
#include "ops/checks.h"

namespace convnet::ops {

namespace {
// A per-channel tensor (weight, bias, running_mean, running_var) must be (C).
void check_channel_param(const Tensor& t, const char* name, const Tensor& x, const std::string& layer) {
  if (!t.defined()) return;
  CONVNET_CHECK(t.dim() == 1 && t.size(0) == x.size(1), layer, ": input of shape ", shape_str(x.shape()), " has ",
                x.size(1), " channels, but ", name, " has shape ", shape_str(t.shape()), " (expected (", x.size(1),
                "))");
}
}  // namespace

Tensor batch_norm(const Tensor& x, Tensor running_mean, Tensor running_var, const Tensor& weight_arg,
                  const Tensor& bias_arg, bool training, double momentum, double eps, const std::string& layer) {
  CONVNET_CHECK(x.defined(), layer, ": input must be defined");
  // A reduced-precision input (ops/autocast.h) is normalized in its dtype, with float32
  // parameters and statistics (the running ones are updated in place: float32 only).
  const bool reduced = is_reduced(x.dtype());
  if (!reduced) {
    check_operands(layer, {{"input", &x},
                           {"weight", &weight_arg},
                           {"bias", &bias_arg},
                           {"running_mean", &running_mean},
                           {"running_var", &running_var}});
  } else {
    for (const Tensor* r : {&running_mean, &running_var})
      CONVNET_CHECK(!r->defined() || (r->dtype() == DType::float32 && r->device() == x.device()), layer,
                    ": the running statistics of a ", dtype_name(x.dtype()), " input must be float32 on ",
                    device_name(x.device()), ", got ", dtype_name(r->dtype()), " on ", device_name(r->device()));
  }
  const Tensor weight = reduced ? param_fp32(layer, "weight", weight_arg, x) : weight_arg;
  const Tensor bias = reduced ? param_fp32(layer, "bias", bias_arg, x) : bias_arg;
  CONVNET_CHECK(x.dim() >= 2, layer, ": expected input of shape (N, C), (N, C, L) or (N, C, H, W), got input of shape ",
                shape_str(x.shape()));
  check_channel_param(weight, "weight", x, layer);
  check_channel_param(bias, "bias", x, layer);
  check_channel_param(running_mean, "running_mean", x, layer);
  check_channel_param(running_var, "running_var", x, layer);
  CONVNET_CHECK(running_mean.defined() == running_var.defined(), layer,
                ": running_mean and running_var must both be given or both be undefined");
  CONVNET_CHECK(eps >= 0, layer, ": eps must be non-negative, got ", eps);

  kernels::BatchNormGeom g{x.size(0), x.size(1), 1};
  for (int64_t d = 2; d < x.dim(); ++d) g.S *= x.size(d);
  // Without running statistics there is nothing else to normalize with (track_running_stats=False).
  const bool batch_stats = training || !running_mean.defined();
  const int64_t M = g.N * g.S;  // values per channel
  CONVNET_CHECK(!batch_stats || M > 1, layer,
                ": Expected more than 1 value per channel when training, got input of shape ", shape_str(x.shape()));

  const float* w = kdata(weight);
  const float* b = kdata(bias);
  // y in x's layout (the kernels read it as g.B).
  g.B = kernels::channel_block(x);
  Tensor y = Tensor::empty_like(x);
  Tensor mean, var;  // the statistics y was normalized with; backward needs them
  if (batch_stats) {
    mean = Tensor::empty({g.C}, DType::float32, x.device());
    var = Tensor::empty({g.C}, DType::float32, x.device());
    kernels::with_floating(x.dtype(), [&]<class T>() {
      (*kernels::keys::BatchNorm<T>::fwd_train)(g, x.stored_as<T>(), w, b, eps, y.stored_as<T>(), kdata(mean),
                                                kdata(var));
    });
    if (training && running_mean.defined()) {
      // The running variance estimates the population's: unbiased, M/(M-1) times the batch's.
      const double unbias = static_cast<double>(M) / static_cast<double>(M - 1);
      kernels::keys::batch_norm_update_stats(g.C, momentum, unbias, kdata(mean), kdata(var), kdata(running_mean),
                                             kdata(running_var));
    }
  } else {
    // Copies: a later training step updates the running statistics in place before this backward.
    mean = running_mean.clone();
    var = running_var.clone();
    kernels::with_floating(x.dtype(), [&]<class T>() {
      (*kernels::keys::BatchNorm<T>::fwd_eval)(g, x.stored_as<T>(), kdata(mean), kdata(var), w, b, eps,
                                               y.stored_as<T>());
    });
  }

  autograd::record(
      y, "batch_norm", {x, weight, bias}, [x, weight, bias, mean, var, g, eps, batch_stats](const Tensor& gy_in) {
        // x's layout now (it may have been rewritten row-major since), gy in it.
        kernels::BatchNormGeom gb_geom = g;
        gb_geom.B = kernels::channel_block(x);
        const Tensor gy = gy_in.to(x.dtype()).in_layout(x.layout());
        Tensor gx, gw, gb;
        if (x.requires_grad()) gx = Tensor::empty_like(x);
        if (weight.defined() && weight.requires_grad()) gw = Tensor::empty(weight.shape(), DType::float32, x.device());
        if (bias.defined() && bias.requires_grad()) gb = Tensor::empty(bias.shape(), DType::float32, x.device());
        kernels::with_floating(x.dtype(), [&]<class T>() {
          (*kernels::keys::BatchNorm<T>::bwd)(gb_geom, x.stored_as<T>(), gy.stored_as<T>(), kdata(mean), kdata(var),
                                              kdata(weight), eps, batch_stats,
                                              gx.defined() ? gx.stored_as<T>() : nullptr, kdata(gw), kdata(gb));
        });
        return std::vector<Tensor>{gx, gw, gb};
      });
  if (trace::active())
    trace::record("batch_norm", {x, weight, bias, running_mean, running_var}, y,
                  {.ints = {{"batch_stats", {batch_stats ? 1 : 0}}}, .floats = {{"eps", eps}, {"momentum", momentum}}});
  return y;
}

}  // namespace convnet::ops
