#pragma once
// Kernel interface of 2-D pooling. Kernels trust the op: shapes are already checked.
// Max pooling records, per output element, the flat index ih*W + iw of its maximum
// within the (H, W) plane (PyTorch's "indices"); backward scatters through it.
#include <cstdint>

namespace convnet::kernels {

struct Pool2dGeom {
  int64_t N, C, H, W;      // input
  int64_t KH, KW;          // window
  int64_t SH, SW;          // stride
  int64_t PH, PW;          // top / left padding (= bottom / right)
  int64_t DH, DW;          // dilation (max only; 1 for avg)
  int64_t OH, OW;          // output
  bool count_include_pad;  // avg only
  // Layout of x, y, argmax, gy, gx (max pooling only; average pooling is always plain):
  // 0 = plain, B > 0 = channel-blocked (N, C/B, H, W, B) (see Tensor::block()). argmax
  // holds the index ih*W + iw within the (H, W) plane in either layout.
  int64_t B = 0;
};

// Where value hw (an index in an (H, W) plane of HW values) of plane nc = n*C + c lives.
inline int64_t pool_at(const Pool2dGeom& g, int64_t nc, int64_t hw, int64_t HW) {
  if (g.B == 0) return nc * HW + hw;
  const int64_t n = nc / g.C, c = nc % g.C;
  return ((n * (g.C / g.B) + c / g.B) * HW + hw) * g.B + c % g.B;
}

struct AdaptivePool2dGeom {
  int64_t N, C, H, W;  // input
  int64_t OH, OW;      // output
};

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
}  // namespace ref

}  // namespace convnet::kernels
