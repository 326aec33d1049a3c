// The CUDA backend's batch normalization. The per-channel sums (the statistics, and the
// backward's sums of gy and gy * xhat) are split into chunks: a grid of (channel, chunk)
// blocks writes one partial sum each, in double, and one thread per channel adds its
// chunks in order, so that a layer of few channels still fills the GPU and the result does
// not depend on scheduling. The mean first, then the variance around it (two passes, as
// the reference twin src/kernels/ref/batch_norm.cpp); one thread per element normalizes.
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "kernels/cuda/elem.cuh"
#include "kernels/cuda/grid.cuh"
#include "kernels/cuda/launch.h"

namespace convnet::kernels::cuda::launch {

namespace {

// Elements per chunk, about; the chunks of a channel are at most kMaxChunks.
constexpr int64_t kChunk = 8192;
constexpr int64_t kMaxChunks = 256;

// The [begin, end) of chunk p of the M = N*S values of a channel.
struct Range {
  int64_t begin, end;
};
__device__ Range chunk(int64_t M, int64_t P, int64_t p) {
  const int64_t len = (M + P - 1) / P;
  const int64_t b = p * len, e = b + len < M ? b + len : M;
  return {b, e};
}
__device__ int64_t at(int64_t C, int64_t S, int64_t c, int64_t j) {
  return ((j / S) * C + c) * S + j % S;
}

// part[c * P + p] = the sum over chunk p of channel c of x (center null) or (x - center[c])^2.
template <class T>
__global__ void partial_sum_k(int64_t N, int64_t C, int64_t S, int64_t P, const T* x, const double* center,
                              double* part) {
  const int64_t c = blockIdx.x, p = blockIdx.y;
  const Range r = chunk(N * S, P, p);
  double s = 0;
  for (int64_t j = r.begin + threadIdx.x; j < r.end; j += blockDim.x) {
    const double v = ld(x[at(C, S, c, j)]);
    s += center ? (v - center[c]) * (v - center[c]) : v;
  }
  s = block_sum(s);
  if (threadIdx.x == 0) part[c * P + p] = s;
}
// Per channel: the chunks' sum over M, as a double (out_d, may be null) and a float (out).
__global__ void finish_mean_k(int64_t C, int64_t P, int64_t M, const double* part, double* out_d, float* out) {
  CONVNET_GRID_STRIDE(c, C) {
    double s = 0;
    for (int64_t p = 0; p < P; ++p) s += part[c * P + p];
    const double m = s / static_cast<double>(M);
    if (out_d) out_d[c] = m;
    out[c] = static_cast<float>(m);
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
// part[(c * P + p) * 2 + {0, 1}] = the sums over chunk p of channel c of gy and gy * xhat.
template <class T>
__global__ void bwd_partial_k(int64_t N, int64_t C, int64_t S, int64_t P, const T* x, const T* gy, const float* mean,
                              const float* var, double eps, double* part) {
  const int64_t c = blockIdx.x, p = blockIdx.y;
  const Range r = chunk(N * S, P, p);
  const double invstd = 1.0 / sqrt(static_cast<double>(var[c]) + eps);
  double sg = 0, sgx = 0;
  for (int64_t j = r.begin + threadIdx.x; j < r.end; j += blockDim.x) {
    const int64_t k = at(C, S, c, j);
    const double g = ld(gy[k]);
    sg += g;
    sgx += g * (ld(x[k]) - mean[c]) * invstd;
  }
  sg = block_sum(sg);
  sgx = block_sum(sgx);
  if (threadIdx.x == 0) part[(c * P + p) * 2] = sg, part[(c * P + p) * 2 + 1] = sgx;
}
// Per channel: the chunks' sums into sums[2c], sums[2c + 1], and the parameter gradients.
__global__ void bwd_finish_k(int64_t C, int64_t P, const double* part, double* sums, float* gw, float* gb) {
  CONVNET_GRID_STRIDE(c, C) {
    double sg = 0, sgx = 0;
    for (int64_t p = 0; p < P; ++p) sg += part[(c * P + p) * 2], sgx += part[(c * P + p) * 2 + 1];
    sums[2 * c] = sg, sums[2 * c + 1] = sgx;
    if (gw) gw[c] = static_cast<float>(sgx);
    if (gb) gb[c] = static_cast<float>(sg);
  }
}
template <class T>
__global__ void bwd_gx_k(int64_t N, int64_t C, int64_t S, const T* x, const T* gy, const float* mean, const float* var,
                         const float* w, double eps, bool batch_stats, const double* sums, T* gx) {
  const auto M = static_cast<double>(N * S);
  CONVNET_GRID_STRIDE(i, N * C * S) {
    const int64_t c = (i / S) % C;
    const double invstd = 1.0 / sqrt(static_cast<double>(var[c]) + eps);
    const double wc = w ? w[c] : 1.0;
    const double xhat = (ld(x[i]) - mean[c]) * invstd, g = ld(gy[i]);
    const double d = batch_stats ? g - sums[2 * c] / M - xhat * sums[2 * c + 1] / M : g;
    gx[i] = st<T>(static_cast<float>(wc * invstd * d));
  }
}

int64_t chunks(int64_t N, int64_t S) {
  int64_t p = (N * S + kChunk - 1) / kChunk;
  return p < 1 ? 1 : p > kMaxChunks ? kMaxChunks : p;
}

}  // namespace

int64_t bn_scratch(int64_t N, int64_t C, int64_t S) {
  return C * (2 * chunks(N, S) + 2);
}
template <class T>
void bn_stats(int64_t N, int64_t C, int64_t S, const T* x, float* mean, float* var, double* scratch, cudaStream_t s) {
  if (C <= 0) return;
  const int64_t P = chunks(N, S);
  double* part = scratch;
  double* mean_d = scratch + C * P;
  const dim3 blocks(static_cast<unsigned>(C), static_cast<unsigned>(P));
  partial_sum_k<T><<<blocks, kThreads, 0, s>>>(N, C, S, P, x, nullptr, part);
  finish_mean_k<<<grid(C), kThreads, 0, s>>>(C, P, N * S, part, mean_d, mean);
  partial_sum_k<T><<<blocks, kThreads, 0, s>>>(N, C, S, P, x, mean_d, part);
  finish_mean_k<<<grid(C), kThreads, 0, s>>>(C, P, N * S, part, nullptr, var);
}
template <class T>
void bn_apply(int64_t N, int64_t C, int64_t S, const T* x, const float* mean, const float* var, const float* w,
              const float* b, double eps, T* y, cudaStream_t s) {
  if (N * C * S > 0) bn_apply_k<T><<<grid(N * C * S), kThreads, 0, s>>>(N, C, S, x, mean, var, w, b, eps, y);
}
template <class T>
void bn_bwd(int64_t N, int64_t C, int64_t S, const T* x, const T* gy, const float* mean, const float* var,
            const float* w, double eps, bool batch_stats, T* gx, float* gw, float* gb, double* scratch,
            cudaStream_t s) {
  if (C <= 0) return;
  const int64_t P = chunks(N, S);
  double* part = scratch;
  double* sums = scratch + 2 * C * P;
  bwd_partial_k<T><<<dim3(static_cast<unsigned>(C), static_cast<unsigned>(P)), kThreads, 0, s>>>(N, C, S, P, x, gy,
                                                                                                 mean, var, eps, part);
  bwd_finish_k<<<grid(C), kThreads, 0, s>>>(C, P, part, sums, gw, gb);
  if (gx && N * S > 0)
    bwd_gx_k<T><<<grid(N * C * S), kThreads, 0, s>>>(N, C, S, x, gy, mean, var, w, eps, batch_stats, sums, gx);
}
#define CONVNET_INSTANTIATE(T)                                                                                     \
  template void bn_stats<T>(int64_t, int64_t, int64_t, const T*, float*, float*, double*, cudaStream_t);           \
  template void bn_apply<T>(int64_t, int64_t, int64_t, const T*, const float*, const float*, const float*,         \
                            const float*, double, T*, cudaStream_t);                                               \
  template void bn_bwd<T>(int64_t, int64_t, int64_t, const T*, const T*, const float*, const float*, const float*, \
                          double, bool, T*, float*, float*, double*, cudaStream_t);
CONVNET_INSTANTIATE(float)
CONVNET_INSTANTIATE(bf16_t)
CONVNET_INSTANTIATE(f16_t)
#undef CONVNET_INSTANTIATE

}  // namespace convnet::kernels::cuda::launch
