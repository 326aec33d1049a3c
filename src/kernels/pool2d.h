#pragma once
// Kernel interface of 2-D pooling. Kernels trust the op: shapes are already checked.
// Max pooling records, per output element, the flat index ih*W + iw of its maximum
// within the (H, W) plane (PyTorch's "indices"); backward scatters through it.
#include <cstdint>
#include "kernels/registry.h"

namespace convnet::kernels {

struct Pool2dGeom {
  int64_t N, C, H, W;      // input
  int64_t KH, KW;          // window
  int64_t SH, SW;          // stride
  int64_t PH, PW;          // top / left padding (= bottom / right)
  int64_t DH, DW;          // dilation (max only; 1 for avg)
  int64_t OH, OW;          // output
  bool count_include_pad;  // avg only
  // Layout of x, y, argmax, gy, gx: 0 = plain, B > 0 = channel-blocked (N, C/B, H, W, B)
  // (kernels/layout.h). argmax holds the index ih*W + iw within the (H, W) plane in
  // either layout.
  int64_t B = 0;
};

// Where value hw (an index in an (H, W) plane of HW values) of plane nc = n*C + c lives,
// in the plain layout (B = 0) or channel-blocked by B.
inline int64_t plane_at(int64_t C, int64_t B, int64_t nc, int64_t hw, int64_t HW) {
  if (B == 0) return nc * HW + hw;
  const int64_t n = nc / C, c = nc % C;
  return ((n * (C / B) + c / B) * HW + hw) * B + c % B;
}
inline int64_t pool_at(const Pool2dGeom& g, int64_t nc, int64_t hw, int64_t HW) {
  return plane_at(g.C, g.B, nc, hw, HW);
}

struct AdaptivePool2dGeom {
  int64_t N, C, H, W;  // input
  int64_t OH, OW;      // output
  int64_t B = 0;       // layout of x, y, gy, gx: 0 = plain, B > 0 = channel-blocked (average pooling only)
};

// Window of average pooling along one axis, as PyTorch: the window [o*s - p, o*s - p + k) is
// first clipped to the padded input [-p, in + p) (with ceil_mode the last one may stick out),
// which gives the count_include_pad divisor, then to the input [0, in).
struct AvgSpan {
  int64_t begin, end;  // in-input part [begin, end)
  int64_t padded;      // length of the part inside the padded input
};
inline AvgSpan avg_span(int64_t o, int64_t in, int64_t k, int64_t s, int64_t p) {
  const int64_t b = o * s - p;
  const int64_t e = b + k < in + p ? b + k : in + p;
  return {b > 0 ? b : 0, e < in ? e : in, e - b};
}
inline int64_t avg_divisor(const Pool2dGeom& g, const AvgSpan& h, const AvgSpan& w) {
  return g.count_include_pad ? h.padded * w.padded : (h.end - h.begin) * (w.end - w.begin);
}

// y: (N, C, OH, OW); argmax: (N, C, OH, OW) or null when no gradient is needed.
template <class T>
using MaxPool2dFwdFn = void(const Pool2dGeom&, const T* x, T* y, int64_t* argmax);
// gx: (N, C, H, W), overwritten.
template <class T>
using MaxPool2dBwdFn = void(const Pool2dGeom&, const T* gy, const int64_t* argmax, T* gx);
template <class T>
using AvgPool2dFwdFn = void(const Pool2dGeom&, const T* x, T* y);
template <class T>
using AvgPool2dBwdFn = void(const Pool2dGeom&, const T* gy, T* gx);

template <class T>
using AdaptiveMaxPool2dFwdFn = void(const AdaptivePool2dGeom&, const T* x, T* y, int64_t* argmax);
template <class T>
using AdaptiveMaxPool2dBwdFn = void(const AdaptivePool2dGeom&, const T* gy, const int64_t* argmax, T* gx);
template <class T>
using AdaptiveAvgPool2dFwdFn = void(const AdaptivePool2dGeom&, const T* x, T* y);
template <class T>
using AdaptiveAvgPool2dBwdFn = void(const AdaptivePool2dGeom&, const T* gy, T* gx);

// Adaptive window along one axis: [start, end) = [floor(o*in/out), ceil((o+1)*in/out)).
inline int64_t adaptive_start(int64_t o, int64_t in, int64_t out) {
  return (o * in) / out;
}
inline int64_t adaptive_end(int64_t o, int64_t in, int64_t out) {
  return ((o + 1) * in + out - 1) / out;
}

namespace ref {
template <class T>
void max_pool2d_fwd(const Pool2dGeom& g, const T* x, T* y, int64_t* argmax);
template <class T>
void max_pool2d_bwd(const Pool2dGeom& g, const T* gy, const int64_t* argmax, T* gx);
template <class T>
void avg_pool2d_fwd(const Pool2dGeom& g, const T* x, T* y);
template <class T>
void avg_pool2d_bwd(const Pool2dGeom& g, const T* gy, T* gx);
template <class T>
void adaptive_max_pool2d_fwd(const AdaptivePool2dGeom& g, const T* x, T* y, int64_t* argmax);
template <class T>
void adaptive_max_pool2d_bwd(const AdaptivePool2dGeom& g, const T* gy, const int64_t* argmax, T* gx);
template <class T>
void adaptive_avg_pool2d_fwd(const AdaptivePool2dGeom& g, const T* x, T* y);
template <class T>
void adaptive_avg_pool2d_bwd(const AdaptivePool2dGeom& g, const T* gy, T* gx);
// The reduced-precision twins (T = bf16_t, f16_t): in float32, outputs rounded.
template <class T>
void max_pool2d_fwd_lowp(const Pool2dGeom& g, const T* x, T* y, int64_t* argmax);
template <class T>
void max_pool2d_bwd_lowp(const Pool2dGeom& g, const T* gy, const int64_t* argmax, T* gx);
template <class T>
void avg_pool2d_fwd_lowp(const Pool2dGeom& g, const T* x, T* y);
template <class T>
void avg_pool2d_bwd_lowp(const Pool2dGeom& g, const T* gy, T* gx);
template <class T>
void adaptive_avg_pool2d_fwd_lowp(const AdaptivePool2dGeom& g, const T* x, T* y);
template <class T>
void adaptive_avg_pool2d_bwd_lowp(const AdaptivePool2dGeom& g, const T* gy, T* gx);
}  // namespace ref

// The float32 CPU kernels (kernels/cpu/pool2d.cpp), which the bfloat16 ones reuse for the
// layouts they have no loops of their own for.
namespace cpu {
void max_pool2d_fwd(const Pool2dGeom& g, const float* x, float* y, int64_t* argmax);
void max_pool2d_bwd(const Pool2dGeom& g, const float* gy, const int64_t* argmax, float* gx);
void avg_pool2d_fwd(const Pool2dGeom& g, const float* x, float* y);
void avg_pool2d_bwd(const Pool2dGeom& g, const float* gy, float* gx);
void adaptive_avg_pool2d_fwd(const AdaptivePool2dGeom& g, const float* x, float* y);
void adaptive_avg_pool2d_bwd(const AdaptivePool2dGeom& g, const float* gy, float* gx);
}  // namespace cpu

// The keys (kernels/registry.h): one per kernel of this interface.
namespace keys {
inline Kernel<MaxPool2dFwdFn<float>> max_pool2d_fwd{"max_pool2d_fwd"};
inline Kernel<MaxPool2dBwdFn<float>> max_pool2d_bwd{"max_pool2d_bwd"};
inline Kernel<AvgPool2dFwdFn<float>> avg_pool2d_fwd{"avg_pool2d_fwd"};
inline Kernel<AvgPool2dBwdFn<float>> avg_pool2d_bwd{"avg_pool2d_bwd"};
inline Kernel<AdaptiveMaxPool2dFwdFn<float>> adaptive_max_pool2d_fwd{"adaptive_max_pool2d_fwd"};
inline Kernel<AdaptiveMaxPool2dBwdFn<float>> adaptive_max_pool2d_bwd{"adaptive_max_pool2d_bwd"};
inline Kernel<AdaptiveAvgPool2dFwdFn<float>> adaptive_avg_pool2d_fwd{"adaptive_avg_pool2d_fwd"};
inline Kernel<AdaptiveAvgPool2dBwdFn<float>> adaptive_avg_pool2d_bwd{"adaptive_avg_pool2d_bwd"};
// Reduced precision (T = bf16_t, f16_t): max, average and adaptive average pooling (adaptive
// max pooling computes in float32: its op converts).
#define CONVNET_POOL_LOWP_KEYS(T, sfx, DT)                                                                     \
  inline Kernel<MaxPool2dFwdFn<T>> max_pool2d_fwd_##sfx{"max_pool2d_fwd_" #sfx, DT};                           \
  inline Kernel<MaxPool2dBwdFn<T>> max_pool2d_bwd_##sfx{"max_pool2d_bwd_" #sfx, DT};                           \
  inline Kernel<AvgPool2dFwdFn<T>> avg_pool2d_fwd_##sfx{"avg_pool2d_fwd_" #sfx, DT};                           \
  inline Kernel<AvgPool2dBwdFn<T>> avg_pool2d_bwd_##sfx{"avg_pool2d_bwd_" #sfx, DT};                           \
  inline Kernel<AdaptiveAvgPool2dFwdFn<T>> adaptive_avg_pool2d_fwd_##sfx{"adaptive_avg_pool2d_fwd_" #sfx, DT}; \
  inline Kernel<AdaptiveAvgPool2dBwdFn<T>> adaptive_avg_pool2d_bwd_##sfx{"adaptive_avg_pool2d_bwd_" #sfx, DT};
CONVNET_POOL_LOWP_KEYS(bf16_t, bf16, DType::bfloat16)
CONVNET_POOL_LOWP_KEYS(f16_t, f16, DType::float16)
#undef CONVNET_POOL_LOWP_KEYS
template <class T>
struct Pool;  // the keys of element type T
#define CONVNET_POOL_KEYS_OF(T, sfx)                                         \
  template <>                                                                \
  struct Pool<T> {                                                           \
    static constexpr auto* max_fwd = &max_pool2d_fwd##sfx;                   \
    static constexpr auto* max_bwd = &max_pool2d_bwd##sfx;                   \
    static constexpr auto* avg_fwd = &avg_pool2d_fwd##sfx;                   \
    static constexpr auto* avg_bwd = &avg_pool2d_bwd##sfx;                   \
    static constexpr auto* adaptive_avg_fwd = &adaptive_avg_pool2d_fwd##sfx; \
    static constexpr auto* adaptive_avg_bwd = &adaptive_avg_pool2d_bwd##sfx; \
  };
CONVNET_POOL_KEYS_OF(float, )
CONVNET_POOL_KEYS_OF(bf16_t, _bf16)
CONVNET_POOL_KEYS_OF(f16_t, _f16)
#undef CONVNET_POOL_KEYS_OF
}  // namespace keys

}  // namespace convnet::kernels
