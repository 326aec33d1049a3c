// The CUDA backend's cross-entropies (integer labels with label smoothing, and soft targets):
// one block per row for the log-sum-exp and the target sums, one thread per element for the
// gradients. The definitions of their reference twins (src/kernels/ref/loss.cpp).
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "kernels/cuda/grid.cuh"
#include "kernels/cuda/launch.h"

namespace convnet::kernels::cuda::launch {

namespace {

__device__ float smoothed(int64_t k, int64_t t, float eps, int64_t K) {
  return (k == t ? 1.f - eps : 0.f) + eps / static_cast<float>(K);
}
// per_row[n] = lse_n - sum_k q_nk x_nk; lse[n] written.
__global__ void ce_rows_k(int64_t K, const float* x, const int64_t* target, float eps, float* per_row, float* lse) {
  const int64_t n = blockIdx.x;
  const float* xr = x + n * K;
  float m = -INFINITY;
  for (int64_t k = threadIdx.x; k < K; k += blockDim.x) m = fmaxf(m, xr[k]);
  m = block_max(m);
  float s = 0.f, qx = 0.f;
  for (int64_t k = threadIdx.x; k < K; k += blockDim.x) {
    s += expf(xr[k] - m);
    qx += smoothed(k, target[n], eps, K) * xr[k];
  }
  s = block_sum(s);
  qx = block_sum(qx);
  if (threadIdx.x == 0) {
    const float l = m + logf(s);
    lse[n] = l;
    per_row[n] = l - qx;
  }
}
// Soft targets: per_row[n] = sum_k p_nk (lse_n - x_nk) = psum lse_n - sum_k p_nk x_nk.
__global__ void soft_ce_rows_k(int64_t K, const float* x, const float* p, float* per_row, float* lse) {
  const int64_t n = blockIdx.x;
  const float* xr = x + n * K;
  const float* pr = p + n * K;
  float m = -INFINITY;
  for (int64_t k = threadIdx.x; k < K; k += blockDim.x) m = fmaxf(m, xr[k]);
  m = block_max(m);
  float s = 0.f, ps = 0.f, px = 0.f;
  for (int64_t k = threadIdx.x; k < K; k += blockDim.x) {
    s += expf(xr[k] - m);
    ps += pr[k];
    px += pr[k] * xr[k];
  }
  s = block_sum(s);
  ps = block_sum(ps);
  px = block_sum(px);
  if (threadIdx.x == 0) {
    const float l = m + logf(s);
    lse[n] = l;
    per_row[n] = ps * l - px;
  }
}
__global__ void row_sum_k(int64_t K, const float* p, float* out) {
  const int64_t n = blockIdx.x;
  float s = 0.f;
  for (int64_t k = threadIdx.x; k < K; k += blockDim.x) s += p[n * K + k];
  s = block_sum(s);
  if (threadIdx.x == 0) out[n] = s;
}
__global__ void soft_ce_bwd_k(int64_t N, int64_t K, const float* x, const float* p, const float* lse, const float* psum,
                              int reduction, const float* gy, float* gx, float* gp) {
  CONVNET_GRID_STRIDE(i, N * K) {
    const int64_t n = i / K;
    const float g = reduction == 0 ? gy[n] : reduction == 2 ? gy[0] / static_cast<float>(N) : gy[0];
    if (gx) gx[i] = g * (expf(x[i] - lse[n]) * psum[n] - p[i]);
    if (gp) gp[i] = g * (lse[n] - x[i]);
  }
}
__global__ void ce_reduce_k(int64_t N, int reduction, const float* per_row, float* loss) {
  float acc = 0.f;
  for (int64_t n = threadIdx.x; n < N; n += blockDim.x) acc += per_row[n];
  acc = block_sum(acc);
  if (threadIdx.x == 0) loss[0] = reduction == 2 ? acc / static_cast<float>(N) : acc;
}
__global__ void ce_bwd_k(int64_t N, int64_t K, const float* x, const int64_t* target, float eps, const float* lse,
                         int reduction, const float* gy, float* gx) {
  CONVNET_GRID_STRIDE(i, N * K) {
    const int64_t n = i / K, k = i % K;
    const float g = reduction == 0 ? gy[n] : reduction == 2 ? gy[0] / static_cast<float>(N) : gy[0];
    gx[i] = g * (expf(x[i] - lse[n]) - smoothed(k, target[n], eps, K));
  }
}

}  // namespace

void cross_entropy_fwd(int64_t N, int64_t K, const float* x, const int64_t* target, float eps, int reduction,
                       float* loss, float* lse, float* per_row, cudaStream_t s) {
  if (N == 0) return;
  if (reduction == 0) {
    ce_rows_k<<<static_cast<unsigned>(N), kThreads, 0, s>>>(K, x, target, eps, loss, lse);
    return;
  }
  ce_rows_k<<<static_cast<unsigned>(N), kThreads, 0, s>>>(K, x, target, eps, per_row, lse);
  ce_reduce_k<<<1, kThreads, 0, s>>>(N, reduction, per_row, loss);
}
void soft_cross_entropy_fwd(int64_t N, int64_t K, const float* x, const float* p, int reduction, float* loss,
                            float* lse, float* per_row, cudaStream_t s) {
  if (N == 0) return;
  if (reduction == 0) {
    soft_ce_rows_k<<<static_cast<unsigned>(N), kThreads, 0, s>>>(K, x, p, loss, lse);
    return;
  }
  soft_ce_rows_k<<<static_cast<unsigned>(N), kThreads, 0, s>>>(K, x, p, per_row, lse);
  ce_reduce_k<<<1, kThreads, 0, s>>>(N, reduction, per_row, loss);
}
void soft_cross_entropy_bwd(int64_t N, int64_t K, const float* x, const float* p, const float* lse, int reduction,
                            const float* gy, float* gx, float* gp, float* psum, cudaStream_t s) {
  if (N * K == 0) return;
  row_sum_k<<<static_cast<unsigned>(N), kThreads, 0, s>>>(K, p, psum);
  soft_ce_bwd_k<<<grid(N * K), kThreads, 0, s>>>(N, K, x, p, lse, psum, reduction, gy, gx, gp);
}
void cross_entropy_bwd(int64_t N, int64_t K, const float* x, const int64_t* target, float eps, const float* lse,
                       int reduction, const float* gy, float* gx, cudaStream_t s) {
  if (N * K > 0) ce_bwd_k<<<grid(N * K), kThreads, 0, s>>>(N, K, x, target, eps, lse, reduction, gy, gx);
}

}  // namespace convnet::kernels::cuda::launch
