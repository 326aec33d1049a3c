#pragma once
// Classification and regression losses, as torch.nn.functional (PyTorch 1.13 semantics).
//   nll_loss(lp, t):        loss_n = -lp[n, t_n]
//   cross_entropy(x, t, e): loss_n = -sum_k q_nk log_softmax(x_n)_k,  q_n = (1-e) onehot(t_n) + e/K
//                           = (1-e) * nll_n + e * mean_k(-log p_nk)
//   cross_entropy(x, P):    loss_n = -sum_k P_nk log_softmax(x_n)_k   (soft labels, e.g. mixup)
//   mse_loss(x, y):         loss_i = (x_i - y_i)^2
// Reduction::Mean averages over the batch (over all elements for mse_loss), Sum adds,
// None keeps one loss per sample: shape (N) (mse_loss: the input's shape).
// cross_entropy is one fused, stable kernel (log-sum-exp) with its own backward
// dL/dx_n = g_n * (softmax(x_n) * sum_k q_nk - q_n), not a composition of ops.
#include <cstdint>
#include <vector>

#include "convnet/core/tensor.h"

namespace convnet {

using Labels = std::vector<int64_t>;
enum class Reduction { Mean, Sum, None };

namespace ops {

// log_probs: (N, K); target: N labels in [0, K).
Tensor nll_loss(const Tensor& log_probs, const Labels& target, Reduction r = Reduction::Mean);
// logits: (N, K); target: N labels in [0, K); label_smoothing in [0, 1].
Tensor cross_entropy(const Tensor& logits, const Labels& target, Reduction r = Reduction::Mean,
                     double label_smoothing = 0.0);
// logits: (N, K); target_probs: (N, K) class probabilities (a gradient flows to them too).
Tensor cross_entropy(const Tensor& logits, const Tensor& target_probs, Reduction r = Reduction::Mean);
// input, target: the same shape.
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction r = Reduction::Mean);

}  // namespace ops
}  // namespace convnet
