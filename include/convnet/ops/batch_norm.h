#pragma once
// batch_norm: as torch.nn.functional.batch_norm (Ioffe & Szegedy, 2015).
//   x: (N, C), (N, C, L) or (N, C, H, W); statistics are per channel c over all other dims.
//   y = (x - mean[c]) / sqrt(var[c] + eps) * weight[c] + bias[c]
// With batch statistics (training, or no running stats): mean and the biased variance of
// the batch, and the gradient flows through them. Otherwise (eval) the running
// statistics, and the gradient is the per-channel affine map's.
// Training with running stats updates them in place:
//   running = (1 - momentum) * running + momentum * batch_stat, the variance UNBIASED (M/(M-1)).
#include <string>

#include "convnet/core/tensor.h"

namespace convnet::ops {
// x: (N, C), (N, C, L) or (N, C, H, W). weight/bias: (C) or undefined (affine=false).
// running_mean/var: (C) or undefined (track_running_stats=false -> always batch statistics).
// training: normalize with batch statistics (biased variance) and update running stats in place:
//   running = (1 - momentum) * running + momentum * batch_stat, with the UNBIASED variance for running_var.
// eval: normalize with running stats.
// Requires: running_mean and running_var both defined or both undefined; with batch statistics,
// more than one value per channel (N * L > 1, N * H * W > 1).
Tensor batch_norm(const Tensor& x, Tensor running_mean, Tensor running_var, const Tensor& weight, const Tensor& bias,
                  bool training, double momentum = 0.1, double eps = 1e-5, const std::string& layer = "batch_norm");
}  // namespace convnet::ops
