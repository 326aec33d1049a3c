#pragma once
#pragma GCC visibility push(default)
/// \file
/// clamp: `y = min(max(x, lo), hi)` elementwise, as torch.clamp (ONNX Clip); y has x's shape.
/// `d/dx = [lo <= x <= hi]` (1 on the bounds, as PyTorch).
/// lo may be -infinity and hi +infinity (a one-sided clamp). relu6 is `clamp(x, 0, 6)` with
/// PyTorch's ReLU6 gradient convention instead (0 on the bounds); see activation.h.
#include <string>

#include "convnet/core/tensor.h"

namespace convnet::ops {

/// `min(max(x, lo), hi)` elementwise (as torch.clamp).
/// \pre  `x` defined, on the CPU, float32 (bfloat16 / float16 are converted to float32);
///       `lo` <= `hi` (PyTorch returns hi everywhere otherwise; ONNX leaves it undefined).
///       The bounds are rounded to float32.
/// \post y: float32, x's shape. Backward gives `dx = [lo <= x <= hi] * dy`.
/// \throws convnet::Error naming `layer` and both bounds when `lo` > `hi`, or when `x` is
///       undefined, of a non-floating dtype, or not on the CPU.
Tensor clamp(const Tensor& x, double lo, double hi, const std::string& layer = "clamp");

}  // namespace convnet::ops
#pragma GCC visibility pop
