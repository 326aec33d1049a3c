#pragma once
#pragma GCC visibility push(default)
/// \file
/// softmax and log_softmax along one dimension of a tensor of any rank, as
/// torch.softmax / torch.log_softmax; y has x's shape. dim < 0 counts from the end.
/// \code{.unparsed}
///   softmax(x)_i     = exp(x_i - m) / sum_j exp(x_j - m)
///   log_softmax(x)_i = x_i - m - log sum_j exp(x_j - m)
/// \endcode
/// with m = max_j x_j along `dim`, so large logits (1000.0) give finite results.
#include <cstdint>

#include "convnet/core/tensor.h"

namespace convnet::ops {

/// Softmax along `dim` (as torch.softmax).
/// \pre  `x` defined, float32 (bfloat16 / float16 are converted to float32), on the CPU;
///       `-r <= dim < r` with r = max(x.dim(), 1) (a 0-d tensor counts as shape (1)).
/// \post y: float32, x's shape; every slice along `dim` is non-negative and sums to 1 (up to
///       rounding). Backward gives dx.
/// \throws convnet::Error naming `dim` and x's shape when `dim` is out of range, or when `x`
///       is undefined, of a non-floating dtype, or not on the CPU.
Tensor softmax(const Tensor& x, int64_t dim = -1);
/// Log-softmax along `dim` (as torch.log_softmax), computed directly (stable), not as
/// log(softmax(x)).
/// \pre  `x` defined, float32 (bfloat16 / float16 are converted to float32), on the CPU;
///       `-r <= dim < r` with r = max(x.dim(), 1).
/// \post y: float32, x's shape, every value <= 0. Backward gives dx.
/// \throws convnet::Error naming `dim` and x's shape when `dim` is out of range, or when `x`
///       is undefined, of a non-floating dtype, or not on the CPU.
Tensor log_softmax(const Tensor& x, int64_t dim = -1);

}  // namespace convnet::ops
#pragma GCC visibility pop
