#pragma once
// Kernel interface of linear layers in reduced precision (T = bf16_t, f16_t). In float32,
// ops/linear.cpp composes linear from the GEMM key (kernels/gemm.h). Here x, y, gy, gx are
// in T; the weight (OUT, IN), the bias and their gradients stay float32 (the masters; a
// kernel rounds the weight to T as it computes). Accumulation is in float32. Kernels trust
// the op.
//   y  (M, OUT) = x (M, IN) W^T + b
//   gx (M, IN)  = gy W;   gw (OUT, IN) = gy^T x;   gb = column sums of gy
#include <cstdint>

#include "kernels/registry.h"

namespace convnet::kernels {

// b may be null.
template <class T>
using LinearFwdFn = void(int64_t M, int64_t IN, int64_t OUT, const T* x, const float* w, const float* b, T* y);
// gx, gw, gb are overwritten; a null one is not computed.
template <class T>
using LinearBwdFn = void(int64_t M, int64_t IN, int64_t OUT, const T* x, const float* w, const T* gy, T* gx, float* gw,
                         float* gb);

namespace ref {
template <class T>
void linear_fwd_lowp(int64_t M, int64_t IN, int64_t OUT, const T* x, const float* w, const float* b, T* y);
template <class T>
void linear_bwd_lowp(int64_t M, int64_t IN, int64_t OUT, const T* x, const float* w, const T* gy, T* gx, float* gw,
                     float* gb);
}  // namespace ref

namespace keys {
inline Kernel<LinearFwdFn<bf16_t>> linear_fwd_bf16{"linear_fwd_bf16", DType::bfloat16};
inline Kernel<LinearBwdFn<bf16_t>> linear_bwd_bf16{"linear_bwd_bf16", DType::bfloat16};
inline Kernel<LinearFwdFn<f16_t>> linear_fwd_f16{"linear_fwd_f16", DType::float16};
inline Kernel<LinearBwdFn<f16_t>> linear_bwd_f16{"linear_bwd_f16", DType::float16};
template <class T>
struct Linear;  // the keys of element type T
template <>
struct Linear<bf16_t> {
  static constexpr auto* fwd = &linear_fwd_bf16;
  static constexpr auto* bwd = &linear_bwd_bf16;
};
template <>
struct Linear<f16_t> {
  static constexpr auto* fwd = &linear_fwd_f16;
  static constexpr auto* bwd = &linear_bwd_f16;
};
}  // namespace keys

}  // namespace convnet::kernels
