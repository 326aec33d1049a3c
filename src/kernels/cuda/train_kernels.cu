// More of the CUDA backend's own kernels: the smooth activations, dropout masks from the
// counter-based generator (the CPU's masks for the same seed), and the Adam / AdamW update.
// As kernels.cu: the reference twin's definition, one thread per element. Launchers: launch.h.
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "kernels/cuda/grid.cuh"
#include "kernels/cuda/launch.h"

namespace convnet::kernels::cuda::launch {

namespace {

// kernels/activation.h's forms; op: 0 leaky_relu (a = slope), 1 tanh, 2 sigmoid.
__global__ void act_fwd_k(int op, int64_t n, float a, const float* x, float* y) {
  CONVNET_GRID_STRIDE(i, n) {
    const float v = x[i];
    if (op == 0) {
      y[i] = v > 0.f ? v : a * v;
    } else if (op == 1) {
      y[i] = tanhf(v);
    } else if (v >= 0.f) {
      y[i] = 1.f / (1.f + expf(-v));
    } else {
      const float e = expf(v);
      y[i] = e / (1.f + e);
    }
  }
}
__global__ void act_bwd_k(int op, int64_t n, float a, const float* x, const float* y, const float* gy, float* gx) {
  CONVNET_GRID_STRIDE(i, n) {
    if (op == 0)
      gx[i] = x[i] > 0.f ? gy[i] : a * gy[i];
    else if (op == 1)
      gx[i] = gy[i] * (1.f - y[i] * y[i]);
    else
      gx[i] = gy[i] * y[i] * (1.f - y[i]);
  }
}

// kernels/vector.h's counter_uniform, bit for bit.
__device__ float counter_uniform(uint64_t seed, uint64_t k) {
  uint64_t z = seed + (k + 1) * 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return static_cast<float>(z >> 40) * (1.0f / 16777216.0f);
}
__global__ void dropout_mask_k(int64_t n, int64_t group, float p, uint64_t seed, float scale, float* mask) {
  CONVNET_GRID_STRIDE(i, n) mask[i] = counter_uniform(seed, static_cast<uint64_t>(i / group)) < p ? 0.f : scale;
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

void act_fwd(Act op, int64_t n, float a, const float* x, float* y, cudaStream_t s) {
  if (n > 0) act_fwd_k<<<grid(n), kThreads, 0, s>>>(static_cast<int>(op), n, a, x, y);
}
void act_bwd(Act op, int64_t n, float a, const float* x, const float* y, const float* gy, float* gx, cudaStream_t s) {
  if (n > 0) act_bwd_k<<<grid(n), kThreads, 0, s>>>(static_cast<int>(op), n, a, x, y, gy, gx);
}
void dropout_mask(int64_t n, int64_t group, float p, uint64_t seed, float scale, float* mask, cudaStream_t s) {
  if (n > 0) dropout_mask_k<<<grid(n), kThreads, 0, s>>>(n, group, p, seed, scale, mask);
}
void adam(int64_t n, float* w, const float* g, float* m, float* v, float* vmax, float neg_step, float bc2_sqrt,
          const AdamParams& a, cudaStream_t s) {
  if (n > 0) adam_k<<<grid(n), kThreads, 0, s>>>(n, w, g, m, v, vmax, neg_step, bc2_sqrt, a);
}

}  // namespace convnet::kernels::cuda::launch
