#pragma once
// Kernel interface of the optimizer updates, fused over a parameter group: `count`
// tensors, tensor t with n[t] elements at w[t] (updated in place) and its gradient g[t].
// Each element's update reads and writes only that element, in PyTorch's order of float32
// operations (torch/optim/sgd.py and adam.py, _single_tensor_*), so any split over
// threads gives the same bits. Kernels trust the optimizer: buffers exist where needed.
//   keys: sgd_step (SgdStepFn), adam_step (AdamStepFn)
#include <cstdint>

#include "kernels/registry.h"

namespace convnet::kernels {

// d = g + weight_decay w (use_wd); with momentum: b = first ? d : momentum b + dampening1 d,
// d = nesterov ? d + momentum b : b; then w = w + neg_lr d.
struct SgdArgs {
  float neg_lr, weight_decay, momentum, dampening1;  // dampening1 = 1 - dampening
  bool use_wd, use_momentum, nesterov;
};
// b[t]: momentum buffers (ignored without momentum); first[t] != 0: b[t] is new this step.
using SgdStepFn = void(int64_t count, const int64_t* n, float* const* w, const float* const* g, float* const* b,
                       const uint8_t* first, const SgdArgs& a);

// Adam / AdamW: decoupled: w = w decay (decay = 1 - lr wd), else g = g + wd w (use_wd);
// m = m beta1 + one_b1 g, v = v beta2 + one_b2 g g, vmax = max(vmax, v) (amsgrad);
// w = w + neg_step[t] m / (sqrt(v or vmax) / bc2_sqrt[t] + eps): the per-tensor bias
// corrections come from each tensor's own step count.
struct AdamArgs {
  float beta1, beta2, one_b1, one_b2, eps, weight_decay, decay;
  bool decoupled, use_wd, amsgrad;
};
using AdamStepFn = void(int64_t count, const int64_t* n, float* const* w, const float* const* g, float* const* m,
                        float* const* v, float* const* vmax, const float* neg_step, const float* bc2_sqrt,
                        const AdamArgs& a);

namespace ref {
void sgd_step(int64_t count, const int64_t* n, float* const* w, const float* const* g, float* const* b,
              const uint8_t* first, const SgdArgs& a);
void adam_step(int64_t count, const int64_t* n, float* const* w, const float* const* g, float* const* m,
               float* const* v, float* const* vmax, const float* neg_step, const float* bc2_sqrt, const AdamArgs& a);
}  // namespace ref

// The same updates of elements [b, e) of tensor t (the CPU kernel runs them on ranges).
namespace detail {
inline void sgd_range(int64_t b, int64_t e, float* w, const float* g, float* buf, bool first, const SgdArgs& a) {
  for (int64_t k = b; k < e; ++k) {
    float d = g[k];  // d_p = grad + weight_decay * p (grad itself is never modified)
    if (a.use_wd) d = d + a.weight_decay * w[k];
    if (a.use_momentum) {
      buf[k] = first ? d : buf[k] * a.momentum + a.dampening1 * d;
      d = a.nesterov ? d + a.momentum * buf[k] : buf[k];
    }
    w[k] = w[k] + a.neg_lr * d;
  }
}
void adam_range(int64_t b, int64_t e, float* w, const float* g, float* m, float* v, float* vmax, float neg_step,
                float bc2_sqrt, const AdamArgs& a);
}  // namespace detail

namespace keys {
inline Kernel<SgdStepFn> sgd_step{"sgd_step"};
inline Kernel<AdamStepFn> adam_step{"adam_step"};
}  // namespace keys

}  // namespace convnet::kernels
