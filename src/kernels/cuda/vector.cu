// The CUDA backend's vector kernels: the running-statistics update, the accuracy count and
// dropout masks from the counter-based generator (the CPU's masks for the same seed). The
// definitions of their reference twins (src/kernels/ref/vector.cpp).
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "kernels/cuda/grid.cuh"
#include "kernels/cuda/launch.h"

namespace convnet::kernels::cuda::launch {

namespace {

__global__ void bn_update_stats_k(int64_t C, double momentum, double unbias, const float* mean, const float* var,
                                  float* rm, float* rv) {
  CONVNET_GRID_STRIDE(c, C) {
    rm[c] = static_cast<float>((1 - momentum) * rm[c] + momentum * mean[c]);
    rv[c] = static_cast<float>((1 - momentum) * rv[c] + momentum * var[c] * unbias);
  }
}

__global__ void count_correct_k(int64_t N, int64_t K, const float* x, const int64_t* labels, int64_t* correct) {
  int64_t c = 0;
  for (int64_t n = threadIdx.x; n < N; n += blockDim.x) {
    int64_t best = 0;
    for (int64_t k = 1; k < K; ++k)
      if (x[n * K + k] > x[n * K + best]) best = k;
    c += best == labels[n];
  }
  __shared__ int64_t sh[kThreads];
  sh[threadIdx.x] = c;
  __syncthreads();
  for (int step = kThreads / 2; step > 0; step >>= 1) {
    if (threadIdx.x < step) sh[threadIdx.x] += sh[threadIdx.x + step];
    __syncthreads();
  }
  if (threadIdx.x == 0) *correct = sh[0];
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

}  // namespace

void bn_update_stats(int64_t C, double momentum, double unbias, const float* mean, const float* var, float* rm,
                     float* rv, cudaStream_t s) {
  if (C > 0) bn_update_stats_k<<<grid(C), kThreads, 0, s>>>(C, momentum, unbias, mean, var, rm, rv);
}
void count_correct(int64_t N, int64_t K, const float* x, const int64_t* labels, int64_t* correct, cudaStream_t s) {
  count_correct_k<<<1, kThreads, 0, s>>>(N, K, x, labels, correct);
}
void dropout_mask(int64_t n, int64_t group, float p, uint64_t seed, float scale, float* mask, cudaStream_t s) {
  if (n > 0) dropout_mask_k<<<grid(n), kThreads, 0, s>>>(n, group, p, seed, scale, mask);
}

}  // namespace convnet::kernels::cuda::launch
