#pragma once
#pragma GCC visibility push(default)
/// \file
/// Elementwise arithmetic and full reductions, as torch (no broadcasting: the two
/// operands of a binary op have the same shape, as in a residual add; see broadcast.h).
/// \code{.unparsed}
///   add(a, b) = a + b    sub(a, b) = a - b    mul(a, b) = a * b    mul(a, s) = s a
///   div(a, b) = a / b    maximum, minimum, pow(a, b) = a^b, where(c, a, b) = c ? a : b
///   sum(x) = sum_i x_i   mean(x) = sum(x) / numel(x)   (scalars, shape ())
/// \endcode
/// The operators `+`, `-` and `*` on tensors call add, sub and mul.
#include <string>

#include "convnet/core/tensor.h"

namespace convnet::ops {

/// `a + b` elementwise (as torch.add, without broadcasting). `layer` names the calling
/// layer in error messages (for example "layer1.0 (residual add)").
/// \pre  `a` and `b` defined, of the same shape, on the CPU; both float32, or both of one
///       reduced dtype (bfloat16 or float16). Under an autocast guard, floating operands of
///       two dtypes are converted to float32 first (as PyTorch promotes them).
/// \post y: the operands' shape and (common) dtype. Backward gives da = db = dy.
/// \throws convnet::Error naming `layer` and both shapes (or dtypes, devices) when an
///       operand is undefined, the shapes differ, the dtypes or devices differ, or the
///       operands are neither float32 nor reduced-precision on the CPU.
Tensor add(const Tensor& a, const Tensor& b, const std::string& layer = "add");
/// `a - b` elementwise (as torch.sub, without broadcasting).
/// \pre  `a` and `b` defined, of the same shape, float32 (bfloat16 / float16 are converted
///       to float32), on the CPU.
/// \post y: float32, the operands' shape. Backward gives da = dy, db = -dy.
/// \throws convnet::Error naming both shapes (or dtypes, devices) when an operand is
///       undefined, the shapes differ, or an operand is not float32 on the CPU.
Tensor sub(const Tensor& a, const Tensor& b);
/// `a * b` elementwise (as torch.mul, without broadcasting).
/// \pre  `a` and `b` defined, of the same shape, float32 (bfloat16 / float16 are converted
///       to float32), on the CPU.
/// \post y: float32, the operands' shape. Backward gives `da = dy * b`, `db = dy * a`.
/// \throws convnet::Error naming both shapes (or dtypes, devices) when an operand is
///       undefined, the shapes differ, or an operand is not float32 on the CPU.
Tensor mul(const Tensor& a, const Tensor& b);
/// `s * a` elementwise (as torch.mul with a scalar).
/// \pre  `a` defined, float32 (bfloat16 / float16 are converted to float32), on the CPU.
/// \post y: float32, a's shape. Backward gives `da = s * dy`.
/// \throws convnet::Error when `a` is undefined, of a non-floating dtype, or not on the CPU.
Tensor mul(const Tensor& a, float s);
/// `a / b` elementwise (as torch.div, without broadcasting; ONNX's Div).
/// \pre  `a` and `b` defined, of the same shape, float32 (bfloat16 / float16 are converted
///       to float32), on the CPU.
/// \post y: float32, the operands' shape (inf or NaN where b is 0, as IEEE). Backward gives
///       `da = dy / b`, `db = -dy a / b^2`.
/// \throws convnet::Error naming both shapes (or dtypes, devices) when an operand is
///       undefined, the shapes differ, or an operand is not float32 on the CPU.
Tensor div(const Tensor& a, const Tensor& b);
/// The larger of `a` and `b` elementwise (as torch.maximum, without broadcasting; NaN in
/// either operand gives NaN).
/// \pre  as div().
/// \post y: float32, the operands' shape. Backward gives dy to the larger operand, dy / 2 to
///       each on a tie (as PyTorch).
/// \throws convnet::Error as div().
Tensor maximum(const Tensor& a, const Tensor& b);
/// The smaller of `a` and `b` elementwise (as torch.minimum, without broadcasting; NaN in
/// either operand gives NaN).
/// \pre  as div().
/// \post y: float32, the operands' shape. Backward gives dy to the smaller operand, dy / 2 to
///       each on a tie (as PyTorch).
/// \throws convnet::Error as div().
Tensor minimum(const Tensor& a, const Tensor& b);
/// `a ^ b` elementwise (as torch.pow of two tensors, without broadcasting; ONNX's Pow): NaN
/// for a negative base with a non-integer exponent.
/// \pre  as div().
/// \post y: float32, the operands' shape. Backward gives `da = dy b a^(b-1)` (0 where b = 0)
///       and `db = dy y ln a` (0 where a = 0 and b >= 0), as PyTorch.
/// \throws convnet::Error as div().
Tensor pow(const Tensor& a, const Tensor& b);
/// `a ^ exponent` elementwise (as torch.pow with a scalar exponent).
/// \pre  `a` defined, float32 (bfloat16 / float16 are converted to float32), on the CPU.
/// \post y: float32, a's shape. Backward gives `da = dy exponent a^(exponent-1)` (0 when the
///       exponent is 0).
/// \throws convnet::Error when `a` is undefined, of a non-floating dtype, or not on the CPU.
Tensor pow(const Tensor& a, float exponent);
/// `cond ? a : b` elementwise (as torch.where, without broadcasting; ONNX's Where).
/// \pre  `a` and `b` defined, of the same shape, float32 (bfloat16 / float16 are converted
///       to float32), on the CPU; `cond` defined, of that shape, of any dtype (nonzero is
///       true; it gets no gradient).
/// \post y: float32, the operands' shape. Backward gives `da = cond ? dy : 0`,
///       `db = cond ? 0 : dy`.
/// \throws convnet::Error naming the shapes when an operand is undefined or the shapes
///       differ, or when an operand is not float32 on the CPU.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
/// The sum of all elements (as torch.sum without a dim).
/// \pre  `x` defined, float32 (bfloat16 / float16 are converted to float32), on the CPU.
/// \post a float32 scalar of shape (). Backward gives dx: dy everywhere.
/// \throws convnet::Error when `x` is undefined, of a non-floating dtype, or not on the CPU.
Tensor sum(const Tensor& x);
/// The mean of all elements (as torch.mean without a dim).
/// \pre  `x` defined, float32 (bfloat16 / float16 are converted to float32), on the CPU.
/// \post a float32 scalar of shape () (NaN for an empty x, as torch.mean). Backward gives
///       dx: `dy / numel(x)` everywhere.
/// \throws convnet::Error when `x` is undefined, of a non-floating dtype, or not on the CPU.
Tensor mean(const Tensor& x);

}  // namespace convnet::ops

namespace convnet {
/// `a + b`: ops::add(a, b).
inline Tensor operator+(const Tensor& a, const Tensor& b) {
  return ops::add(a, b);
}
/// `a - b`: ops::sub(a, b).
inline Tensor operator-(const Tensor& a, const Tensor& b) {
  return ops::sub(a, b);
}
/// `a * b` elementwise: ops::mul(a, b).
inline Tensor operator*(const Tensor& a, const Tensor& b) {
  return ops::mul(a, b);
}
/// `a * s`: ops::mul(a, s).
inline Tensor operator*(const Tensor& a, float s) {
  return ops::mul(a, s);
}
}  // namespace convnet
#pragma GCC visibility pop
