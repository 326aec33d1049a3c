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

}  // namespace convnet::kernels::cuda::launch

#define CONVNET_GRID_STRIDE(i, n)                                                        \
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(blockDim.x) * gridDim.x)
