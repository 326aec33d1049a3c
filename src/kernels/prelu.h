#pragma once
// Kernel interface of PReLU (ops::prelu) on a plain row-major x viewed as (n, c, s): n
// samples, c channels, s elements per channel (the spatial size; 1 for (N, C)). The weight
// has wc = 1 or c entries (one slope for all channels, or one per channel).
//   y = x > 0 ? x : w[c] x                          (PyTorch: max(0, x) + w min(0, x))
//   gx = x > 0 ? gy : w[c] gy                       (the slope's branch at x = 0, as PyTorch)
//   gw[c] = sum over n, s of (x > 0 ? 0 : x gy)     (written, not accumulated; summed over
//                                                    channels too when wc = 1)
//   keys: prelu_fwd (PreluFwdFn), prelu_bwd (PreluBwdFn)
#include <cstdint>

#include "kernels/registry.h"

namespace convnet::kernels {

template <class T>
using PreluFwdFn = void(int64_t n, int64_t c, int64_t s, int64_t wc, const T* x, const T* w, T* y);
template <class T>
using PreluBwdFn = void(int64_t n, int64_t c, int64_t s, int64_t wc, const T* x, const T* w, const T* gy, T* gx, T* gw);

namespace ref {
template <class T>
void prelu_fwd(int64_t n, int64_t c, int64_t s, int64_t wc, const T* x, const T* w, T* y);
template <class T>
void prelu_bwd(int64_t n, int64_t c, int64_t s, int64_t wc, const T* x, const T* w, const T* gy, T* gx, T* gw);
}  // namespace ref

// The keys (kernels/registry.h): one per kernel of this interface.
namespace keys {
inline Kernel<PreluFwdFn<float>> prelu_fwd{"prelu_fwd"};
inline Kernel<PreluBwdFn<float>> prelu_bwd{"prelu_bwd"};
}  // namespace keys

}  // namespace convnet::kernels
