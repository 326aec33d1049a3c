#pragma once
// Launch geometry shared by the backend's .cu files: 256 threads per block, and grid-stride
// loops over n elements (the grid capped, the loop covering the rest).
#include <cstdint>

namespace convnet::kernels::cuda::launch {

constexpr int kThreads = 256;

inline unsigned grid(int64_t n) {
  int64_t b = (n + kThreads - 1) / kThreads;
  if (b < 1) b = 1;
  if (b > 65535LL * 32) b = 65535LL * 32;
  return static_cast<unsigned>(b);
}

// Block-wide reductions of one value per thread (blockDim.x == kThreads), the result in every
// thread (each ends with a barrier, so two calls in a row are safe).
template <class T>
__device__ inline T block_sum(T v) {
  __shared__ T sh[kThreads];
  sh[threadIdx.x] = v;
  __syncthreads();
  for (int step = kThreads / 2; step > 0; step >>= 1) {
    if (threadIdx.x < step) sh[threadIdx.x] += sh[threadIdx.x + step];
    __syncthreads();
  }
  T r = sh[0];
  __syncthreads();
  return r;
}
__device__ inline float block_max(float v) {
  __shared__ float sh[kThreads];
  sh[threadIdx.x] = v;
  __syncthreads();
  for (int step = kThreads / 2; step > 0; step >>= 1) {
    if (threadIdx.x < step) sh[threadIdx.x] = fmaxf(sh[threadIdx.x], sh[threadIdx.x + step]);
    __syncthreads();
  }
  const float r = sh[0];
  __syncthreads();
  return r;
}

}  // namespace convnet::kernels::cuda::launch

#define CONVNET_GRID_STRIDE(i, n)                                                        \
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(blockDim.x) * gridDim.x)
