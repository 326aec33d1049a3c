#pragma once
// Broadcasting, as torch.broadcast_shapes / torch.broadcast_to (NumPy rules): shapes are
// aligned at their last dimension; two sizes agree if they are equal or one of them is 1,
// and missing leading dimensions count as 1.
//   broadcast_to(x, s): y[o] = x[o'] with o'_k = (x.size(k) == 1 ? 0 : o_k) for the aligned k
//   gradient: dL/dx = the gradient summed over every broadcast (copied) dimension
// Used for the broadcasting arithmetic of imported ONNX graphs (a per-channel (C, 1, 1)
// constant times an (N, C, H, W) map, a Gemm bias C).
#include <string>

#include "convnet/core/tensor.h"

namespace convnet::ops {

// The common shape of a and b; throws naming both when they do not broadcast.
Shape broadcast_shapes(const Shape& a, const Shape& b, const std::string& layer = "broadcast");
// requires: x.shape() broadcasts to `shape` without changing `shape` (x.dim() <= shape.size()).
// Returns x itself (no copy) when the shapes are equal.
Tensor broadcast_to(const Tensor& x, const Shape& shape, const std::string& layer = "broadcast_to");

}  // namespace convnet::ops
