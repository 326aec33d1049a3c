// The CUDA backend's optimizer updates, one tensor per launch: SGD and Adam / AdamW, in the
// order of float32 operations of their reference twins (src/kernels/ref/optim.cpp,
// kernels/optim.h's sgd_range).
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "kernels/cuda/grid.cuh"
#include "kernels/cuda/launch.h"

namespace convnet::kernels::cuda::launch {

namespace {

__global__ void sgd_k(int64_t n, float* w, const float* g, float* buf, bool first, float neg_lr, float weight_decay,
                      float momentum, float dampening1, bool use_wd, bool use_momentum, bool nesterov) {
  CONVNET_GRID_STRIDE(k, n) {
    float d = g[k];
    if (use_wd) d = d + weight_decay * w[k];
    if (use_momentum) {
      buf[k] = first ? d : buf[k] * momentum + dampening1 * d;
      d = nesterov ? d + momentum * buf[k] : buf[k];
    }
    w[k] = w[k] + neg_lr * d;
  }
}

// kernels/ref/optim.cpp's adam_range.
__global__ void adam_k(int64_t n, float* w, const float* g, float* m, float* v, float* vmax, float neg_step,
                       float bc2_sqrt, AdamParams a) {
  CONVNET_GRID_STRIDE(k, n) {
    float gk = g[k];
    if (a.decoupled) {
      w[k] = w[k] * a.decay;
    } else if (a.use_wd) {
      gk = gk + a.weight_decay * w[k];
    }
    m[k] = m[k] * a.beta1 + a.one_b1 * gk;
    v[k] = v[k] * a.beta2 + a.one_b2 * gk * gk;
    float vv = v[k];
    if (a.amsgrad) vv = vmax[k] = fmaxf(vmax[k], v[k]);
    const float denom = sqrtf(vv) / bc2_sqrt + a.eps;
    w[k] = w[k] + neg_step * m[k] / denom;
  }
}

}  // namespace

void sgd(int64_t n, float* w, const float* g, float* buf, bool first, float neg_lr, float weight_decay, float momentum,
         float dampening1, bool use_wd, bool use_momentum, bool nesterov, cudaStream_t s) {
  if (n > 0)
    sgd_k<<<grid(n), kThreads, 0, s>>>(n, w, g, buf, first, neg_lr, weight_decay, momentum, dampening1, use_wd,
                                       use_momentum, nesterov);
}
void adam(int64_t n, float* w, const float* g, float* m, float* v, float* vmax, float neg_step, float bc2_sqrt,
          const AdamParams& a, cudaStream_t s) {
  if (n > 0) adam_k<<<grid(n), kThreads, 0, s>>>(n, w, g, m, v, vmax, neg_step, bc2_sqrt, a);
}

}  // namespace convnet::kernels::cuda::launch
