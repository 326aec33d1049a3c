#pragma once
// Kernel interface of the volumetric (3-D) convolution and pooling: (N, C, D, H, W) tensors,
// plain layout. Kernels trust the op: shapes are already checked.
//   keys: conv3d_fwd, conv3d_bwd_data, conv3d_bwd_weight, max_pool3d_fwd, max_pool3d_bwd,
//         avg_pool3d_fwd, avg_pool3d_bwd
// Max pooling records, per output element, the flat index (id*H + ih)*W + iw of its maximum
// within the (D, H, W) volume of its plane (PyTorch's "indices"); backward scatters through it.
#include <cstdint>

#include "kernels/registry.h"

namespace convnet::kernels {

// Dimensions are (depth, height, width) triples.
struct Conv3dGeom {
  int64_t N, C, OC, G;  // batch, input channels, output channels, groups
  int64_t in[3];        // D, H, W
  int64_t k[3];         // kernel
  int64_t s[3];         // stride
  int64_t p[3];         // front / top / left padding (the far side follows from out)
  int64_t d[3];         // dilation
  int64_t out[3];       // OD, OH, OW
  // The weight's identity (Tensor::storage_id, Tensor::version) for backends that keep it
  // prepacked across calls; 0 = unknown.
  uint64_t w_id = 0, w_version = 0;
};

struct Pool3dGeom {
  int64_t N, C;
  int64_t in[3], k[3], s[3], p[3], d[3], out[3];  // as Conv3dGeom; d is 1 for average pooling
  bool count_include_pad;                         // average pooling only
};

// y: (N, OC, OD, OH, OW); w: (OC, C/G, KD, KH, KW); b: (OC) or null.
template <class T>
using Conv3dFwdFn = void(const Conv3dGeom&, const T* x, const T* w, const T* b, T* y);
// gx: (N, C, D, H, W), overwritten.
template <class T>
using Conv3dBwdDataFn = void(const Conv3dGeom&, const T* gy, const T* w, T* gx);
// gw overwritten; gb (OC) overwritten, may be null.
template <class T>
using Conv3dBwdWeightFn = void(const Conv3dGeom&, const T* x, const T* gy, T* gw, T* gb);
// y: (N, C, OD, OH, OW); argmax as y, or null when no gradient is needed.
template <class T>
using MaxPool3dFwdFn = void(const Pool3dGeom&, const T* x, T* y, int64_t* argmax);
// gx: (N, C, D, H, W), overwritten.
template <class T>
using MaxPool3dBwdFn = void(const Pool3dGeom&, const T* gy, const int64_t* argmax, T* gx);
template <class T>
using AvgPool3dFwdFn = void(const Pool3dGeom&, const T* x, T* y);
template <class T>
using AvgPool3dBwdFn = void(const Pool3dGeom&, const T* gy, T* gx);

// One (D, H, W) plane of pooling, the definition; the reference runs the planes one after the
// other and the "cpu" kernel splits them over threads. x, y, argmax, gy, gx point at the plane.
template <class T>
void max_pool3d_plane(const Pool3dGeom& g, const T* x, T* y, int64_t* argmax) {
  const int64_t D = g.in[0], H = g.in[1], W = g.in[2];
  int64_t o = 0;
  for (int64_t od = 0; od < g.out[0]; ++od)
    for (int64_t oh = 0; oh < g.out[1]; ++oh)
      for (int64_t ow = 0; ow < g.out[2]; ++ow, ++o) {
        T best = T(0);
        int64_t at = -1;
        for (int64_t kd = 0; kd < g.k[0]; ++kd) {
          const int64_t id = od * g.s[0] - g.p[0] + kd * g.d[0];
          if (id < 0 || id >= D) continue;
          for (int64_t kh = 0; kh < g.k[1]; ++kh) {
            const int64_t ih = oh * g.s[1] - g.p[1] + kh * g.d[1];
            if (ih < 0 || ih >= H) continue;
            for (int64_t kw = 0; kw < g.k[2]; ++kw) {
              const int64_t iw = ow * g.s[2] - g.p[2] + kw * g.d[2];
              if (iw < 0 || iw >= W) continue;
              const int64_t i = (id * H + ih) * W + iw;
              // The first maximum in scan order; a NaN wins (as PyTorch's `v > best || isnan(v)`).
              if (at < 0 || x[i] > best || x[i] != x[i]) best = x[i], at = i;
            }
          }
        }
        y[o] = best;  // every window holds an input element (the op checks padding <= kernel / 2)
        if (argmax) argmax[o] = at;
      }
}
template <class T>
void max_pool3d_plane_bwd(const Pool3dGeom& g, const T* gy, const int64_t* argmax, T* gx) {
  const int64_t in = g.in[0] * g.in[1] * g.in[2], out = g.out[0] * g.out[1] * g.out[2];
  for (int64_t i = 0; i < in; ++i) gx[i] = T(0);
  for (int64_t o = 0; o < out; ++o) gx[argmax[o]] += gy[o];
}
// Average pooling, as PyTorch: the window [o s - p, o s - p + k) along each axis is clipped
// to the padded input [-p, in + p) (count_include_pad's divisor), then to the input.
struct Span3 {
  int64_t b[3], e[3], divisor;
};
inline Span3 avg_window3(const Pool3dGeom& g, const int64_t o[3]) {
  Span3 w{};
  int64_t padded = 1, inside = 1;
  for (int a = 0; a < 3; ++a) {
    const int64_t b = o[a] * g.s[a] - g.p[a];
    const int64_t e = b + g.k[a] < g.in[a] + g.p[a] ? b + g.k[a] : g.in[a] + g.p[a];
    padded *= e - b;
    w.b[a] = b > 0 ? b : 0;
    w.e[a] = e < g.in[a] ? e : g.in[a];
    inside *= w.e[a] - w.b[a];
  }
  w.divisor = g.count_include_pad ? padded : inside;
  return w;
}
template <class T, class F>
void each_avg_window3(const Pool3dGeom& g, F&& f) {
  int64_t o[3], i = 0;
  for (o[0] = 0; o[0] < g.out[0]; ++o[0])
    for (o[1] = 0; o[1] < g.out[1]; ++o[1])
      for (o[2] = 0; o[2] < g.out[2]; ++o[2], ++i) f(i, avg_window3(g, o));
}
template <class T>
void avg_pool3d_plane(const Pool3dGeom& g, const T* x, T* y) {
  const int64_t H = g.in[1], W = g.in[2];
  each_avg_window3<T>(g, [&](int64_t o, const Span3& w) {
    T acc = T(0);
    for (int64_t d = w.b[0]; d < w.e[0]; ++d)
      for (int64_t h = w.b[1]; h < w.e[1]; ++h)
        for (int64_t x_ = w.b[2]; x_ < w.e[2]; ++x_) acc += x[(d * H + h) * W + x_];
    y[o] = acc / static_cast<T>(w.divisor);
  });
}
template <class T>
void avg_pool3d_plane_bwd(const Pool3dGeom& g, const T* gy, T* gx) {
  const int64_t H = g.in[1], W = g.in[2];
  for (int64_t i = 0; i < g.in[0] * H * W; ++i) gx[i] = T(0);
  each_avg_window3<T>(g, [&](int64_t o, const Span3& w) {
    const T share = gy[o] / static_cast<T>(w.divisor);
    for (int64_t d = w.b[0]; d < w.e[0]; ++d)
      for (int64_t h = w.b[1]; h < w.e[1]; ++h)
        for (int64_t x_ = w.b[2]; x_ < w.e[2]; ++x_) gx[(d * H + h) * W + x_] += share;
  });
}

namespace ref {
template <class T>
void conv3d_fwd(const Conv3dGeom& g, const T* x, const T* w, const T* b, T* y);
template <class T>
void conv3d_bwd_data(const Conv3dGeom& g, const T* gy, const T* w, T* gx);
template <class T>
void conv3d_bwd_weight(const Conv3dGeom& g, const T* x, const T* gy, T* gw, T* gb);
template <class T>
void max_pool3d_fwd(const Pool3dGeom& g, const T* x, T* y, int64_t* argmax);
template <class T>
void max_pool3d_bwd(const Pool3dGeom& g, const T* gy, const int64_t* argmax, T* gx);
template <class T>
void avg_pool3d_fwd(const Pool3dGeom& g, const T* x, T* y);
template <class T>
void avg_pool3d_bwd(const Pool3dGeom& g, const T* gy, T* gx);
}  // namespace ref

namespace keys {
inline Kernel<Conv3dFwdFn<float>> conv3d_fwd{"conv3d_fwd"};
inline Kernel<Conv3dBwdDataFn<float>> conv3d_bwd_data{"conv3d_bwd_data"};
inline Kernel<Conv3dBwdWeightFn<float>> conv3d_bwd_weight{"conv3d_bwd_weight"};
inline Kernel<MaxPool3dFwdFn<float>> max_pool3d_fwd{"max_pool3d_fwd"};
inline Kernel<MaxPool3dBwdFn<float>> max_pool3d_bwd{"max_pool3d_bwd"};
inline Kernel<AvgPool3dFwdFn<float>> avg_pool3d_fwd{"avg_pool3d_fwd"};
inline Kernel<AvgPool3dBwdFn<float>> avg_pool3d_bwd{"avg_pool3d_bwd"};
}  // namespace keys

}  // namespace convnet::kernels
