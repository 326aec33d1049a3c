// GradScaler (optim/grad_scaler.h): PyTorch's GradScaler update rule, on the kernels.
#include "convnet/optim/grad_scaler.h"

#include <cmath>

#include "convnet/core/error.h"
#include "convnet/ops/elementwise.h"
#include "kernels/elementwise.h"
#include "kernels/registry.h"
#include "kernels/vector.h"
#include "ops/checks.h"
#include "optim/grad_sums.h"

namespace convnet::optim {

GradScaler::GradScaler(GradScalerOptions o) : o_(o), scale_(o.init_scale) {
  CONVNET_CHECK(o.init_scale > 0 && std::isfinite(o.init_scale), "GradScaler: the scale must be positive, got ",
                o.init_scale);
  CONVNET_CHECK(o.growth_factor > 1, "GradScaler: growth_factor must be above 1, got ", o.growth_factor);
  CONVNET_CHECK(o.backoff_factor > 0 && o.backoff_factor < 1, "GradScaler: backoff_factor must be in (0, 1), got ",
                o.backoff_factor);
  CONVNET_CHECK(o.growth_interval >= 1, "GradScaler: growth_interval must be at least 1, got ", o.growth_interval);
}

Tensor GradScaler::scale(const Tensor& loss) const {
  return ops::mul(loss, static_cast<float>(scale_));
}

bool GradScaler::unscale(const std::vector<Tensor>& params) {
  // The overflow check first, on the scaled gradients (a double sum of the squares of
  // float32 values is Inf or NaN exactly when an element is), then 1/S into every gradient,
  // in float32 as PyTorch's unscale_.
  found_inf_ = false;
  for (double v : grad_sum_squares(params))
    if (!std::isfinite(v)) {
      found_inf_ = true;
      return false;
    }
  const auto inv = static_cast<float>(1.0 / scale_);
  for (const auto& p : params) {
    Tensor g = p.grad();
    if (g.defined()) kernels::keys::scale(g.numel(), inv, ops::kdata(g), ops::kdata(g));
  }
  return true;
}

void GradScaler::update() {
  if (!o_.dynamic) return;
  if (found_inf_) {
    scale_ *= o_.backoff_factor;
    tracker_ = 0;
  } else if (++tracker_ == o_.growth_interval) {
    // PyTorch keeps the scale when growing would overflow float32.
    if (std::isfinite(static_cast<float>(scale_ * o_.growth_factor))) scale_ *= o_.growth_factor;
    tracker_ = 0;
  }
  found_inf_ = false;
}

void GradScaler::set_state(double scale, int64_t growth_tracker) {
  CONVNET_CHECK(scale > 0 && std::isfinite(scale), "GradScaler: a saved scale must be positive, got ", scale);
  scale_ = scale;
  tracker_ = growth_tracker;
}

}  // namespace convnet::optim
