#pragma once
#pragma GCC visibility push(default)
/// \file
/// linear: a fully connected layer, as torch.nn.functional.linear.
/// \code{.unparsed}
///   x: (*, in), weight: (out, in), bias: (out) or undefined
///   y: (*, out),  y[m, o] = b[o] + sum_i x[m, i] * w[o, i]   (y = x W^T + b)
/// \endcode
/// The leading dimensions of x are flattened into M rows, so one GEMM does the work.
#include <string>

#include "convnet/core/tensor.h"

namespace convnet::ops {

/// `y = x W^T + b` over the last dimension of `x` (as torch.nn.functional.linear).
/// `layer` names the calling layer in error messages (for example "classifier.0").
/// \pre  `x` and `weight` defined, on the CPU; `x.dim() >= 1`, `x.size(-1) == weight.size(1)`,
///       weight 2-D (out, in), bias (out) or undefined. Dtypes: all float32; or, for mixed
///       precision, `x` bfloat16 / float16 with float32 weight and bias (any floating dtype,
///       used as float32) on x's device. Under an autocast guard a floating `x` is first
///       converted to the guard's dtype.
/// \post y has x's shape with the last dimension replaced by `weight.size(0)`, in x's dtype
///       (after autocast). Backward gives dx (x's dtype), dweight and dbias (float32 for
///       float32 weights).
/// \throws convnet::Error naming `layer` and the shapes of the input and the weight (or the
///       bias) when an operand is undefined, of another dtype or device, the weight is not
///       2-D, x is a scalar, the feature counts differ, or the bias has the wrong shape.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias, const std::string& layer = "linear");
/// The batched matrix product `y[..., m, n] = sum_k a[..., m, k] b[..., k, n]` (as torch.matmul
/// of two tensors of the same rank >= 2 and the same batch dimensions; ONNX's MatMul after
/// broadcasting). One GEMM per matrix. `layer` names the caller in error messages.
/// \pre  `a` (..., M, K) and `b` (..., K, N) defined, float32 (bfloat16 / float16 are converted
///       to float32), on the CPU, of the same rank >= 2 with equal batch dimensions.
/// \post y: (..., M, N), float32, row-major. Backward gives `da = dy b^T`, `db = a^T dy` per
///       matrix.
/// \throws convnet::Error naming `layer` and both shapes when an operand is undefined, the
///       ranks or batch dimensions differ, or K differs.
Tensor matmul(const Tensor& a, const Tensor& b, const std::string& layer = "matmul");

}  // namespace convnet::ops
#pragma GCC visibility pop
