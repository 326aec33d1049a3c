#pragma once
#pragma GCC visibility push(default)
/// \file
/// Broadcasting, as torch.broadcast_shapes / torch.broadcast_to (NumPy rules): shapes are
/// aligned at their last dimension; two sizes agree if they are equal or one of them is 1,
/// and missing leading dimensions count as 1.
/// \code{.unparsed}
///   broadcast_to(x, s): y[o] = x[o'] with o'_k = (x.size(k) == 1 ? 0 : o_k) for the aligned k
///   gradient: dL/dx = the gradient summed over every broadcast (copied) dimension
/// \endcode
/// Used for the broadcasting arithmetic of imported ONNX graphs (a per-channel (C, 1, 1)
/// constant times an (N, C, H, W) map, a Gemm bias C).
#include <string>

#include "convnet/core/tensor.h"

namespace convnet::ops {

/// The common shape of `a` and `b` under broadcasting (as torch.broadcast_shapes).
/// \pre  `a` and `b` broadcast: aligned at the last dimension, each pair of sizes equal or
///       one of them 1.
/// \post a shape of rank `max(a.size(), b.size())`; each size is the one that is not 1 (1
///       when both are).
/// \throws convnet::Error naming `layer`, both shapes and the first dimension where they
///       do not broadcast.
Shape broadcast_shapes(const Shape& a, const Shape& b, const std::string& layer = "broadcast");
/// `x` repeated along its size-1 (and missing leading) dimensions to `shape` (as
/// torch.broadcast_to, but a copy, not a view).
/// \pre  `x` defined, on the CPU, float32 (bfloat16 / float16 are converted to float32);
///       x.shape() broadcasts to `shape` without changing `shape` (`x.dim() <= shape.size()`,
///       each size of x equal to the aligned size of `shape` or 1).
/// \post y: float32, shape `shape`. x itself (no copy) when the shapes are equal and x is
///       float32. Backward gives dx, the output gradient summed over the copies of each element.
/// \throws convnet::Error naming `layer` and both shapes when `x` does not broadcast to
///       `shape`, or when `x` is undefined, of a non-floating dtype, or not on the CPU.
Tensor broadcast_to(const Tensor& x, const Shape& shape, const std::string& layer = "broadcast_to");

}  // namespace convnet::ops
#pragma GCC visibility pop
