#pragma once
// Kernel interface of conv2d. Kernels trust the op: shapes are already checked.
#include <cstdint>
#include "kernels/registry.h"

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

// The same with a layout per activation tensor: 0 = plain NCHW, B > 0 = channel-blocked
// (N, C/B, H, W, B), see Tensor::block(). Weights and biases are always plain.
//   keys: conv2d_fwd_blocked, conv2d_bwd_data_blocked, conv2d_bwd_weight_blocked
template <class T>
using Conv2dFwdBlockedFn = void(const Conv2dGeom&, const T* x, int32_t x_block, const T* w, const T* b, T* y,
                                int32_t y_block);
template <class T>
using Conv2dBwdDataBlockedFn = void(const Conv2dGeom&, const T* gy, int32_t gy_block, const T* w, T* gx,
                                    int32_t gx_block);
template <class T>
using Conv2dBwdWeightBlockedFn = void(const Conv2dGeom&, const T* x, int32_t x_block, const T* gy, int32_t gy_block,
                                      T* gw, T* gb);
// key conv2d_block: the channel block the selected convolution computes in natively (the
// layout its outputs should stay in); 0 = plain only.
using Conv2dBlockFn = int32_t();

namespace ref {
template <class T> void conv2d_fwd(const Conv2dGeom& g, const T* x, const T* w, const T* b, T* y);
template <class T> void conv2d_bwd_data(const Conv2dGeom& g, const T* gy, const T* w, T* gx);
template <class T> void conv2d_bwd_weight(const Conv2dGeom& g, const T* x, const T* gy, T* gw, T* gb);
// The blocked forms: convert to plain, run the plain reference, convert back.
void conv2d_fwd_blocked(const Conv2dGeom& g, const float* x, int32_t x_block, const float* w, const float* b, float* y,
                        int32_t y_block);
void conv2d_bwd_data_blocked(const Conv2dGeom& g, const float* gy, int32_t gy_block, const float* w, float* gx,
                             int32_t gx_block);
void conv2d_bwd_weight_blocked(const Conv2dGeom& g, const float* x, int32_t x_block, const float* gy, int32_t gy_block,
                               float* gw, float* gb);
int32_t conv2d_block();
}  // namespace ref

// Channel-blocked layout (N, C/B, S, B) <-> plain (N, C, S); B = 0 copies.
void to_plain_layout(const float* src, float* dst, int64_t N, int64_t C, int64_t S, int32_t B);
void to_blocked_layout(const float* src, float* dst, int64_t N, int64_t C, int64_t S, int32_t B);

// The im2col + OpenBLAS kernels (kernels/cpu/conv2d_blas.cpp); the oneDNN kernels fall
// back to them for the shapes where they are faster.
namespace cpu {
void conv2d_fwd(const Conv2dGeom& g, const float* x, const float* w, const float* b, float* y);
void conv2d_bwd_data(const Conv2dGeom& g, const float* gy, const float* w, float* gx);
void conv2d_bwd_weight(const Conv2dGeom& g, const float* x, const float* gy, float* gw, float* gb);
}  // namespace cpu


// The keys (kernels/registry.h): one per kernel of this interface.
namespace keys {
inline Kernel<Conv2dBlockFn> conv2d_block{"conv2d_block"};
inline Kernel<Conv2dFwdBlockedFn<float>> conv2d_fwd_blocked{"conv2d_fwd_blocked"};
inline Kernel<Conv2dBwdDataBlockedFn<float>> conv2d_bwd_data_blocked{"conv2d_bwd_data_blocked"};
inline Kernel<Conv2dBwdWeightBlockedFn<float>> conv2d_bwd_weight_blocked{"conv2d_bwd_weight_blocked"};
inline Kernel<Conv2dFwdFn<float>> conv2d_fwd{"conv2d_fwd"};
inline Kernel<Conv2dBwdDataFn<float>> conv2d_bwd_data{"conv2d_bwd_data"};
inline Kernel<Conv2dBwdWeightFn<float>> conv2d_bwd_weight{"conv2d_bwd_weight"};
}  // namespace keys

}  // namespace convnet::kernels
