// Reference 2-D pooling: the definitions, loop by loop. Slow on purpose; the oracle for
// every fast pooling kernel and the kernels used for gradient checks (instantiated in
// double as well as float). Every (n, c) plane is pooled on its own.
#include "kernels/pool2d.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/registry.h"

namespace convnet::kernels::ref {

// y[n,c,oh,ow] = max_{kh,kw} x[n, c, oh*SH - PH + kh*DH, ow*SW - PW + kw*DW], padding = -inf.
// The first maximum in row-major window order wins (a later element must be strictly
// greater); NaN propagates. Both as PyTorch, so the gradient goes to the same element.
// (pool_at() finds an element in the plain or the channel-blocked layout.)
template <class T>
void max_pool2d_fwd(const Pool2dGeom& g, const T* x, T* y, int64_t* argmax) {
  const int64_t HW = g.H * g.W, OHW = g.OH * g.OW;
  for (int64_t nc = 0; nc < g.N * g.C; ++nc) {
    for (int64_t oh = 0; oh < g.OH; ++oh)
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        T best = -std::numeric_limits<T>::infinity();
        int64_t best_i = -1;  // stays -1 only if the window lies entirely in the padding
        for (int64_t kh = 0; kh < g.KH; ++kh) {
          const int64_t ih = oh * g.SH - g.PH + kh * g.DH;
          if (ih < 0 || ih >= g.H) continue;
          for (int64_t kw = 0; kw < g.KW; ++kw) {
            const int64_t iw = ow * g.SW - g.PW + kw * g.DW;
            if (iw < 0 || iw >= g.W) continue;
            const T v = x[pool_at(g, nc, ih * g.W + iw, HW)];
            if (best_i < 0 || v > best || std::isnan(v)) best = v, best_i = ih * g.W + iw;
          }
        }
        const int64_t o = pool_at(g, nc, oh * g.OW + ow, OHW);
        y[o] = best;
        if (argmax) argmax[o] = best_i;
      }
  }
}

// dL/dx[n,c,i] = sum of gy[n,c,oh,ow] over the windows whose maximum is x[n,c,i].
template <class T>
void max_pool2d_bwd(const Pool2dGeom& g, const T* gy, const int64_t* argmax, T* gx) {
  const int64_t HW = g.H * g.W, OHW = g.OH * g.OW;
  std::fill(gx, gx + g.N * g.C * HW, T(0));
  for (int64_t nc = 0; nc < g.N * g.C; ++nc)
    for (int64_t i = 0; i < OHW; ++i) {
      const int64_t o = pool_at(g, nc, i, OHW);
      if (argmax[o] >= 0) gx[pool_at(g, nc, argmax[o], HW)] += gy[o];
    }
}

// y[n,c,oh,ow] = (sum of x over the in-input part of the window) / divisor (see avg_span).
template <class T>
void avg_pool2d_fwd(const Pool2dGeom& g, const T* x, T* y) {
  const int64_t HW = g.H * g.W, OHW = g.OH * g.OW;
  for (int64_t nc = 0; nc < g.N * g.C; ++nc) {
    for (int64_t oh = 0; oh < g.OH; ++oh) {
      const AvgSpan h = avg_span(oh, g.H, g.KH, g.SH, g.PH);
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        const AvgSpan w = avg_span(ow, g.W, g.KW, g.SW, g.PW);
        T acc = 0;
        for (int64_t ih = h.begin; ih < h.end; ++ih)
          for (int64_t iw = w.begin; iw < w.end; ++iw) acc += x[pool_at(g, nc, ih * g.W + iw, HW)];
        const int64_t div = avg_divisor(g, h, w);
        // An empty window (possible only in the padding) averages to 0, as PyTorch.
        y[pool_at(g, nc, oh * g.OW + ow, OHW)] = h.begin < h.end && w.begin < w.end ? acc / T(div) : T(0);
      }
    }
  }
}

// dL/dx[n,c,ih,iw] = sum over the windows that contain (ih, iw) of gy / divisor.
template <class T>
void avg_pool2d_bwd(const Pool2dGeom& g, const T* gy, T* gx) {
  const int64_t HW = g.H * g.W, OHW = g.OH * g.OW;
  std::fill(gx, gx + g.N * g.C * HW, T(0));
  for (int64_t nc = 0; nc < g.N * g.C; ++nc) {
    for (int64_t oh = 0; oh < g.OH; ++oh) {
      const AvgSpan h = avg_span(oh, g.H, g.KH, g.SH, g.PH);
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        const AvgSpan w = avg_span(ow, g.W, g.KW, g.SW, g.PW);
        if (h.begin >= h.end || w.begin >= w.end) continue;
        const T share = gy[pool_at(g, nc, oh * g.OW + ow, OHW)] / T(avg_divisor(g, h, w));
        for (int64_t ih = h.begin; ih < h.end; ++ih)
          for (int64_t iw = w.begin; iw < w.end; ++iw) gx[pool_at(g, nc, ih * g.W + iw, HW)] += share;
      }
    }
  }
}

// y[n,c,oh,ow] = max of x[n, c, h0:h1, w0:w1], h0 = floor(oh*H/OH), h1 = ceil((oh+1)*H/OH);
// ties and NaN as max_pool2d_fwd.
template <class T>
void adaptive_max_pool2d_fwd(const AdaptivePool2dGeom& g, const T* x, T* y, int64_t* argmax) {
  for (int64_t nc = 0; nc < g.N * g.C; ++nc) {
    const T* xp = x + nc * g.H * g.W;
    for (int64_t oh = 0; oh < g.OH; ++oh) {
      const int64_t h0 = adaptive_start(oh, g.H, g.OH), h1 = adaptive_end(oh, g.H, g.OH);
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        const int64_t w0 = adaptive_start(ow, g.W, g.OW), w1 = adaptive_end(ow, g.W, g.OW);
        T best = xp[h0 * g.W + w0];
        int64_t best_i = h0 * g.W + w0;
        for (int64_t ih = h0; ih < h1; ++ih)
          for (int64_t iw = w0; iw < w1; ++iw) {
            const T v = xp[ih * g.W + iw];
            if (v > best || std::isnan(v)) best = v, best_i = ih * g.W + iw;
          }
        const int64_t o = (nc * g.OH + oh) * g.OW + ow;
        y[o] = best;
        if (argmax) argmax[o] = best_i;
      }
    }
  }
}

