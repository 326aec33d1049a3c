#pragma once
#pragma GCC visibility push(default)
/// \file
/// Elementwise activations, as torch.nn.functional (relu, leaky_relu, relu6, tanh,
/// sigmoid, hardsigmoid, hardswish, silu, gelu, elu, selu, softplus, softsign, and erf), and the guided-backpropagation
/// switch for relu. y has x's shape. \code{.unparsed}
///   relu(x)              = max(x, 0)                     d/dx = [x > 0]  (0 at x = 0, as PyTorch)
///   leaky_relu(x, a)     = x > 0 ? x : a x               d/dx = x > 0 ? 1 : a
///   relu6(x)             = min(max(x, 0), 6)             d/dx = [0 < x < 6]  (0 at x = 0 and x = 6,
///                          as PyTorch's hardtanh(x, 0, 6); MobileNetV2's activation)
///   tanh(x)                                              d/dx = 1 - y^2
///   sigmoid(x)           = 1 / (1 + exp(-x))             d/dx = y (1 - y)
///   hardsigmoid(x)       = relu6(x + 3) / 6              d/dx = [-3 < x < 3] / 6
///   hardswish(x)         = x relu6(x + 3) / 6            d/dx = 0 (x < -3), x/3 + 1/2 (-3 <= x <= 3), 1 (x > 3)
///   silu(x)              = x sigmoid(x)                  d/dx = s (1 + x (1 - s)), s = sigmoid(x)
///   gelu(x)              = x Phi(x) = x (1 + erf(x / sqrt 2)) / 2            d/dx = Phi(x) + x phi(x)
///   gelu(x, "tanh")      = x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2  (its exact derivative)
///   elu(x, a)            = x > 0 ? x : a (exp(x) - 1)    d/dx = x > 0 ? 1 : a exp(x)
///   selu(x)              = 1.0507... elu(x, 1.6732...)   (Klambauer et al. 2017)
///   softplus(x, b)       = log(1 + exp(b x)) / b, x where b x > 20             d/dx = sigmoid(b x)
///   softsign(x)          = x / (1 + |x|)                 d/dx = 1 / (1 + |x|)^2
///   erf(x)                                               d/dx = 2 / sqrt(pi) exp(-x^2)
/// \endcode
/// At the kinks the derivatives are PyTorch's formulas (hardsigmoid: 0 at +-3; hardswish: the
/// middle branch at +-3, where PyTorch's vectorized CPU kernel gives 1 at +3; elu and selu:
/// the negative branch at 0).
/// relu computes a bfloat16 / float16 input in its own dtype; the others compute in
/// float32 and return float32 for such an input (ops/autocast.h).
#include <string>

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
/// Hard sigmoid, `relu6(x + 3) / 6` elementwise (as torch.nn.functional.hardsigmoid;
/// MobileNetV3's gate).
/// \pre  `x` defined, on the CPU, float32 (bfloat16 / float16 are converted to float32); any shape.
/// \post y: float32, x's shape, in [0, 1]. Backward gives `dx = [-3 < x < 3] / 6 * dy`.
/// \throws convnet::Error when `x` is undefined, of a non-floating dtype, or not on the CPU.
Tensor hardsigmoid(const Tensor& x);
/// Hard swish, `x * relu6(x + 3) / 6` elementwise (as torch.nn.functional.hardswish;
/// MobileNetV3's activation).
/// \pre  `x` defined, on the CPU, float32 (bfloat16 / float16 are converted to float32); any shape.
/// \post y: float32, x's shape. Backward: the derivative in the table above, times dy.
/// \throws convnet::Error when `x` is undefined, of a non-floating dtype, or not on the CPU.
Tensor hardswish(const Tensor& x);
/// SiLU (swish), `x * sigmoid(x)` elementwise (as torch.nn.functional.silu; EfficientNet's).
/// \pre  `x` defined, on the CPU, float32 (bfloat16 / float16 are converted to float32); any shape.
/// \post y: float32, x's shape. Backward: the derivative in the table above, times dy.
/// \throws convnet::Error when `x` is undefined, of a non-floating dtype, or not on the CPU.
Tensor silu(const Tensor& x);
/// GELU (as torch.nn.functional.gelu): `approximate` "none" is `x Phi(x)` with the exact
/// normal CDF (erf), "tanh" is the tanh approximation.
/// \pre  `x` defined, on the CPU, float32 (bfloat16 / float16 are converted to float32); any
///       shape; `approximate` is "none" or "tanh".
/// \post y: float32, x's shape. Backward: the derivative of the chosen form, times dy.
/// \throws convnet::Error for another `approximate`, or as relu for `x`.
Tensor gelu(const Tensor& x, const std::string& approximate = "none");
/// ELU, `x > 0 ? x : alpha (exp(x) - 1)` elementwise (as torch.nn.functional.elu).
/// \pre  `x` defined, on the CPU, float32 (bfloat16 / float16 are converted to float32); any shape.
/// \post y: float32, x's shape. Backward gives `dx = (x > 0 ? 1 : alpha exp(x)) * dy`.
/// \throws convnet::Error when `x` is undefined, of a non-floating dtype, or not on the CPU.
Tensor elu(const Tensor& x, double alpha = 1.0);
/// SELU, `scale * elu(x, alpha)` with scale = 1.0507009873554805 and alpha = 1.6732632423543772
/// (as torch.nn.functional.selu).
/// \pre  `x` defined, on the CPU, float32 (bfloat16 / float16 are converted to float32); any shape.
/// \post y: float32, x's shape. Backward gives `dx = scale (x > 0 ? 1 : alpha exp(x)) * dy`.
/// \throws convnet::Error when `x` is undefined, of a non-floating dtype, or not on the CPU.
Tensor selu(const Tensor& x);
/// Softplus, `log(1 + exp(beta x)) / beta`, and `x` where `beta x > 20` (as
/// torch.nn.functional.softplus with its default threshold of 20).
/// \pre  `x` defined, on the CPU, float32 (bfloat16 / float16 are converted to float32); any
///       shape; `beta` > 0.
/// \post y: float32, x's shape. Backward gives `dx = sigmoid(beta x) * dy` (dy past the threshold).
/// \throws convnet::Error when `beta` <= 0, or as relu for `x`.
Tensor softplus(const Tensor& x, double beta = 1.0);
/// Softsign, `x / (1 + |x|)` elementwise (as torch.nn.functional.softsign).
/// \pre  `x` defined, on the CPU, float32 (bfloat16 / float16 are converted to float32); any shape.
/// \post y: float32, x's shape, in (-1, 1). Backward gives `dx = dy / (1 + |x|)^2`.
/// \throws convnet::Error when `x` is undefined, of a non-floating dtype, or not on the CPU.
Tensor softsign(const Tensor& x);
/// PReLU, `x > 0 ? x : weight[c] * x` with a learnable slope per channel c = index 1 of x,
/// or one slope for all (as torch.nn.functional.prelu; MTCNN's and many detectors').
/// \pre  `x` defined, on the CPU, float32 (bfloat16 / float16 are converted to float32), of
///       rank >= 1; `weight` float32 with 1 element, or x.size(1) elements (rank >= 2).
/// \post y: float32, x's shape (plain layout). Backward gives `dx = (x > 0 ? 1 : w) * dy` and
///       `dw[c] = sum over the other dims of (x > 0 ? 0 : x * dy)` (all dims for one slope).
/// \throws convnet::Error naming prelu and both shapes when weight has another size.
Tensor prelu(const Tensor& x, const Tensor& weight);
/// The error function elementwise (as torch.erf); ONNX's Erf, which exporters use for GELU.
/// \pre  `x` defined, on the CPU, float32 (bfloat16 / float16 are converted to float32); any shape.
/// \post y: float32, x's shape, in [-1, 1]. Backward gives `dx = 2 / sqrt(pi) exp(-x^2) * dy`.
/// \throws convnet::Error when `x` is undefined, of a non-floating dtype, or not on the CPU.
Tensor erf(const Tensor& x);
/// e^x elementwise (as torch.exp; ONNX's Exp).
/// \pre  `x` defined, on the CPU, float32 (bfloat16 / float16 are converted to float32).
/// \post y: float32, x's shape (inf where e^x overflows). Backward gives `dx = y * dy`.
/// \throws convnet::Error when `x` is undefined, of a non-floating dtype, or not on the CPU.
Tensor exp(const Tensor& x);
/// |x| elementwise (as torch.abs; ONNX's Abs).
/// \pre  `x` defined, on the CPU, float32 (bfloat16 / float16 are converted to float32).
/// \post y: float32, x's shape. Backward gives `dx = sign(x) * dy` (0 at x = 0, as PyTorch).
/// \throws convnet::Error when `x` is undefined, of a non-floating dtype, or not on the CPU.
Tensor abs(const Tensor& x);
/// The square root elementwise (as torch.sqrt; ONNX's Sqrt): NaN for negative x.
/// \pre  `x` defined, on the CPU, float32 (bfloat16 / float16 are converted to float32).
/// \post y: float32, x's shape. Backward gives `dx = dy / (2 y)` (infinite at 0, as PyTorch).
/// \throws convnet::Error when `x` is undefined, of a non-floating dtype, or not on the CPU.
Tensor sqrt(const Tensor& x);
/// The largest integer not above x, elementwise (as torch.floor; ONNX's Floor).
/// \pre  `x` defined, on the CPU, float32 (bfloat16 / float16 are converted to float32).
/// \post y: float32, x's shape. Backward gives `dx = 0` (a step function, as PyTorch).
/// \throws convnet::Error when `x` is undefined, of a non-floating dtype, or not on the CPU.
Tensor floor(const Tensor& x);
/// The smallest integer not below x, elementwise (as torch.ceil; ONNX's Ceil).
/// \pre  `x` defined, on the CPU, float32 (bfloat16 / float16 are converted to float32).
/// \post y: float32, x's shape. Backward gives `dx = 0` (a step function, as PyTorch).
/// \throws convnet::Error when `x` is undefined, of a non-floating dtype, or not on the CPU.
Tensor ceil(const Tensor& x);
/// 1 / x elementwise (as torch.reciprocal; ONNX's Reciprocal): inf at 0.
/// \pre  `x` defined, on the CPU, float32 (bfloat16 / float16 are converted to float32).
/// \post y: float32, x's shape. Backward gives `dx = -y^2 dy`.
/// \throws convnet::Error when `x` is undefined, of a non-floating dtype, or not on the CPU.
Tensor reciprocal(const Tensor& x);
/// The natural logarithm elementwise (as torch.log; ONNX's Log): -inf at 0, NaN below.
/// \pre  `x` defined, on the CPU, float32 (bfloat16 / float16 are converted to float32).
/// \post y: float32, x's shape. Backward gives `dx = dy / x`.
/// \throws convnet::Error when `x` is undefined, of a non-floating dtype, or not on the CPU.
Tensor log(const Tensor& x);

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
