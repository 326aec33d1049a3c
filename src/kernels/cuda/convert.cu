// The CUDA backend's dtype conversion (Tensor::to(DType) on a GPU): the definition of its
// reference twin (src/kernels/ref/convert.cpp), one thread per element: a value is read as a
// double (exact for every source dtype) and stored in the destination dtype, which rounds
// floating values to nearest even (bfloat16 and float16 as elem.cuh, bit for bit as the host)
// and truncates to integers.
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/cuda/elem.cuh"
#include "kernels/cuda/grid.cuh"
#include "kernels/cuda/launch.h"

namespace convnet::kernels::cuda::launch {

namespace {

__device__ double load(DType t, const void* p, int64_t i) {
  switch (t) {
    case DType::float32:
      return static_cast<const float*>(p)[i];
    case DType::bfloat16:
      return ld(static_cast<const bf16_t*>(p)[i]);
    case DType::float16:
      return ld(static_cast<const f16_t*>(p)[i]);
    case DType::int64:
      return static_cast<double>(static_cast<const int64_t*>(p)[i]);
    case DType::int32:
      return static_cast<const int32_t*>(p)[i];
    case DType::uint8:
      return static_cast<const uint8_t*>(p)[i];
    case DType::bool_:
      return static_cast<const uint8_t*>(p)[i] != 0;
  }
  return 0;
}
__device__ void store(DType t, void* p, int64_t i, double v) {
  switch (t) {
    case DType::float32:
      static_cast<float*>(p)[i] = static_cast<float>(v);
      break;
    case DType::bfloat16:  // through float32: one rounding, as the host
      static_cast<bf16_t*>(p)[i] = st<bf16_t>(static_cast<float>(v));
      break;
    case DType::float16:
      static_cast<f16_t*>(p)[i] = st<f16_t>(static_cast<float>(v));
      break;
    case DType::int64:
      static_cast<int64_t*>(p)[i] = static_cast<int64_t>(v);
      break;
    case DType::int32:
      static_cast<int32_t*>(p)[i] = static_cast<int32_t>(v);
      break;
    case DType::uint8:
      static_cast<uint8_t*>(p)[i] = static_cast<uint8_t>(static_cast<int64_t>(v));
      break;
    case DType::bool_:
      static_cast<uint8_t*>(p)[i] = v != 0;
      break;
  }
}
__global__ void convert_k(int64_t n, DType from, const void* x, DType to, void* y) {
  CONVNET_GRID_STRIDE(i, n) store(to, y, i, load(from, x, i));
}

}  // namespace

void convert(int64_t n, DType from, const void* x, DType to, void* y, cudaStream_t s) {
  if (n > 0) convert_k<<<grid(n), kThreads, 0, s>>>(n, from, x, to, y);
}

}  // namespace convnet::kernels::cuda::launch
