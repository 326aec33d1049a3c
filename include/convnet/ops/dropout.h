#pragma once
#pragma GCC visibility push(default)
/// \file
/// Inverted dropout (Srivastava et al., 2014), as torch.nn.functional.dropout / dropout2d.
/// In training each element (dropout) or each whole channel (dropout2d) is zeroed with
/// probability p and the survivors are scaled by `1/(1-p)`, so the expected output equals the
/// input and eval needs no rescaling. Identity in eval (training=false) or when p == 0; all
/// zeros when p == 1. The gradient is the same mask times the same scale.
/// Masks come from `gen`, so a seeded generator reproduces them.
#include <string>

#include "convnet/core/rng.h"
#include "convnet/core/tensor.h"

namespace convnet::ops {
/// Elementwise inverted dropout (as torch.nn.functional.dropout).
/// \pre  `x` defined, on the CPU, float32 (bfloat16 / float16 are converted to float32);
///       `0 <= p <= 1`.
/// \post In training with `p > 0`: y (float32, x's shape) is x with each element zeroed with
///       probability p and the others multiplied by `1/(1-p)` (all zeros when p == 1); `gen`
///       advances by one draw (one 64-bit seed for the whole mask). Otherwise y is x (as
///       float32) and `gen` is not used. Backward gives dx, the output gradient times the same mask.
/// \throws convnet::Error when `p` is outside [0, 1] (naming p), or when `x` is undefined,
///       of a non-floating dtype, or not on the CPU.
Tensor dropout(const Tensor& x, double p, bool training, Generator& gen);
/// Channel-wise inverted dropout (as torch.nn.functional.dropout2d): one draw per (n, c)
/// zeroes or keeps its whole plane.
/// \pre  `x` defined, (N, C, H, W) or (N, C, L), on the CPU, float32 (bfloat16 / float16 are
///       converted to float32); `0 <= p <= 1`.
/// \post In training with `p > 0`: y (float32, x's shape) is x with each (n, c) plane zeroed
///       with probability p and the others multiplied by `1/(1-p)`; `gen` advances by one
///       draw. Otherwise y is x (as float32). Backward gives dx, the output gradient times
///       the same mask.
/// \throws convnet::Error when `p` is outside [0, 1], when `x` is undefined or not 3-D or
///       4-D (naming its shape), of a non-floating dtype, or not on the CPU.
Tensor dropout2d(const Tensor& x, double p, bool training, Generator& gen);
/// Stochastic depth (Huang et al. 2016, "Deep Networks with Stochastic Depth"), as
/// torchvision.ops.stochastic_depth: in training, each sample's residual branch (mode "row")
/// or the whole batch's (mode "batch") is zeroed with probability p, the survivors scaled by
/// `1/(1-p)`. The same mask kernel as dropout, one draw per sample (or one for the batch).
/// \pre  `x` defined with at least one dimension, on the CPU, floating point; `0 <= p <= 1`;
///       `mode` is "row" or "batch".
/// \post In training with `p > 0`: y (float32, x's shape) is x with each sample x[n] (row)
///       or all of x (batch) zeroed with probability p and otherwise multiplied by `1/(1-p)`
///       (all zeros when p == 1); `gen` advances by one draw. Otherwise y is x itself, in its
///       own dtype (an identity: nothing is recorded). Backward gives dx, the output gradient
///       times the same mask.
/// \throws convnet::Error when `p` is outside [0, 1] (naming p), `mode` is neither "row" nor
///       "batch", or `x` is undefined, 0-D, of a non-floating dtype, or not on the CPU.
Tensor stochastic_depth(const Tensor& x, double p, const std::string& mode, bool training, Generator& gen);
}  // namespace convnet::ops
#pragma GCC visibility pop
