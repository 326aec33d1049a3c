#pragma once
// Kernel interface of clamp (ops/clamp.h): y = min(max(x, lo), hi) elementwise, NaN
// passed through; gx = gy where lo <= x <= hi, else 0 (PyTorch's clamp backward).
//   keys: clamp_fwd (ClampFwdFn), clamp_bwd (ClampBwdFn)
#include <cstdint>
#include "kernels/registry.h"

namespace convnet::kernels {

template <class T>
using ClampFwdFn = void(int64_t n, T lo, T hi, const T* x, T* y);
template <class T>
using ClampBwdFn = void(int64_t n, T lo, T hi, const T* x, const T* gy, T* gx);

namespace ref {
template <class T>
void clamp_fwd(int64_t n, T lo, T hi, const T* x, T* y);
template <class T>
void clamp_bwd(int64_t n, T lo, T hi, const T* x, const T* gy, T* gx);
}  // namespace ref


// The keys (kernels/registry.h): one per kernel of this interface.
namespace keys {
inline Kernel<ClampFwdFn<float>> clamp_fwd{"clamp_fwd"};
inline Kernel<ClampBwdFn<float>> clamp_bwd{"clamp_bwd"};
}  // namespace keys

}  // namespace convnet::kernels
