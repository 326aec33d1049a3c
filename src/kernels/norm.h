#pragma once
// Kernel interface of layer norm and group norm: both normalize rows of contiguous
// elements with the row's own mean and biased variance, then apply a per-element (layer
// norm) or per-channel (group norm) affine transform.
//   x is seen as (rows, D). The affine entry of element d of row r is
//   (r % groups) * (D / inner) + d / inner:
//     layer_norm over the last dims (size D): groups = 1, inner = 1 (weight has D entries);
//     group_norm of (N, C, H, W) in G groups: rows = N*G, D = (C/G)*H*W, groups = G,
//     inner = H*W (weight has C entries).
//   y = (x - mean_r) * rstd_r * w[j] + b[j],  rstd_r = 1 / sqrt(var_r + eps)
//   keys: norm_fwd, norm_bwd
#include <cstdint>

#include "kernels/registry.h"

namespace convnet::kernels {

struct NormGeom {
  int64_t rows, D, groups, inner;
};

// y, and each row's mean and rstd (saved for the backward). w and b may be null (no
// affine transform: w = 1, b = 0).
template <class T>
using NormFwdFn = void(const NormGeom&, const T* x, const T* w, const T* b, double eps, T* y, T* mean, T* rstd);
// From x, w (null: 1), the forward's mean and rstd and the upstream gradient gy: gx, and
// when not null gw and gb (groups * D / inner entries each, overwritten):
//   xhat = (x - mean) rstd, gh = gy w,
//   gx = rstd (gh - mean_row(gh) - xhat mean_row(gh xhat)),
//   gw[j] = sum gy xhat, gb[j] = sum gy over the elements of entry j in every row.
template <class T>
using NormBwdFn = void(const NormGeom&, const T* x, const T* w, const T* mean, const T* rstd, const T* gy, T* gx, T* gw,
                       T* gb);

namespace ref {
template <class T>
void norm_fwd(const NormGeom& g, const T* x, const T* w, const T* b, double eps, T* y, T* mean, T* rstd);
template <class T>
void norm_bwd(const NormGeom& g, const T* x, const T* w, const T* mean, const T* rstd, const T* gy, T* gx, T* gw,
              T* gb);
}  // namespace ref

// The keys (kernels/registry.h): one per kernel of this interface.
namespace keys {
inline Kernel<NormFwdFn<float>> norm_fwd{"norm_fwd"};
inline Kernel<NormBwdFn<float>> norm_bwd{"norm_bwd"};
}  // namespace keys

}  // namespace convnet::kernels
