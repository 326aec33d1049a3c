#pragma once
// softmax and log_softmax along one dimension of a tensor of any rank, as
// torch.softmax / torch.log_softmax; y has x's shape. dim < 0 counts from the end.
//   softmax(x)_i     = exp(x_i - m) / sum_j exp(x_j - m)
//   log_softmax(x)_i = x_i - m - log sum_j exp(x_j - m)
// with m = max_j x_j along `dim`, so large logits (1000.0) give finite results.
#include <cstdint>

#include "convnet/core/tensor.h"

namespace convnet::ops {

Tensor softmax(const Tensor& x, int64_t dim = -1);
Tensor log_softmax(const Tensor& x, int64_t dim = -1);

}  // namespace convnet::ops
