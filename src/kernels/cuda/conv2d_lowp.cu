// The CUDA backend's epilogues of the reduced-precision convolution and linear layer
// (launch.h): the bias, the residual sum and the activation applied to the product in one
// pass with one rounding to T, and the per-channel sums behind the bias gradients. They are
// parts of the conv2d_*_bf16/f16 and linear_*_bf16/f16 keys' CUDA variants, not keys of
// their own, so their reference twins are those keys': src/kernels/ref/conv2d_lowp.cpp (the
// post-ops and bias on the float32 sums, one rounding) and ref/linear_lowp.cpp; the keys are
// compared with them in tests/cuda/test_cuda_lowp.cpp (ConvolutionAndLinear...).
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/cuda/elem.cuh"
#include "kernels/cuda/grid.cuh"
#include "kernels/cuda/launch.h"

namespace convnet::kernels::cuda::launch {

namespace {

template <class Src, class T>
__global__ void bias_epilogue_k(int64_t N, int64_t C, int64_t S, const Src* src, const float* b, bool sum, int act,
                                float lo, float hi, T* y) {
  CONVNET_GRID_STRIDE(i, N * C * S) {
    float v = ld(src[i]);
    if (b) v += b[(i / S) % C];
    if (sum) v += ld(y[i]);
    if (act == 1) v = v > 0.f ? v : 0.f;  // as ConvPostOps::apply (NaN gives 0)
    if (act == 2) v = v < lo ? lo : v > hi ? hi : v;
    y[i] = st<T>(v);
  }
}
template <class T>
__global__ void channel_sum_k(int64_t N, int64_t C, int64_t S, const T* x, float* out) {
  const int64_t c = blockIdx.x, M = N * S;
  double s = 0;
  for (int64_t j = threadIdx.x; j < M; j += blockDim.x) s += ld(x[((j / S) * C + c) * S + j % S]);
  s = block_sum(s);
  if (threadIdx.x == 0) out[c] = static_cast<float>(s);
}

}  // namespace

template <class Src, class T>
void bias_epilogue(int64_t N, int64_t C, int64_t S, const Src* src, const float* b, bool sum, int act, float lo,
                   float hi, T* y, cudaStream_t s) {
  const int64_t n = N * C * S;
  if (n > 0) bias_epilogue_k<Src, T><<<grid(n), kThreads, 0, s>>>(N, C, S, src, b, sum, act, lo, hi, y);
}
template <class T>
void channel_sum(int64_t N, int64_t C, int64_t S, const T* x, float* out, cudaStream_t s) {
  if (C > 0) channel_sum_k<T><<<static_cast<unsigned>(C), kThreads, 0, s>>>(N, C, S, x, out);
}
#define CONVNET_INSTANTIATE(Src, T)                                                                                 \
  template void bias_epilogue<Src, T>(int64_t, int64_t, int64_t, const Src*, const float*, bool, int, float, float, \
                                      T*, cudaStream_t);
CONVNET_INSTANTIATE(bf16_t, bf16_t)
CONVNET_INSTANTIATE(f16_t, f16_t)
CONVNET_INSTANTIATE(float, bf16_t)
CONVNET_INSTANTIATE(float, f16_t)
#undef CONVNET_INSTANTIATE
template void channel_sum<bf16_t>(int64_t, int64_t, int64_t, const bf16_t*, float*, cudaStream_t);
template void channel_sum<f16_t>(int64_t, int64_t, int64_t, const f16_t*, float*, cudaStream_t);

}  // namespace convnet::kernels::cuda::launch
