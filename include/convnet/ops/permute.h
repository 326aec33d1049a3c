#pragma once
// permute: reorders the dimensions of a tensor, as torch.permute (ONNX Transpose).
//   y.size(k) = x.size(dims[k]),  y[o_0, ..., o_{r-1}] = x[i] with i_{dims[k]} = o_k
//   gradient: the output gradient permuted back by the inverse permutation.
// The result is a contiguous copy (convnet tensors are always contiguous).
#include <cstdint>
#include <string>
#include <vector>

#include "convnet/core/tensor.h"

namespace convnet::ops {

// requires: dims is a permutation of 0..x.dim()-1 (negative entries count from the end).
Tensor permute(const Tensor& x, const std::vector<int64_t>& dims, const std::string& layer = "permute");
// The transpose of a 2-D tensor: permute(x, {1, 0}).
Tensor transpose2d(const Tensor& x, const std::string& layer = "transpose");

}  // namespace convnet::ops
