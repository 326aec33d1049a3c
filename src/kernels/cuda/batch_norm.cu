// The CUDA backend's batch normalization: one block per channel for the statistics and the
// backward's sums (in double, as the reference twin src/kernels/ref/batch_norm.cpp), one
// thread per element for the normalization.
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "kernels/cuda/elem.cuh"
#include "kernels/cuda/grid.cuh"
#include "kernels/cuda/launch.h"

namespace convnet::kernels::cuda::launch {

namespace {

template <class T>
__global__ void bn_stats_k(int64_t N, int64_t C, int64_t S, const T* x, float* mean, float* var) {
  const int64_t c = blockIdx.x, M = N * S;
  double s = 0;
  for (int64_t j = threadIdx.x; j < M; j += blockDim.x) s += ld(x[((j / S) * C + c) * S + j % S]);
  const double mu = block_sum(s) / static_cast<double>(M);
  double ss = 0;
  for (int64_t j = threadIdx.x; j < M; j += blockDim.x) {
    const double d = ld(x[((j / S) * C + c) * S + j % S]) - mu;
    ss += d * d;
  }
  ss = block_sum(ss);
  if (threadIdx.x == 0) {
    mean[c] = static_cast<float>(mu);
    var[c] = static_cast<float>(ss / static_cast<double>(M));
  }
}
template <class T>
__global__ void bn_apply_k(int64_t N, int64_t C, int64_t S, const T* x, const float* mean, const float* var,
                           const float* w, const float* b, double eps, T* y) {
  CONVNET_GRID_STRIDE(i, N * C * S) {
    const int64_t c = (i / S) % C;
    const double invstd = 1.0 / sqrt(static_cast<double>(var[c]) + eps);
    const double wc = w ? w[c] : 1.0, bc = b ? b[c] : 0.0;
    y[i] = st<T>(static_cast<float>((ld(x[i]) - mean[c]) * invstd * wc + bc));
  }
}
template <class T>
__global__ void bn_bwd_k(int64_t N, int64_t C, int64_t S, const T* x, const T* gy, const float* mean, const float* var,
                         const float* w, double eps, bool batch_stats, T* gx, float* gw, float* gb) {
  const int64_t c = blockIdx.x, M = N * S;
  const double invstd = 1.0 / sqrt(static_cast<double>(var[c]) + eps);
  const double wc = w ? w[c] : 1.0;
  double sg = 0, sgx = 0;
  for (int64_t j = threadIdx.x; j < M; j += blockDim.x) {
    const int64_t k = ((j / S) * C + c) * S + j % S;
    const double g = ld(gy[k]);
    sg += g;
    sgx += g * (ld(x[k]) - mean[c]) * invstd;
  }
  sg = block_sum(sg);
  sgx = block_sum(sgx);
  if (threadIdx.x == 0) {
    if (gw) gw[c] = static_cast<float>(sgx);
    if (gb) gb[c] = static_cast<float>(sg);
  }
  if (!gx) return;
  for (int64_t j = threadIdx.x; j < M; j += blockDim.x) {
    const int64_t k = ((j / S) * C + c) * S + j % S;
    const double xhat = (ld(x[k]) - mean[c]) * invstd, g = ld(gy[k]);
    const double d = batch_stats ? g - sg / M - xhat * sgx / M : g;
    gx[k] = st<T>(static_cast<float>(wc * invstd * d));
  }
}

}  // namespace

template <class T>
void bn_stats(int64_t N, int64_t C, int64_t S, const T* x, float* mean, float* var, cudaStream_t s) {
  if (C > 0) bn_stats_k<T><<<static_cast<unsigned>(C), kThreads, 0, s>>>(N, C, S, x, mean, var);
}
template <class T>
void bn_apply(int64_t N, int64_t C, int64_t S, const T* x, const float* mean, const float* var, const float* w,
              const float* b, double eps, T* y, cudaStream_t s) {
  if (N * C * S > 0) bn_apply_k<T><<<grid(N * C * S), kThreads, 0, s>>>(N, C, S, x, mean, var, w, b, eps, y);
}
template <class T>
void bn_bwd(int64_t N, int64_t C, int64_t S, const T* x, const T* gy, const float* mean, const float* var,
            const float* w, double eps, bool batch_stats, T* gx, float* gw, float* gb, cudaStream_t s) {
  if (C > 0)
    bn_bwd_k<T>
        <<<static_cast<unsigned>(C), kThreads, 0, s>>>(N, C, S, x, gy, mean, var, w, eps, batch_stats, gx, gw, gb);
}
#define CONVNET_INSTANTIATE(T)                                                                                     \
  template void bn_stats<T>(int64_t, int64_t, int64_t, const T*, float*, float*, cudaStream_t);                    \
  template void bn_apply<T>(int64_t, int64_t, int64_t, const T*, const float*, const float*, const float*,         \
                            const float*, double, T*, cudaStream_t);                                               \
  template void bn_bwd<T>(int64_t, int64_t, int64_t, const T*, const T*, const float*, const float*, const float*, \
                          double, bool, T*, float*, float*, cudaStream_t);
CONVNET_INSTANTIATE(float)
CONVNET_INSTANTIATE(bf16_t)
CONVNET_INSTANTIATE(f16_t)
#undef CONVNET_INSTANTIATE

}  // namespace convnet::kernels::cuda::launch
