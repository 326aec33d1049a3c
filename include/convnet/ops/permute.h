#pragma once
#pragma GCC visibility push(default)
/// \file
/// permute: reorders the dimensions of a tensor, as torch.permute (ONNX Transpose).
/// \code{.unparsed}
///   y.size(k) = x.size(dims[k]),  y[o_0, ..., o_{r-1}] = x[i] with i_{dims[k]} = o_k
///   gradient: the output gradient permuted back by the inverse permutation.
/// \endcode
/// The result is a contiguous copy (convnet tensors are always contiguous).
#include <cstdint>
#include <string>
#include <vector>

#include "convnet/core/tensor.h"

namespace convnet::ops {

/// `x` with its dimensions reordered: dimension k of the result is dimension `dims[k]` of x
/// (as torch.permute, but a copy).
/// \pre  `x` defined, float32 (bfloat16 / float16 are converted to float32), on the CPU;
///       `dims` is a permutation of 0..x.dim()-1 (negative entries count from the end).
/// \post y: float32, a contiguous copy with `y.size(k) = x.size(dims[k])`. Backward gives dx,
///       the output gradient permuted back.
/// \throws convnet::Error naming `layer`, `dims` and x's shape when `dims` has the wrong
///       length or is not a permutation, or when `x` is undefined, of a non-floating dtype,
///       or not on the CPU.
Tensor permute(const Tensor& x, const std::vector<int64_t>& dims, const std::string& layer = "permute");
/// The transpose of a 2-D tensor: `permute(x, {1, 0})` (as torch.t).
/// \pre  `x` defined and 2-D, float32 (bfloat16 / float16 are converted to float32), on the CPU.
/// \post y: float32, (x.size(1), x.size(0)). Backward gives dx, the output gradient transposed.
/// \throws convnet::Error naming `layer` and x's shape when `x` is undefined or not 2-D, or
///       of a non-floating dtype, or not on the CPU.
Tensor transpose2d(const Tensor& x, const std::string& layer = "transpose");
/// ShuffleNet's channel shuffle (torch.nn.functional.channel_shuffle): the channels of each
/// of `groups` groups are interleaved, channel g * (C / groups) + i moving to
/// i * groups + g. A reshape to (N, groups, C / groups, ...), a permute of dimensions 1 and
/// 2, and a reshape back: no kernel of its own.
/// \pre  `x` defined with at least 2 dimensions, floating point, on the CPU; `groups`
///       positive and divides x.size(1).
/// \post y: float32, x's shape. Backward gives dx (the inverse shuffle of the gradient).
/// \throws convnet::Error naming `layer`, `groups` and x's shape when x has fewer than 2
///       dimensions or `groups` does not divide its channels.
Tensor channel_shuffle(const Tensor& x, int64_t groups, const std::string& layer = "channel_shuffle");

}  // namespace convnet::ops
#pragma GCC visibility pop
