#pragma once
// Inverted dropout (Srivastava et al., 2014), as torch.nn.functional.dropout / dropout2d.
// In training each element (dropout) or each whole channel (dropout2d) is zeroed with
// probability p and the survivors are scaled by 1/(1-p), so the expected output equals the
// input and eval needs no rescaling. Identity in eval (training=false) or when p == 0; all
// zeros when p == 1. The gradient is the same mask times the same scale.
// Masks come from `gen`, so a seeded generator reproduces them.
#include "convnet/core/rng.h"
#include "convnet/core/tensor.h"

namespace convnet::ops {
// Requires 0 <= p <= 1.
Tensor dropout(const Tensor& x, double p, bool training, Generator& gen);
// x: (N, C, H, W) or (N, C, L); one draw per (n, c) zeroes or keeps its whole plane.
Tensor dropout2d(const Tensor& x, double p, bool training, Generator& gen);
}  // namespace convnet::ops
