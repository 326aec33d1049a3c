// The update helpers of a training step that users call too (train/trainer.h): the EMA of
// the weights, the gradient norm and its clipping, as PyTorch 1.13 computes them, on the
// device the tensors are on.
#include <cmath>
#include <vector>

#include "convnet/train/trainer.h"
#include "kernels/elementwise.h"
#include "kernels/vector.h"
#include "ops/checks.h"
#include "optim/grad_sums.h"

namespace convnet::train {

// ema = decay * ema + (1 - decay) * w for parameters; buffers (BatchNorm running
// statistics) are copied, since averaging them would describe no network's activations.
void update_ema(nn::Module& ema, const nn::Module& model, double decay) {
  auto p_ema = ema.named_parameters(), b_ema = ema.named_buffers();
  const auto p = model.named_parameters(), b = model.named_buffers();
  const float d = static_cast<float>(decay), od = static_cast<float>(1.0 - decay);
  for (size_t i = 0; i < p.size(); ++i)
    kernels::keys::axpby(p[i].second.numel(), d, ops::kdata(p_ema[i].second), od, ops::kdata(p[i].second));
  for (size_t i = 0; i < b.size(); ++i) b_ema[i].second.copy_(b[i].second);
}

double grad_norm(const std::vector<Tensor>& params) {
  // torch.nn.utils.clip_grad_norm_ (1.13): the 2-norm of the per-parameter 2-norms, each
  // rounded to float32 as PyTorch does. All sums in one kernel call (one wait on a GPU).
  double sq = 0;
  for (double v : optim::grad_sum_squares(params)) {
    const float norm = static_cast<float>(std::sqrt(v));
    sq += static_cast<double>(norm) * norm;
  }
  return static_cast<float>(std::sqrt(sq));
}

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm) {
  // torch.nn.utils.clip_grad_norm_ (1.13): every gradient times min(1, max_norm / (total +
  // 1e-6)), in float32 as PyTorch.
  const float total = static_cast<float>(grad_norm(params));
  const float coef = static_cast<float>(max_norm) / (total + 1e-6f);
  if (coef < 1.f && std::isfinite(total))
    for (const auto& p : params) {
      Tensor g = p.grad();
      if (!g.defined()) continue;
      kernels::keys::scale(g.numel(), coef, ops::kdata(g), ops::kdata(g));
    }
  return total;
}

}  // namespace convnet::train
