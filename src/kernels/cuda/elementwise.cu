// The CUDA backend's elementwise kernels: unary maps (relu, scale, affine, clip), binary
// arithmetic, axpby, fill, and the sums (in double) behind sum and sum_squares. The
// definitions of their reference twins (src/kernels/ref/elementwise.cpp, activation.cpp,
// vector.cpp), one thread per element; tests/cuda/test_cuda_kernels.cpp compares them.
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "kernels/cuda/elem.cuh"
#include "kernels/cuda/grid.cuh"
#include "kernels/cuda/launch.h"

namespace convnet::kernels::cuda::launch {

namespace {

template <class T>
__global__ void unary_k(int op, int64_t n, float p0, float p1, const T* x, T* y) {
  CONVNET_GRID_STRIDE(i, n) {
    const float v = ld(x[i]);
    float r;
    if (op == 0)
      r = v < 0.f ? 0.f : v;  // relu; NaN passes through, as the reference
    else if (op == 1)
      r = p0 * v;  // scale
    else if (op == 2)
      r = p0 * v + p1;  // affine
    else
      r = v < p0 ? p0 : v > p1 ? p1 : v;  // clip to [p0, p1]
    y[i] = st<T>(r);
  }
}
template <class T>
__global__ void binary_k(int op, int64_t n, const T* a, const T* b, T* y) {
  CONVNET_GRID_STRIDE(i, n) {
    const float u = ld(a[i]), v = ld(b[i]);
    y[i] = st<T>(op == 0 ? u + v : op == 1 ? u - v : u * v);
  }
}
__global__ void axpby_k(int64_t n, float a, float* y, float b, const float* x) {
  CONVNET_GRID_STRIDE(i, n) y[i] = a * y[i] + b * x[i];
}
__global__ void fill_k(int64_t n, float v, float* y) {
  CONVNET_GRID_STRIDE(i, n) y[i] = v;
}

constexpr int kPartials = 1024;

__global__ void sum_partial_k(int64_t n, const float* x, bool squares, double* partial) {
  double acc = 0;
  CONVNET_GRID_STRIDE(i, n) {
    const double v = x[i];
    acc += squares ? v * v : v;
  }
  acc = block_sum(acc);
  if (threadIdx.x == 0) partial[blockIdx.x] = acc;
}
__global__ void sum_final_k(int count, const double* partial, double* out) {
  double acc = 0;
  for (int i = threadIdx.x; i < count; i += blockDim.x) acc += partial[i];
  acc = block_sum(acc);
  if (threadIdx.x == 0) *out = acc;
}
__global__ void double_to_float_k(const double* in, float* out) {
  *out = static_cast<float>(*in);
}

}  // namespace

template <class T>
void unary(Unary op, int64_t n, float p0, float p1, const T* x, T* y, cudaStream_t s) {
  if (n > 0) unary_k<T><<<grid(n), kThreads, 0, s>>>(static_cast<int>(op), n, p0, p1, x, y);
}
template <class T>
void binary(Binary op, int64_t n, const T* a, const T* b, T* y, cudaStream_t s) {
  if (n > 0) binary_k<T><<<grid(n), kThreads, 0, s>>>(static_cast<int>(op), n, a, b, y);
}
#define CONVNET_INSTANTIATE(T)                                                      \
  template void unary<T>(Unary, int64_t, float, float, const T*, T*, cudaStream_t); \
  template void binary<T>(Binary, int64_t, const T*, const T*, T*, cudaStream_t);
CONVNET_INSTANTIATE(float)
CONVNET_INSTANTIATE(bf16_t)
CONVNET_INSTANTIATE(f16_t)
#undef CONVNET_INSTANTIATE
void axpby(int64_t n, float a, float* y, float b, const float* x, cudaStream_t s) {
  if (n > 0) axpby_k<<<grid(n), kThreads, 0, s>>>(n, a, y, b, x);
}
void fill(int64_t n, float v, float* y, cudaStream_t s) {
  if (n > 0) fill_k<<<grid(n), kThreads, 0, s>>>(n, v, y);
}
int64_t reduce_partials() {
  return kPartials;
}
void sum(int64_t n, const float* x, bool squares, double* partial, double* out, cudaStream_t s) {
  int64_t blocks = (n + kThreads - 1) / kThreads;
  if (blocks < 1) blocks = 1;
  if (blocks > kPartials) blocks = kPartials;
  sum_partial_k<<<static_cast<unsigned>(blocks), kThreads, 0, s>>>(n, x, squares, partial);
  sum_final_k<<<1, kThreads, 0, s>>>(static_cast<int>(blocks), partial, out);
}
void double_to_float(const double* in, float* out, cudaStream_t s) {
  double_to_float_k<<<1, 1, 0, s>>>(in, out);
}

}  // namespace convnet::kernels::cuda::launch
