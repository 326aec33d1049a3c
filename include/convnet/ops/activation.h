#pragma once
#pragma GCC visibility push(default)
/// \file
/// Elementwise activations, as torch.nn.functional (relu, leaky_relu, relu6, tanh,
/// sigmoid), and the guided-backpropagation switch for relu. y has x's shape.
/// \code{.unparsed}
///   relu(x)              = max(x, 0)                     d/dx = [x > 0]  (0 at x = 0, as PyTorch)
///   leaky_relu(x, a)     = x > 0 ? x : a x               d/dx = x > 0 ? 1 : a
///   relu6(x)             = min(max(x, 0), 6)             d/dx = [0 < x < 6]  (0 at x = 0 and x = 6,
///                          as PyTorch's hardtanh(x, 0, 6); MobileNetV2's activation)
///   tanh(x)                                              d/dx = 1 - y^2
///   sigmoid(x)           = 1 / (1 + exp(-x))             d/dx = y (1 - y)
/// \endcode
/// relu computes a bfloat16 / float16 input in its own dtype; the others compute in
/// float32 and return float32 for such an input (ops/autocast.h).
#include "convnet/core/tensor.h"

namespace convnet::ops {

/// Rectified linear unit, `max(x, 0)` elementwise (as torch.nn.functional.relu).
/// \pre  `x` defined, on the CPU, float32, bfloat16 or float16; any shape.
/// \post y has x's shape; y's dtype is x's (float32 when guided backpropagation is on and x
///       is bfloat16 / float16). Backward gives `dx = [x > 0] * dy`, or with a live
///       GuidedReluGuard at forward time `[x > 0] * max(dy, 0)`.
/// \throws convnet::Error when `x` is undefined, of another dtype, or not on the CPU.
Tensor relu(const Tensor& x);
/// Leaky ReLU, `x > 0 ? x : negative_slope * x` elementwise (as
/// torch.nn.functional.leaky_relu).
/// \pre  `x` defined, on the CPU, float32 (bfloat16 / float16 are converted to float32); any shape.
/// \post y: float32, x's shape. Backward gives `dx = (x > 0 ? 1 : negative_slope) * dy`.
/// \throws convnet::Error when `x` is undefined, of a non-floating dtype, or not on the CPU.
Tensor leaky_relu(const Tensor& x, double negative_slope = 0.01);
/// ReLU6, `min(max(x, 0), 6)` elementwise (as torch.nn.functional.relu6).
/// \pre  `x` defined, on the CPU, float32 (bfloat16 / float16 are converted to float32); any shape.
/// \post y: float32, x's shape. Backward gives `dx = [0 < x < 6] * dy`, or with a live
///       GuidedReluGuard at forward time `[0 < x < 6] * max(dy, 0)`.
/// \throws convnet::Error when `x` is undefined, of a non-floating dtype, or not on the CPU.
Tensor relu6(const Tensor& x);
/// Hyperbolic tangent elementwise (as torch.tanh).
/// \pre  `x` defined, on the CPU, float32 (bfloat16 / float16 are converted to float32); any shape.
/// \post y: float32, x's shape, in (-1, 1). Backward gives `dx = (1 - y^2) * dy`.
/// \throws convnet::Error when `x` is undefined, of a non-floating dtype, or not on the CPU.
Tensor tanh(const Tensor& x);
/// Logistic sigmoid, `1 / (1 + exp(-x))` elementwise (as torch.sigmoid).
/// \pre  `x` defined, on the CPU, float32 (bfloat16 / float16 are converted to float32); any shape.
/// \post y: float32, x's shape, in [0, 1]. Backward gives `dx = y (1 - y) * dy`.
/// \throws convnet::Error when `x` is undefined, of a non-floating dtype, or not on the CPU.
Tensor sigmoid(const Tensor& x);

/// Guided backpropagation (Springenberg et al. 2015, "Striving for simplicity"): while a
/// guard is alive on this thread, relu and relu6 record a backward that also drops the
/// negative gradients, `gx = [x > 0] * max(gy, 0)` (relu6: `[0 < x < 6] * max(gy, 0)`), the
/// same as a PyTorch backward hook on nn.ReLU that returns `clamp(grad_input, min=0)`.
/// The mode is read when the forward pass records the op, so the guard must cover the
/// forward; the backward may run later. Nothing else changes (forward values, other ops).
/// Guards nest: each restores the mode it found.
class GuidedReluGuard {
 public:
  /// Turns guided backpropagation on for this thread.
  /// \post guided_relu_enabled() is true until this guard is destroyed.
  GuidedReluGuard();
  /// Restores the mode this guard found when it was made.
  ~GuidedReluGuard();
  GuidedReluGuard(const GuidedReluGuard&) = delete;
  GuidedReluGuard& operator=(const GuidedReluGuard&) = delete;

 private:
  bool prev_;
};
/// Whether a GuidedReluGuard is alive on this thread.
bool guided_relu_enabled();

}  // namespace convnet::ops
#pragma GCC visibility pop
