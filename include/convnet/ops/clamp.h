#pragma once
// clamp: y = min(max(x, lo), hi) elementwise, as torch.clamp (ONNX Clip); y has x's shape.
//   d/dx = [lo <= x <= hi]  (1 on the bounds, as PyTorch)
// lo may be -infinity and hi +infinity (a one-sided clamp). relu6 is clamp(x, 0, 6) with
// PyTorch's ReLU6 gradient convention instead (0 on the bounds); see activation.h.
#include <string>

#include "convnet/core/tensor.h"

namespace convnet::ops {

// requires: lo <= hi (PyTorch returns hi everywhere otherwise; ONNX leaves it undefined).
Tensor clamp(const Tensor& x, double lo, double hi, const std::string& layer = "clamp");

}  // namespace convnet::ops
