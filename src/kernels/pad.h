#pragma once
// Kernel interface of constant padding (ops/pad.h): y has out_shape, and
//   y[o] = x[o - begin]   where 0 <= o_k - begin_k < in_shape_k for every k,
//   y[o] = value          elsewhere.
// begin_k < 0 crops the start of dimension k (and out_k < in_k + begin_k crops its end).
//   keys: constant_pad_fwd (PadFwdFn), constant_pad_bwd (PadBwdFn)
// Kernels trust the op: out_shape_k = in_shape_k + begin_k + end_k >= 0.
#include <cstdint>
#include "kernels/registry.h"

namespace convnet::kernels {

template <class T>
using PadFwdFn = void(int64_t rank, const int64_t* in_shape, const int64_t* out_shape, const int64_t* begin, T value,
                      const T* x, T* y);
// The adjoint: gx[i] = gy[i + begin] (0 for elements of x cropped away).
template <class T>
using PadBwdFn = void(int64_t rank, const int64_t* in_shape, const int64_t* out_shape, const int64_t* begin,
                      const T* gy, T* gx);

namespace ref {
template <class T>
void constant_pad_fwd(int64_t rank, const int64_t* in_shape, const int64_t* out_shape, const int64_t* begin, T value,
                      const T* x, T* y);
template <class T>
void constant_pad_bwd(int64_t rank, const int64_t* in_shape, const int64_t* out_shape, const int64_t* begin,
                      const T* gy, T* gx);
}  // namespace ref


// The keys (kernels/registry.h): one per kernel of this interface.
namespace keys {
inline Kernel<PadFwdFn<float>> constant_pad_fwd{"constant_pad_fwd"};
inline Kernel<PadBwdFn<float>> constant_pad_bwd{"constant_pad_bwd"};
}  // namespace keys

}  // namespace convnet::kernels
