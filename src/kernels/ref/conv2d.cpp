// Reference conv2d: the definition, loop by loop. Slow on purpose; the oracle for
// every fast conv2d kernel and the kernel used for gradient checks (instantiated in
// double as well as float).
#include "kernels/conv2d.h"

#include <algorithm>
#include <vector>

#include "kernels/registry.h"

namespace convnet::kernels::ref {

// y[n,oc,oh,ow] = b[oc] + sum_{c,kh,kw} x[n, g*Cg+c, oh*SH-PH+kh*DH, ow*SW-PW+kw*DW] * w[oc,c,kh,kw]
template <class T>
void conv2d_fwd(const Conv2dGeom& g, const T* x, const T* w, const T* b, T* y) {
  const int64_t Cg = g.C / g.G, OCg = g.OC / g.G;
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t oc = 0; oc < g.OC; ++oc) {
      const int64_t grp = oc / OCg;
      for (int64_t oh = 0; oh < g.OH; ++oh)
        for (int64_t ow = 0; ow < g.OW; ++ow) {
          T acc = b ? b[oc] : T(0);
          for (int64_t c = 0; c < Cg; ++c)
            for (int64_t kh = 0; kh < g.KH; ++kh) {
              const int64_t ih = oh * g.SH - g.PH + kh * g.DH;
              if (ih < 0 || ih >= g.H) continue;
              for (int64_t kw = 0; kw < g.KW; ++kw) {
                const int64_t iw = ow * g.SW - g.PW + kw * g.DW;
                if (iw < 0 || iw >= g.W) continue;
                acc += x[((n * g.C + grp * Cg + c) * g.H + ih) * g.W + iw] *
                       w[((oc * Cg + c) * g.KH + kh) * g.KW + kw];
              }
            }
          y[((n * g.OC + oc) * g.OH + oh) * g.OW + ow] = acc;
        }
    }
}

// dL/dx[n, ci, ih, iw] = sum over every (oc, oh, ow, kh, kw) that read x[n,ci,ih,iw] of gy * w
template <class T>
void conv2d_bwd_data(const Conv2dGeom& g, const T* gy, const T* w, T* gx) {
  const int64_t Cg = g.C / g.G, OCg = g.OC / g.G;
  std::fill(gx, gx + g.N * g.C * g.H * g.W, T(0));
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t oc = 0; oc < g.OC; ++oc) {
      const int64_t grp = oc / OCg;
      for (int64_t oh = 0; oh < g.OH; ++oh)
        for (int64_t ow = 0; ow < g.OW; ++ow) {
          const T go = gy[((n * g.OC + oc) * g.OH + oh) * g.OW + ow];
          for (int64_t c = 0; c < Cg; ++c)
            for (int64_t kh = 0; kh < g.KH; ++kh) {
              const int64_t ih = oh * g.SH - g.PH + kh * g.DH;
              if (ih < 0 || ih >= g.H) continue;
              for (int64_t kw = 0; kw < g.KW; ++kw) {
                const int64_t iw = ow * g.SW - g.PW + kw * g.DW;
                if (iw < 0 || iw >= g.W) continue;
                gx[((n * g.C + grp * Cg + c) * g.H + ih) * g.W + iw] += go * w[((oc * Cg + c) * g.KH + kh) * g.KW + kw];
              }
            }
        }
    }
}

