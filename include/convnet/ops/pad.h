#pragma once
// constant_pad: pads (or, with negative amounts, crops) every dimension of a tensor with a
// constant, as torch.nn.functional.pad(x, p, mode="constant", value=v) and ONNX Pad.
//   pads[k] = {before_k, after_k} for dimension k, in dimension order (first to last;
//   torch's F.pad lists the LAST dimension first: F.pad(x, (l, r, t, b)) on (N, C, H, W)
//   is constant_pad(x, {{0, 0}, {0, 0}, {t, b}, {l, r}})).
//   y.size(k) = x.size(k) + before_k + after_k
//   y[o] = x[o - before] inside x, value elsewhere; dL/dx = dL/dy at the matching positions.
// value may be -infinity (max pooling over explicitly padded input).
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "convnet/core/tensor.h"

namespace convnet::ops {

// requires: pads.size() == x.dim(); every output size >= 0.
Tensor constant_pad(const Tensor& x, const std::vector<std::array<int64_t, 2>>& pads, float value = 0.f,
                    const std::string& layer = "constant_pad");

}  // namespace convnet::ops
