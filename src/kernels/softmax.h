#pragma once
// Kernel interface of softmax / log_softmax along one dimension. The tensor is seen as
// (outer, D, inner): D is the size of the softmax dimension, outer the product of the
// dimensions before it, inner of those after it; element (o, d, i) is at (o*D + d)*inner + i.
// (dim = 1 of (N, C, H, W): outer = N, D = C, inner = H*W; dim = -1 of (N, K): inner = 1.)
//   keys: softmax_fwd, softmax_bwd, log_softmax_fwd, log_softmax_bwd
#include <cstdint>
#include "kernels/registry.h"

namespace convnet::kernels {

struct SoftmaxGeom {
  int64_t outer, D, inner;
};

// y = softmax(x) or log_softmax(x) along D.
template <class T>
using SoftmaxFwdFn = void(const SoftmaxGeom&, const T* x, T* y);
// gx from the forward's output y and the upstream gradient gy:
//   softmax:     gx_d = y_d (gy_d - sum_j gy_j y_j)
//   log_softmax: gx_d = gy_d - exp(y_d) sum_j gy_j
template <class T>
using SoftmaxBwdFn = void(const SoftmaxGeom&, const T* y, const T* gy, T* gx);

namespace ref {
template <class T>
void softmax_fwd(const SoftmaxGeom& g, const T* x, T* y);
template <class T>
void softmax_bwd(const SoftmaxGeom& g, const T* y, const T* gy, T* gx);
template <class T>
void log_softmax_fwd(const SoftmaxGeom& g, const T* x, T* y);
template <class T>
void log_softmax_bwd(const SoftmaxGeom& g, const T* y, const T* gy, T* gx);
}  // namespace ref


// The keys (kernels/registry.h): one per kernel of this interface.
namespace keys {
inline Kernel<SoftmaxFwdFn<float>> softmax_fwd{"softmax_fwd"};
inline Kernel<SoftmaxBwdFn<float>> softmax_bwd{"softmax_bwd"};
inline Kernel<SoftmaxFwdFn<float>> log_softmax_fwd{"log_softmax_fwd"};
inline Kernel<SoftmaxBwdFn<float>> log_softmax_bwd{"log_softmax_bwd"};
}  // namespace keys

}  // namespace convnet::kernels