// dL/dw[oc,c,kh,kw] = sum_{n,oh,ow} gy[n,oc,oh,ow] * x[n, g*Cg+c, oh*SH-PH+kh*DH, ow*SW-PW+kw*DW]
// dL/db[oc] = sum_{n,oh,ow} gy[n,oc,oh,ow]
template <class T>
void conv2d_bwd_weight(const Conv2dGeom& g, const T* x, const T* gy, T* gw, T* gb) {
  const int64_t Cg = g.C / g.G, OCg = g.OC / g.G;
  for (int64_t oc = 0; oc < g.OC; ++oc) {
    const int64_t grp = oc / OCg;
    for (int64_t c = 0; c < Cg; ++c)
      for (int64_t kh = 0; kh < g.KH; ++kh)
        for (int64_t kw = 0; kw < g.KW; ++kw) {
          T acc = 0;
          for (int64_t n = 0; n < g.N; ++n)
            for (int64_t oh = 0; oh < g.OH; ++oh) {
              const int64_t ih = oh * g.SH - g.PH + kh * g.DH;
              if (ih < 0 || ih >= g.H) continue;
              for (int64_t ow = 0; ow < g.OW; ++ow) {
                const int64_t iw = ow * g.SW - g.PW + kw * g.DW;
                if (iw < 0 || iw >= g.W) continue;
                acc += gy[((n * g.OC + oc) * g.OH + oh) * g.OW + ow] * x[((n * g.C + grp * Cg + c) * g.H + ih) * g.W + iw];
              }
            }
          gw[((oc * Cg + c) * g.KH + kh) * g.KW + kw] = acc;
        }
    if (gb) {
      T acc = 0;
      for (int64_t n = 0; n < g.N; ++n)
        for (int64_t i = 0; i < g.OH * g.OW; ++i) acc += gy[(n * g.OC + oc) * g.OH * g.OW + i];
      gb[oc] = acc;
    }
  }
}

#define INSTANTIATE(T)                                                                  \
  template void conv2d_fwd<T>(const Conv2dGeom&, const T*, const T*, const T*, T*);     \
  template void conv2d_bwd_data<T>(const Conv2dGeom&, const T*, const T*, T*);          \
  template void conv2d_bwd_weight<T>(const Conv2dGeom&, const T*, const T*, T*, T*);
INSTANTIATE(float)
INSTANTIATE(double)
#undef INSTANTIATE

}  // namespace convnet::kernels::ref

namespace convnet::kernels {

// Element (n, c, s): plain at (n C + c) S + s, blocked at ((n C/B + c/B) S + s) B + c % B.
void to_plain_layout(const float* src, float* dst, int64_t N, int64_t C, int64_t S, int32_t B) {
  if (B == 0) {
    std::copy(src, src + N * C * S, dst);
    return;
  }
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t s = 0; s < S; ++s) dst[(n * C + c) * S + s] = src[((n * (C / B) + c / B) * S + s) * B + c % B];
}
void to_blocked_layout(const float* src, float* dst, int64_t N, int64_t C, int64_t S, int32_t B) {
  if (B == 0) {
    std::copy(src, src + N * C * S, dst);
    return;
  }
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t s = 0; s < S; ++s) dst[((n * (C / B) + c / B) * S + s) * B + c % B] = src[(n * C + c) * S + s];
}

namespace ref {

// The reference computes in plain NCHW only: blocked tensors are rewritten around it.
void conv2d_fwd_blocked(const Conv2dGeom& g, const float* x, int32_t xb, const float* w, const float* b, float* y,
                        int32_t yb) {
  plain_conv2d_fwd<&conv2d_fwd<float>>(g, x, xb, w, b, y, yb);
}
void conv2d_bwd_data_blocked(const Conv2dGeom& g, const float* gy, int32_t gyb, const float* w, float* gx,
                             int32_t gxb) {
  plain_conv2d_bwd_data<&conv2d_bwd_data<float>>(g, gy, gyb, w, gx, gxb);
}
void conv2d_bwd_weight_blocked(const Conv2dGeom& g, const float* x, int32_t xb, const float* gy, int32_t gyb, float* gw,
                               float* gb) {
  plain_conv2d_bwd_weight<&conv2d_bwd_weight<float>>(g, x, xb, gy, gyb, gw, gb);
}
const Layout* conv2d_layout(const Conv2dGeom&) {
  return nullptr;
}

}  // namespace ref

void register_ref_conv2d() {
  keys::conv2d_fwd_blocked.add("ref", 0, &ref::conv2d_fwd_blocked);
  keys::conv2d_bwd_data_blocked.add("ref", 0, &ref::conv2d_bwd_data_blocked);
  keys::conv2d_bwd_weight_blocked.add("ref", 0, &ref::conv2d_bwd_weight_blocked);
  keys::conv2d_layout.add("ref", 0, &ref::conv2d_layout);
  keys::conv2d_fwd.add("ref", 0, &ref::conv2d_fwd<float>);
  keys::conv2d_bwd_data.add("ref", 0, &ref::conv2d_bwd_data<float>);
  keys::conv2d_bwd_weight.add("ref", 0, &ref::conv2d_bwd_weight<float>);
}
}  // namespace convnet::kernels
