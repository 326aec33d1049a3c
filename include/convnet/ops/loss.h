#pragma once
#pragma GCC visibility push(default)
/// \file
/// Classification and regression losses, as torch.nn.functional (PyTorch 1.13 semantics).
/// \code{.unparsed}
///   nll_loss(lp, t):        loss_n = -lp[n, t_n]
///   cross_entropy(x, t, e): loss_n = -sum_k q_nk log_softmax(x_n)_k,  q_n = (1-e) onehot(t_n) + e/K
///                           = (1-e) * nll_n + e * mean_k(-log p_nk)
///   cross_entropy(x, P):    loss_n = -sum_k P_nk log_softmax(x_n)_k   (soft labels, e.g. mixup)
///   mse_loss(x, y):         loss_i = (x_i - y_i)^2
/// \endcode
/// Reduction::Mean averages over the batch (over all elements for mse_loss), Sum adds,
/// None keeps one loss per sample: shape (N) (mse_loss: the input's shape).
/// cross_entropy is one fused, stable kernel (log-sum-exp) with its own backward
/// `dL/dx_n = g_n * (softmax(x_n) * sum_k q_nk - q_n)`, not a composition of ops.
/// All losses compute in float32 on the CPU (bfloat16 / float16 inputs are converted first).
#include <cstdint>
#include <vector>

#include "convnet/core/tensor.h"

namespace convnet {

/// Class labels, one per sample: `target[n]` in [0, K) (torch's int64 target tensor).
using Labels = std::vector<int64_t>;
/// How a loss reduces its per-sample values (torch's `reduction` argument).
enum class Reduction { Mean, /**< the average, a scalar */ Sum, /**< the sum, a scalar */ None /**< one loss per sample */ };

namespace ops {

/// Negative log-likelihood of the labels under log-probabilities (as
/// torch.nn.functional.nll_loss): `loss_n = -log_probs[n, target[n]]`.
/// \pre  `log_probs` defined, (N, K) with K >= 1, float32 (bfloat16 / float16 are converted
///       to float32), on the CPU; `target` holds N labels in [0, K).
/// \post float32: shape () for Mean (over N) and Sum, (N) for None. Backward gives
///       dlog_probs (the target gets none).
/// \throws convnet::Error when `log_probs` is undefined or not 2-D (naming its shape), the
///       batch sizes differ (naming both), a label is out of range (naming the label, its
///       index and K), or `log_probs` is of a non-floating dtype or not on the CPU.
Tensor nll_loss(const Tensor& log_probs, const Labels& target, Reduction r = Reduction::Mean);
/// Cross-entropy of logits against class labels, with optional label smoothing (as
/// torch.nn.functional.cross_entropy with class indices).
/// \pre  `logits` defined, (N, K) with K >= 1, float32 (bfloat16 / float16 are converted
///       to float32), on the CPU; `target` holds N labels in [0, K); `label_smoothing` in [0, 1].
/// \post float32: shape () for Mean (over N) and Sum, (N) for None. Backward gives dlogits.
/// \throws convnet::Error when `logits` is undefined or not 2-D (naming its shape), the
///       batch sizes differ, a label is out of range, `label_smoothing` is outside [0, 1], or
///       `logits` is of a non-floating dtype or not on the CPU.
Tensor cross_entropy(const Tensor& logits, const Labels& target, Reduction r = Reduction::Mean,
                     double label_smoothing = 0.0);
/// Cross-entropy of logits against class probabilities (soft labels, as
/// torch.nn.functional.cross_entropy with a probability target; mixup, cutmix).
/// \pre  `logits` and `target_probs` defined, both (N, K) with K >= 1, float32 (bfloat16 /
///       float16 are converted to float32), on the CPU. The rows of `target_probs` are not
///       checked to sum to 1.
/// \post float32: shape () for Mean (over N) and Sum, (N) for None. Backward gives dlogits
///       and dtarget_probs (a gradient flows to the target too).
/// \throws convnet::Error naming both shapes when an operand is undefined, `logits` is not
///       2-D or has no class, `target_probs` has another shape, or an operand is of a
///       non-floating dtype or not on the CPU.
Tensor cross_entropy(const Tensor& logits, const Tensor& target_probs, Reduction r = Reduction::Mean);
/// Mean squared error (as torch.nn.functional.mse_loss): `loss_i = (input_i - target_i)^2`.
/// \pre  `input` and `target` defined, of the same shape, float32 (bfloat16 / float16 are
///       converted to float32), on the CPU.
/// \post float32: shape () for Mean (over all elements) and Sum, the input's shape for None.
///       Backward gives dinput and dtarget.
/// \throws convnet::Error naming both shapes when an operand is undefined or the shapes
///       differ, or when an operand is of a non-floating dtype or not on the CPU.
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction r = Reduction::Mean);

}  // namespace ops
}  // namespace convnet
#pragma GCC visibility pop