template <class T>
void adaptive_max_pool2d_bwd(const AdaptivePool2dGeom& g, const T* gy, const int64_t* argmax, T* gx) {
  std::fill(gx, gx + g.N * g.C * g.H * g.W, T(0));
  for (int64_t nc = 0; nc < g.N * g.C; ++nc)
    for (int64_t o = nc * g.OH * g.OW; o < (nc + 1) * g.OH * g.OW; ++o) gx[nc * g.H * g.W + argmax[o]] += gy[o];
}

// y[n,c,oh,ow] = mean of x[n, c, h0:h1, w0:w1] (windows as adaptive_max_pool2d_fwd).
template <class T>
void adaptive_avg_pool2d_fwd(const AdaptivePool2dGeom& g, const T* x, T* y) {
  const int64_t HW = g.H * g.W, OHW = g.OH * g.OW;
  for (int64_t nc = 0; nc < g.N * g.C; ++nc) {
    for (int64_t oh = 0; oh < g.OH; ++oh) {
      const int64_t h0 = adaptive_start(oh, g.H, g.OH), h1 = adaptive_end(oh, g.H, g.OH);
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        const int64_t w0 = adaptive_start(ow, g.W, g.OW), w1 = adaptive_end(ow, g.W, g.OW);
        T acc = 0;
        for (int64_t ih = h0; ih < h1; ++ih)
          for (int64_t iw = w0; iw < w1; ++iw) acc += x[plane_at(g.C, g.B, nc, ih * g.W + iw, HW)];
        y[plane_at(g.C, g.B, nc, oh * g.OW + ow, OHW)] = acc / T((h1 - h0) * (w1 - w0));
      }
    }
  }
}

// dL/dx[n,c,ih,iw] = sum over the windows that contain (ih, iw) of gy / window size.
template <class T>
void adaptive_avg_pool2d_bwd(const AdaptivePool2dGeom& g, const T* gy, T* gx) {
  const int64_t HW = g.H * g.W, OHW = g.OH * g.OW;
  std::fill(gx, gx + g.N * g.C * HW, T(0));
  for (int64_t nc = 0; nc < g.N * g.C; ++nc) {
    for (int64_t oh = 0; oh < g.OH; ++oh) {
      const int64_t h0 = adaptive_start(oh, g.H, g.OH), h1 = adaptive_end(oh, g.H, g.OH);
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        const int64_t w0 = adaptive_start(ow, g.W, g.OW), w1 = adaptive_end(ow, g.W, g.OW);
        const T share = gy[plane_at(g.C, g.B, nc, oh * g.OW + ow, OHW)] / T((h1 - h0) * (w1 - w0));
        for (int64_t ih = h0; ih < h1; ++ih)
          for (int64_t iw = w0; iw < w1; ++iw) gx[plane_at(g.C, g.B, nc, ih * g.W + iw, HW)] += share;
      }
    }
  }
}

#define INSTANTIATE(T)                                                                               \
  template void max_pool2d_fwd<T>(const Pool2dGeom&, const T*, T*, int64_t*);                        \
  template void max_pool2d_bwd<T>(const Pool2dGeom&, const T*, const int64_t*, T*);                  \
  template void avg_pool2d_fwd<T>(const Pool2dGeom&, const T*, T*);                                  \
  template void avg_pool2d_bwd<T>(const Pool2dGeom&, const T*, T*);                                  \
  template void adaptive_max_pool2d_fwd<T>(const AdaptivePool2dGeom&, const T*, T*, int64_t*);       \
  template void adaptive_max_pool2d_bwd<T>(const AdaptivePool2dGeom&, const T*, const int64_t*, T*); \
  template void adaptive_avg_pool2d_fwd<T>(const AdaptivePool2dGeom&, const T*, T*);                 \
  template void adaptive_avg_pool2d_bwd<T>(const AdaptivePool2dGeom&, const T*, T*);
INSTANTIATE(float)
INSTANTIATE(double)
#undef INSTANTIATE

}  // namespace convnet::kernels::ref

namespace convnet::kernels {
void register_ref_pool() {
  keys::max_pool2d_fwd.add("ref", 0, &ref::max_pool2d_fwd<float>);
  keys::max_pool2d_bwd.add("ref", 0, &ref::max_pool2d_bwd<float>);
  keys::avg_pool2d_fwd.add("ref", 0, &ref::avg_pool2d_fwd<float>);
  keys::avg_pool2d_bwd.add("ref", 0, &ref::avg_pool2d_bwd<float>);
  keys::adaptive_max_pool2d_fwd.add("ref", 0, &ref::adaptive_max_pool2d_fwd<float>);
  keys::adaptive_max_pool2d_bwd.add("ref", 0, &ref::adaptive_max_pool2d_bwd<float>);
  keys::adaptive_avg_pool2d_fwd.add("ref", 0, &ref::adaptive_avg_pool2d_fwd<float>);
  keys::adaptive_avg_pool2d_bwd.add("ref", 0, &ref::adaptive_avg_pool2d_bwd<float>);
}
}  // namespace convnet::kernels
