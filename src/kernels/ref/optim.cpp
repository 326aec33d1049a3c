// Reference optimizer updates: tensor by tensor, element by element, in PyTorch's order of
// float32 operations (see kernels/optim.h).
#include <cmath>

#include "kernels/optim.h"

namespace convnet::kernels {

namespace detail {
void adam_range(int64_t b, int64_t e, float* w, const float* g, float* m, float* v, float* vmax, float neg_step,
                float bc2_sqrt, const AdamArgs& a) {
  for (int64_t k = b; k < e; ++k) {
    float gk = g[k];
    if (a.decoupled) {
      w[k] = w[k] * a.decay;
    } else if (a.use_wd) {
      gk = gk + a.weight_decay * w[k];
    }
    m[k] = m[k] * a.beta1 + a.one_b1 * gk;
    v[k] = v[k] * a.beta2 + a.one_b2 * gk * gk;
    float vv = v[k];
    if (a.amsgrad) vv = vmax[k] = std::max(vmax[k], v[k]);
    const float denom = std::sqrt(vv) / bc2_sqrt + a.eps;
    w[k] = w[k] + neg_step * m[k] / denom;
  }
}
}  // namespace detail

namespace ref {
void sgd_step(int64_t count, const int64_t* n, float* const* w, const float* const* g, float* const* b,
              const uint8_t* first, const SgdArgs& a) {
  for (int64_t t = 0; t < count; ++t) detail::sgd_range(0, n[t], w[t], g[t], b ? b[t] : nullptr, first[t] != 0, a);
}
void adam_step(int64_t count, const int64_t* n, float* const* w, const float* const* g, float* const* m,
               float* const* v, float* const* vmax, const float* neg_step, const float* bc2_sqrt, const AdamArgs& a) {
  for (int64_t t = 0; t < count; ++t)
    detail::adam_range(0, n[t], w[t], g[t], m[t], v[t], a.amsgrad ? vmax[t] : nullptr, neg_step[t], bc2_sqrt[t], a);
}
}  // namespace ref

void register_ref_optim() {
  keys::sgd_step.add("ref", 0, &ref::sgd_step);
  keys::adam_step.add("ref", 0, &ref::adam_step);
}

}  // namespace convnet::kernels
