#pragma once
#pragma GCC visibility push(default)
/// \file
/// constant_pad: pads (or, with negative amounts, crops) every dimension of a tensor with a
/// constant, as torch.nn.functional.pad(x, p, mode="constant", value=v) and ONNX Pad.
/// \code{.unparsed}
///   pads[k] = {before_k, after_k} for dimension k, in dimension order (first to last;
///   torch's F.pad lists the LAST dimension first: F.pad(x, (l, r, t, b)) on (N, C, H, W)
///   is constant_pad(x, {{0, 0}, {0, 0}, {t, b}, {l, r}})).
///   y.size(k) = x.size(k) + before_k + after_k
///   y[o] = x[o - before] inside x, value elsewhere; dL/dx = dL/dy at the matching positions.
/// \endcode
/// value may be -infinity (max pooling over explicitly padded input).
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "convnet/core/tensor.h"

namespace convnet::ops {

/// `x` padded with `value` (or cropped, for negative amounts) by `pads[k] = {before, after}`
/// in each dimension k (as torch.nn.functional.pad with mode "constant").
/// \pre  `x` defined, float32 (bfloat16 / float16 are converted to float32), on the CPU;
///       `pads.size() == x.dim()`; every output size `x.size(k) + before_k + after_k >= 0`.
/// \post y: float32, `y.size(k) = x.size(k) + before_k + after_k`. Backward gives dx, the
///       output gradient at the positions that came from x.
/// \throws convnet::Error naming `layer` and x's shape when the number of pairs differs from
///       x.dim() or an output size would be negative, or when `x` is undefined, of a
///       non-floating dtype, or not on the CPU.
Tensor constant_pad(const Tensor& x, const std::vector<std::array<int64_t, 2>>& pads, float value = 0.f,
                    const std::string& layer = "constant_pad");

/// `x` padded as torch.nn.functional.pad(x, p, mode) with `mode` "constant" (with `value`;
/// as constant_pad), "reflect" (mirror without repeating the edge: ReflectionPad), "replicate"
/// (repeat the edge: ReplicationPad) or "circular" (wrap around); `pads[k] = {before, after}`
/// in dimension order, as constant_pad.
/// \pre  as constant_pad; for the other modes every pad >= 0, and below the dimension's size
///       for "reflect", at most the size for "circular", and the size > 0 for "replicate"
///       wherever a dimension is padded.
/// \post y: float32, `y.size(k) = x.size(k) + before_k + after_k`. Backward gives dx: the
///       output gradient summed into the elements each output element copies.
/// \throws convnet::Error naming `layer`, the mode, the pads and x's shape when a pad is out
///       of range for its mode, or for an unknown mode; as constant_pad otherwise.
Tensor pad(const Tensor& x, const std::vector<std::array<int64_t, 2>>& pads, const std::string& mode,
           float value = 0.f, const std::string& layer = "pad");

}  // namespace convnet::ops
#pragma GCC visibility pop
