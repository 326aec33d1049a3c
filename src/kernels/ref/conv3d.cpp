// Reference 3-D convolution: the definition, loop by loop (slow on purpose; the oracle for the
// oneDNN kernels of cpu/conv3d_onednn.cpp and the kernels of the gradient checks, so also in
// double).
#include <algorithm>

#include "kernels/registry.h"
#include "kernels/vol.h"

namespace convnet::kernels::ref {

namespace {
// Calls f(input offset within the channel volume, weight offset within the (KD, KH, KW)
// kernel) for every tap of output position o that lands inside the input.
template <class F>
void each_tap(const Conv3dGeom& g, int64_t od, int64_t oh, int64_t ow, F&& f) {
  for (int64_t kd = 0; kd < g.k[0]; ++kd) {
    const int64_t id = od * g.s[0] - g.p[0] + kd * g.d[0];
    if (id < 0 || id >= g.in[0]) continue;
    for (int64_t kh = 0; kh < g.k[1]; ++kh) {
      const int64_t ih = oh * g.s[1] - g.p[1] + kh * g.d[1];
      if (ih < 0 || ih >= g.in[1]) continue;
      for (int64_t kw = 0; kw < g.k[2]; ++kw) {
        const int64_t iw = ow * g.s[2] - g.p[2] + kw * g.d[2];
        if (iw < 0 || iw >= g.in[2]) continue;
        f((id * g.in[1] + ih) * g.in[2] + iw, (kd * g.k[1] + kh) * g.k[2] + kw);
      }
    }
  }
}
// Calls f(n, oc, output index, group's first input channel) for every output element.
template <class F>
void each_output(const Conv3dGeom& g, F&& f) {
  const int64_t OCg = g.OC / g.G, Cg = g.C / g.G, out = g.out[0] * g.out[1] * g.out[2];
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t oc = 0; oc < g.OC; ++oc)
      for (int64_t od = 0, o = 0; od < g.out[0]; ++od)
        for (int64_t oh = 0; oh < g.out[1]; ++oh)
          for (int64_t ow = 0; ow < g.out[2]; ++ow, ++o) f(n, oc, od, oh, ow, (n * g.OC + oc) * out + o, oc / OCg * Cg);
}
}  // namespace

// y[n,oc,o] = b[oc] + sum_{c,k} x[n, grp*Cg + c, o*s - p + k*d] w[oc, c, k]
template <class T>
void conv3d_fwd(const Conv3dGeom& g, const T* x, const T* w, const T* b, T* y) {
  const int64_t Cg = g.C / g.G, vol = g.in[0] * g.in[1] * g.in[2], kv = g.k[0] * g.k[1] * g.k[2];
  each_output(g, [&](int64_t n, int64_t oc, int64_t od, int64_t oh, int64_t ow, int64_t yi, int64_t c0) {
    T acc = b ? b[oc] : T(0);
    for (int64_t c = 0; c < Cg; ++c) {
      const T* xc = x + (n * g.C + c0 + c) * vol;
      const T* wc = w + (oc * Cg + c) * kv;
      each_tap(g, od, oh, ow, [&](int64_t xi, int64_t wi) { acc += xc[xi] * wc[wi]; });
    }
    y[yi] = acc;
  });
}

// dL/dx: every tap that read x gets gy * w.
template <class T>
void conv3d_bwd_data(const Conv3dGeom& g, const T* gy, const T* w, T* gx) {
  const int64_t Cg = g.C / g.G, vol = g.in[0] * g.in[1] * g.in[2], kv = g.k[0] * g.k[1] * g.k[2];
  std::fill(gx, gx + g.N * g.C * vol, T(0));
  each_output(g, [&](int64_t n, int64_t oc, int64_t od, int64_t oh, int64_t ow, int64_t yi, int64_t c0) {
    for (int64_t c = 0; c < Cg; ++c) {
      T* gxc = gx + (n * g.C + c0 + c) * vol;
      const T* wc = w + (oc * Cg + c) * kv;
      each_tap(g, od, oh, ow, [&](int64_t xi, int64_t wi) { gxc[xi] += gy[yi] * wc[wi]; });
    }
  });
}

// dL/dw[oc, c, k] = sum over outputs of gy * the x its tap read; dL/db[oc] = sum of gy.
template <class T>
void conv3d_bwd_weight(const Conv3dGeom& g, const T* x, const T* gy, T* gw, T* gb) {
  const int64_t Cg = g.C / g.G, vol = g.in[0] * g.in[1] * g.in[2], kv = g.k[0] * g.k[1] * g.k[2];
  std::fill(gw, gw + g.OC * Cg * kv, T(0));
  if (gb) std::fill(gb, gb + g.OC, T(0));
  each_output(g, [&](int64_t n, int64_t oc, int64_t od, int64_t oh, int64_t ow, int64_t yi, int64_t c0) {
    if (gb) gb[oc] += gy[yi];
    for (int64_t c = 0; c < Cg; ++c) {
      const T* xc = x + (n * g.C + c0 + c) * vol;
      T* gwc = gw + (oc * Cg + c) * kv;
      each_tap(g, od, oh, ow, [&](int64_t xi, int64_t wi) { gwc[wi] += gy[yi] * xc[xi]; });
    }
  });
}

#define INSTANTIATE(T)                                                              \
  template void conv3d_fwd<T>(const Conv3dGeom&, const T*, const T*, const T*, T*); \
  template void conv3d_bwd_data<T>(const Conv3dGeom&, const T*, const T*, T*);      \
  template void conv3d_bwd_weight<T>(const Conv3dGeom&, const T*, const T*, T*, T*);
INSTANTIATE(float)
INSTANTIATE(double)
#undef INSTANTIATE

}  // namespace convnet::kernels::ref

namespace convnet::kernels {
void register_ref_conv3d() {
  keys::conv3d_fwd.add("ref", 0, &ref::conv3d_fwd<float>);
  keys::conv3d_bwd_data.add("ref", 0, &ref::conv3d_bwd_data<float>);
  keys::conv3d_bwd_weight.add("ref", 0, &ref::conv3d_bwd_weight<float>);
}
}  // namespace convnet::kernels
