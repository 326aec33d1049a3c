// The CUDA backend's activation kernels beyond relu's forward (elementwise.cu): the relu and
// relu6 backward, leaky_relu, tanh and sigmoid. The definitions of their reference twins
// (src/kernels/ref/activation.cpp), one thread per element.
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "kernels/cuda/elem.cuh"
#include "kernels/cuda/grid.cuh"
#include "kernels/cuda/launch.h"

namespace convnet::kernels::cuda::launch {

namespace {

template <class T>
__global__ void relu_bwd_k(int64_t n, const T* x, const T* gy, T* gx) {
  CONVNET_GRID_STRIDE(i, n) gx[i] = st<T>(ld(x[i]) > 0.f ? ld(gy[i]) : 0.f);
}
__global__ void relu6_bwd_k(int64_t n, const float* x, const float* gy, float* gx) {
  CONVNET_GRID_STRIDE(i, n) gx[i] = x[i] <= 0.f || x[i] >= 6.f ? 0.f : gy[i];  // NaN: gy, as the reference
}
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

}  // namespace

template <class T>
void relu_bwd(int64_t n, const T* x, const T* gy, T* gx, cudaStream_t s) {
  if (n > 0) relu_bwd_k<T><<<grid(n), kThreads, 0, s>>>(n, x, gy, gx);
}
template void relu_bwd<float>(int64_t, const float*, const float*, float*, cudaStream_t);
template void relu_bwd<bf16_t>(int64_t, const bf16_t*, const bf16_t*, bf16_t*, cudaStream_t);
template void relu_bwd<f16_t>(int64_t, const f16_t*, const f16_t*, f16_t*, cudaStream_t);
void relu6_bwd(int64_t n, const float* x, const float* gy, float* gx, cudaStream_t s) {
  if (n > 0) relu6_bwd_k<<<grid(n), kThreads, 0, s>>>(n, x, gy, gx);
}
void act_fwd(Act op, int64_t n, float a, const float* x, float* y, cudaStream_t s) {
  if (n > 0) act_fwd_k<<<grid(n), kThreads, 0, s>>>(static_cast<int>(op), n, a, x, y);
}
void act_bwd(Act op, int64_t n, float a, const float* x, const float* y, const float* gy, float* gx, cudaStream_t s) {
  if (n > 0) act_bwd_k<<<grid(n), kThreads, 0, s>>>(static_cast<int>(op), n, a, x, y, gy, gx);
}

}  // namespace convnet::kernels::cuda::launch
