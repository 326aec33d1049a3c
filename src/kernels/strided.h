#pragma once
// Kernel interface of the strided copy behind broadcast_to and permute (ops/broadcast.h,
// ops/permute.h): y is a contiguous tensor of shape out_shape (rank dims) whose element at
// index (o_0, ..., o_{r-1}) is x[sum_k o_k * strides[k]], i.e. y is a view of x with the
// given element strides, made contiguous. broadcast_to uses stride 0 along broadcast
// dimensions; permute uses x's strides in the permuted order.
//   keys: strided_copy (StridedCopyFn), strided_copy_bwd (StridedCopyBwdFn)
// Kernels trust the op: strides address inside x, rank >= 0 (rank 0: one element).
#include <cstdint>
#include "kernels/registry.h"

namespace convnet::kernels {

// y[o] = x[offset(o)], offset(o) = sum_k o_k * strides[k], o running over out_shape.
template <class T>
using StridedCopyFn = void(int64_t rank, const int64_t* out_shape, const int64_t* strides, const T* x, T* y);
// The adjoint: gx (x_numel elements) = 0, then gx[offset(o)] += gy[o] for every o; with
// stride 0 (broadcast) this sums the gradient over the copies of each element.
template <class T>
using StridedCopyBwdFn = void(int64_t rank, const int64_t* out_shape, const int64_t* strides, int64_t x_numel,
                              const T* gy, T* gx);

namespace ref {
template <class T>
void strided_copy(int64_t rank, const int64_t* out_shape, const int64_t* strides, const T* x, T* y);
template <class T>
void strided_copy_bwd(int64_t rank, const int64_t* out_shape, const int64_t* strides, int64_t x_numel, const T* gy,
                      T* gx);
}  // namespace ref


// The keys (kernels/registry.h): one per kernel of this interface.
namespace keys {
inline Kernel<StridedCopyFn<float>> strided_copy{"strided_copy"};
inline Kernel<StridedCopyBwdFn<float>> strided_copy_bwd{"strided_copy_bwd"};
}  // namespace keys

}  // namespace convnet::kernels
