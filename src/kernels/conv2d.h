#pragma once
// Kernel interface of conv2d. Kernels trust the op: shapes are already checked.
#include <cstdint>

namespace convnet::kernels {

struct Conv2dGeom {
  int64_t N, C, H, W;     // input
  int64_t OC, KH, KW;     // weight (OC, C/G, KH, KW)
  int64_t SH, SW;         // stride
  int64_t PH, PW;         // top / left padding (bottom / right follow from OH, OW)
  int64_t DH, DW;         // dilation
  int64_t G;              // groups
  int64_t OH, OW;         // output
};

// y: (N, OC, OH, OW); b may be null.
template <class T>
using Conv2dFwdFn = void(const Conv2dGeom&, const T* x, const T* w, const T* b, T* y);
// gx: (N, C, H, W), overwritten.
template <class T>
using Conv2dBwdDataFn = void(const Conv2dGeom&, const T* gy, const T* w, T* gx);
// gw: (OC, C/G, KH, KW) overwritten; gb: (OC) overwritten, may be null.
template <class T>
using Conv2dBwdWeightFn = void(const Conv2dGeom&, const T* x, const T* gy, T* gw, T* gb);

namespace ref {
template <class T> void conv2d_fwd(const Conv2dGeom& g, const T* x, const T* w, const T* b, T* y);
template <class T> void conv2d_bwd_data(const Conv2dGeom& g, const T* gy, const T* w, T* gx);
template <class T> void conv2d_bwd_weight(const Conv2dGeom& g, const T* x, const T* gy, T* gw, T* gb);
}  // namespace ref

// The im2col + OpenBLAS kernels (kernels/cpu/conv2d_blas.cpp); the oneDNN kernels fall
// back to them for the shapes where they are faster.
namespace cpu {
void conv2d_fwd(const Conv2dGeom& g, const float* x, const float* w, const float* b, float* y);
void conv2d_bwd_data(const Conv2dGeom& g, const float* gy, const float* w, float* gx);
void conv2d_bwd_weight(const Conv2dGeom& g, const float* x, const float* gy, float* gw, float* gb);
}  // namespace cpu

}  // namespace convnet::kernels
