#pragma once
// Loss scaling for float16 mixed precision, as torch.cuda.amp.GradScaler.
//
// float16 keeps 5 exponent bits: gradients below ~6e-8 flush to zero in a float16 backward.
// Scaling the loss by S before backward scales every gradient by S, so small ones survive;
// unscale() divides them back (in float32) before the optimizer sees them. A scale that is
// too large overflows to Inf somewhere in backward: unscale() reports that, the step is
// skipped (no update from an Inf or NaN gradient), and a dynamic scaler halves S. After
// growth_interval steps in a row without overflow it doubles S again.
//
//   GradScaler scaler;                          // dynamic, S = 2^16
//   scaler.scale(loss).backward();
//   if (scaler.unscale(params)) opt.step();     // false: an overflow, skip this step
//   scaler.update();
//
// A static scaler (dynamic = false) keeps S; its overflowing steps are skipped all the same.
#include <cstdint>
#include <vector>

#include "convnet/core/tensor.h"

namespace convnet::optim {

struct GradScalerOptions {
  double init_scale = 65536.0;  // 2^16, PyTorch's default
  double growth_factor = 2.0;
  double backoff_factor = 0.5;
  int64_t growth_interval = 2000;
  bool dynamic = true;
};

class GradScaler {
 public:
  explicit GradScaler(GradScalerOptions o = {});

  double scale() const { return scale_; }
  int64_t growth_tracker() const { return tracker_; }
  // loss * S, differentiably (backward from it gives S times the gradients).
  Tensor scale(const Tensor& loss) const;
  // Divides the gradients of `params` by S in place; true when every one is finite (the
  // step may go on), false when some element is Inf or NaN (skip the step; the gradients
  // are left as they are).
  bool unscale(const std::vector<Tensor>& params);
  // After the step (taken or skipped): the outcome of the last unscale() moves the scale.
  void update();
  // Restores a saved scaler (a resumed run).
  void set_state(double scale, int64_t growth_tracker);

 private:
  GradScalerOptions o_;
  double scale_;
  int64_t tracker_ = 0;
  bool found_inf_ = false;
};

}  // namespace convnet::optim
