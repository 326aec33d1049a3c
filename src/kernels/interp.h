#pragma once
// Kernel interface of 2-D interpolation (ops/interpolate.h): every output pixel is a weighted
// sum of at most 2 x 2 input pixels, the same rows and columns for every (n, c) plane:
//   y[p, oh, ow] = sum_{a, b in {0, 1}} wh[a][oh] ww[b][ow] x[p, ih[a][oh], iw[b][ow]]
// The op tabulates the source indices and weights per output row and column from the mode
// (nearest: one index with weight 1 and a zero second weight; bilinear: two neighbours).
//   keys: interp_fwd (InterpFwdFn), interp_bwd (InterpBwdFn)
#include <cstdint>

#include "kernels/registry.h"

namespace convnet::kernels {

struct InterpGeom {
  int64_t planes, H, W, OH, OW;
  const int64_t *ih0, *ih1, *iw0, *iw1;  // OH and OW entries, each in [0, H) / [0, W)
  const float *wh0, *wh1, *ww0, *ww1;    // their weights
};

template <class T>
using InterpFwdFn = void(const InterpGeom&, const T* x, T* y);
// The adjoint: gx (planes, H, W) overwritten with the sum of gy's contributions.
template <class T>
using InterpBwdFn = void(const InterpGeom&, const T* gy, T* gx);

namespace ref {
template <class T>
void interp_fwd(const InterpGeom& g, const T* x, T* y);
template <class T>
void interp_bwd(const InterpGeom& g, const T* gy, T* gx);
}  // namespace ref

namespace keys {
inline Kernel<InterpFwdFn<float>> interp_fwd{"interp_fwd"};
inline Kernel<InterpBwdFn<float>> interp_bwd{"interp_bwd"};
}  // namespace keys

}  // namespace convnet::kernels
