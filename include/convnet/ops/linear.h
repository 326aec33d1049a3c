#pragma once
// linear: a fully connected layer, as torch.nn.functional.linear.
//   x: (*, in), weight: (out, in), bias: (out) or undefined
//   y: (*, out),  y[m, o] = b[o] + sum_i x[m, i] * w[o, i]   (y = x W^T + b)
// The leading dimensions of x are flattened into M rows, so one GEMM does the work.
#include <string>

#include "convnet/core/tensor.h"

namespace convnet::ops {

// requires: x.dim() >= 1, x.size(-1) == weight.size(1), weight 2-D, bias (out) or undefined.
// ensures:  y has x's shape with the last dimension replaced by weight.size(0).
// `layer` names the calling layer in error messages (e.g. "classifier.0").
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias, const std::string& layer = "linear");

}  // namespace convnet::ops
