#pragma once
#pragma GCC visibility push(default)
/// \file
/// batch_norm: batch normalization (Ioffe & Szegedy, 2015), as torch.nn.functional.batch_norm.
/// \code{.unparsed}
///   x: (N, C), (N, C, L) or (N, C, H, W); statistics are per channel c over all other dims.
///   y = (x - mean[c]) / sqrt(var[c] + eps) * weight[c] + bias[c]
/// \endcode
/// With batch statistics (training, or no running stats): mean and the biased variance of
/// the batch, and the gradient flows through them. Otherwise (eval) the running
/// statistics, and the gradient is the per-channel affine map's.
/// Training with running stats updates them in place:
/// `running = (1 - momentum) * running + momentum * batch_stat`, the variance UNBIASED (`M/(M-1)`).
#include <string>

#include "convnet/core/tensor.h"

namespace convnet::dist {
class ProcessGroup;
}

namespace convnet::ops {
/// Batch normalization of `x` per channel (as torch.nn.functional.batch_norm).
/// x: (N, C), (N, C, L) or (N, C, H, W). weight/bias: (C) or undefined (affine=false).
/// running_mean/var: (C) or undefined (track_running_stats=false: always batch statistics).
/// training: normalize with batch statistics (biased variance) and update running stats in place:
/// `running = (1 - momentum) * running + momentum * batch_stat`, with the UNBIASED variance for running_var.
/// eval: normalize with running stats.
/// `layer` names the calling layer in error messages.
/// \pre  `x` defined with at least 2 dimensions, on the CPU; float32 with every other defined
///       operand float32 on the CPU too, or bfloat16 / float16 with running statistics float32
///       and weight / bias of any floating dtype (used as float32) on x's device.
///       weight, bias, running_mean and running_var each (C) or undefined; running_mean and
///       running_var both defined or both undefined; `eps` >= 0; with batch statistics, more
///       than one value per channel (`N * L > 1`, `N * H * W > 1`).
/// \post y has x's shape and dtype. In training with running statistics, running_mean and
///       running_var are updated in place (not recorded by autograd). Backward gives dx (x's
///       dtype), dweight and dbias (float32); the running statistics get no gradient.
/// \throws convnet::Error naming `layer` when an operand is undefined, of another dtype or
///       device, or of the wrong shape (naming the input's and the operand's shapes), when
///       only one running statistic is given, when `eps` < 0, or when a channel has one value
///       only with batch statistics.
Tensor batch_norm(const Tensor& x, Tensor running_mean, Tensor running_var, const Tensor& weight, const Tensor& bias,
                  bool training, double momentum = 0.1, double eps = 1e-5, const std::string& layer = "batch_norm");

/// Training-mode batch normalization with the statistics of the global batch of a
/// data-parallel run (as torch.nn.SyncBatchNorm): every rank's per-channel sums are combined
/// over `group`, so each rank normalizes its shard as one process would normalize the whole
/// batch. Backward combines the per-channel sums of the gradient likewise, weighted by each
/// rank's share of the batch (dist::grad_weight()), so that the gradients the ranks then
/// combine are those of the whole batch. Computed in float32 (a reduced-precision input is
/// widened, the output rounded back).
/// \pre  As batch_norm() in training; every rank of `group` calls it at the same point, with
///       the same C; more than one value per channel over all ranks.
/// \post y has x's shape and dtype; running statistics (if defined) updated in place with the
///       global batch's mean and unbiased variance; the same on every rank. Backward gives
///       dx, dweight and dbias (this rank's part: GradientReducer sums them).
/// \throws convnet::Error as batch_norm(), naming `layer`.
Tensor sync_batch_norm(const Tensor& x, Tensor running_mean, Tensor running_var, const Tensor& weight,
                       const Tensor& bias, double momentum, double eps, dist::ProcessGroup& group,
                       const std::string& layer = "sync_batch_norm");
}  // namespace convnet::ops
#pragma GCC visibility pop
