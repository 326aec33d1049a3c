#pragma once
#pragma GCC visibility push(default)
/// \file
/// Loss scaling for float16 mixed precision, as torch.cuda.amp.GradScaler.
///
/// float16 keeps 5 exponent bits: gradients below ~6e-8 flush to zero in a float16 backward.
/// Scaling the loss by S before backward scales every gradient by S, so small ones survive;
/// unscale() divides them back (in float32) before the optimizer sees them. A scale that is
/// too large overflows to Inf somewhere in backward: unscale() reports that, the step is
/// skipped (no update from an Inf or NaN gradient), and a dynamic scaler halves S. After
/// growth_interval steps in a row without overflow it doubles S again.
///
/// \code
///   GradScaler scaler;                          // dynamic, S = 2^16
///   scaler.scale(loss).backward();
///   if (scaler.unscale(params)) opt.step();     // false: an overflow, skip this step
///   scaler.update();
/// \endcode
///
/// A static scaler (dynamic = false) keeps S; its overflowing steps are skipped all the same.
#include <cstdint>
#include <vector>

#include "convnet/core/tensor.h"

namespace convnet::optim {

/// GradScaler's settings, with PyTorch's defaults.
struct GradScalerOptions {
  double init_scale = 65536.0;     ///< 2^16, PyTorch's default; positive and finite
  double growth_factor = 2.0;      ///< S is multiplied by it after growth_interval clean steps; > 1
  double backoff_factor = 0.5;     ///< S is multiplied by it after an overflow; in (0, 1)
  int64_t growth_interval = 2000;  ///< clean steps in a row before S grows; >= 1
  bool dynamic = true;             ///< false: S stays init_scale
};

/// Dynamic (or static) loss scaling (torch.cuda.amp.GradScaler, on the CPU).
class GradScaler {
 public:
  /// A scaler with scale() == o.init_scale.
  /// \pre  init_scale positive and finite; growth_factor > 1; backoff_factor in (0, 1);
  ///       growth_interval >= 1.
  /// \throws convnet::Error "GradScaler: ..." naming the option and the value otherwise.
  explicit GradScaler(GradScalerOptions o = {});

  /// The current scale S.
  double scale() const { return scale_; }
  /// Clean (overflow-free) updates since the scale last changed.
  int64_t growth_tracker() const { return tracker_; }
  /// loss * S, differentiably (backward from it gives S times the gradients).
  /// \pre  `loss` defined, floating, on the CPU (usually a float32 scalar).
  /// \post a float32 tensor of loss's shape.
  /// \throws convnet::Error as ops::mul for an undefined, non-floating or non-CPU `loss`.
  Tensor scale(const Tensor& loss) const;
  /// Divides the gradients of `params` by S in place; true when every one is finite (the
  /// step may go on), false when some element is Inf or NaN (skip the step; the gradients
  /// are left as they are). Parameters without a gradient are skipped.
  /// \pre  every defined gradient is float32 on the CPU.
  /// \post the outcome is kept for the next update().
  /// \throws convnet::Error for a gradient that is not float32 on the CPU, naming its dtype
  ///         and device.
  bool unscale(const std::vector<Tensor>& params);
  /// After the step (taken or skipped): the outcome of the last unscale() moves the scale.
  /// \post dynamic: after an overflow S *= backoff_factor and growth_tracker() = 0; else
  ///       growth_tracker() + 1, and at growth_interval S *= growth_factor (unless that
  ///       overflows float32) and growth_tracker() = 0. Static: nothing changes.
  void update();
  /// Restores a saved scaler (a resumed run).
  /// \pre  `scale` positive and finite.
  /// \post scale() == `scale`, growth_tracker() == `growth_tracker`.
  /// \throws convnet::Error "GradScaler: a saved scale must be positive" otherwise.
  void set_state(double scale, int64_t growth_tracker);

 private:
  GradScalerOptions o_;
  double scale_;
  int64_t tracker_ = 0;
  bool found_inf_ = false;
};

}  // namespace convnet::optim
#pragma GCC visibility pop
