#pragma once
// Kernel interface of elementwise arithmetic, full reductions and concat. Kernels trust
// the op: operands have n elements each (same shape), pointers may alias only y == a/b.
//   keys: add, sub, mul (BinaryFn), scale (ScaleFn), sum (SumFn), concat_fwd, concat_bwd
#include <cstdint>
#include "kernels/registry.h"

namespace convnet::kernels {

// y_i = a_i (+, -, *) b_i over n elements.
template <class T>
using BinaryFn = void(int64_t n, const T* a, const T* b, T* y);
// y_i = s x_i
template <class T>
using ScaleFn = void(int64_t n, T s, const T* x, T* y);
// y[0] = sum_i x_i
template <class T>
using SumFn = void(int64_t n, const T* x, T* y);

// concat along one dimension: each tensor is seen as (outer, sizes[i] * inner), where
// outer is the product of the dimensions before `dim` and inner of those after it;
// y is (outer, sum_i sizes[i] * inner), the tensors side by side in each outer row.
template <class T>
using ConcatFwdFn = void(int64_t outer, int64_t inner, int64_t count, const int64_t* sizes, const T* const* xs, T* y);
// The adjoint: gxs[i] gets its slice of gy; a null gxs[i] (no gradient needed) is skipped.
template <class T>
using ConcatBwdFn = void(int64_t outer, int64_t inner, int64_t count, const int64_t* sizes, const T* gy, T* const* gxs);

namespace ref {
template <class T>
void add(int64_t n, const T* a, const T* b, T* y);
template <class T>
void sub(int64_t n, const T* a, const T* b, T* y);
template <class T>
void mul(int64_t n, const T* a, const T* b, T* y);
template <class T>
void scale(int64_t n, T s, const T* x, T* y);
template <class T>
void sum(int64_t n, const T* x, T* y);
template <class T>
void concat_fwd(int64_t outer, int64_t inner, int64_t count, const int64_t* sizes, const T* const* xs, T* y);
template <class T>
void concat_bwd(int64_t outer, int64_t inner, int64_t count, const int64_t* sizes, const T* gy, T* const* gxs);
template <class T>
void add_lowp(int64_t n, const T* a, const T* b, T* y);  // T = bf16_t, f16_t: in float32, rounded
}  // namespace ref


// The keys (kernels/registry.h): one per kernel of this interface.
namespace keys {
inline Kernel<BinaryFn<float>> add{"add"};
inline Kernel<BinaryFn<float>> sub{"sub"};
inline Kernel<BinaryFn<float>> mul{"mul"};
inline Kernel<ScaleFn<float>> scale{"scale"};
inline Kernel<SumFn<float>> sum{"sum"};
inline Kernel<ConcatFwdFn<float>> concat_fwd{"concat_fwd"};
inline Kernel<ConcatBwdFn<float>> concat_bwd{"concat_bwd"};
// Reduced precision (T = bf16_t, f16_t; the reference twins compute in float32 and round):
// add (residual connections, gradient accumulation) and concat.
inline Kernel<BinaryFn<bf16_t>> add_bf16{"add_bf16", DType::bfloat16};
inline Kernel<BinaryFn<f16_t>> add_f16{"add_f16", DType::float16};
inline Kernel<ConcatFwdFn<bf16_t>> concat_fwd_bf16{"concat_fwd_bf16", DType::bfloat16};
inline Kernel<ConcatBwdFn<bf16_t>> concat_bwd_bf16{"concat_bwd_bf16", DType::bfloat16};
inline Kernel<ConcatFwdFn<f16_t>> concat_fwd_f16{"concat_fwd_f16", DType::float16};
inline Kernel<ConcatBwdFn<f16_t>> concat_bwd_f16{"concat_bwd_f16", DType::float16};
template <class T>
struct Elementwise;  // the keys of element type T
template <>
struct Elementwise<float> {
  static constexpr auto* add = &keys::add;
  static constexpr auto* concat_fwd = &keys::concat_fwd;
  static constexpr auto* concat_bwd = &keys::concat_bwd;
};
template <>
struct Elementwise<bf16_t> {
  static constexpr auto* add = &add_bf16;
  static constexpr auto* concat_fwd = &concat_fwd_bf16;
  static constexpr auto* concat_bwd = &concat_bwd_bf16;
};
template <>
struct Elementwise<f16_t> {
  static constexpr auto* add = &add_f16;
  static constexpr auto* concat_fwd = &concat_fwd_f16;
  static constexpr auto* concat_bwd = &concat_bwd_f16;
};
}  // namespace keys

}  // namespace convnet::kernels
