// bfloat16 pooling on the CPU, for channels-last activations (NHWC: what the AMX
// convolutions produce, kernels/layout.h): every window is a walk over rows of C channels,
// vectorized along the channels. Values are compared and summed in float32 and rounded once,
// as in the reference twins (ref/pool2d_lowp.cpp); the backward passes accumulate one image's
// gradient in float32 and round it once. Images are split over the threads. Other layouts
// are widened to float32 and go through the float32 kernels.
#include <cmath>
#include <vector>

#include "kernels/cpu/bf16.h"
#include "kernels/cpu/parallel.h"
#include "kernels/pool2d.h"
#include "kernels/registry.h"

namespace convnet::kernels::cpu {

namespace {

// The first maximum in window order wins (a later value must be greater, or NaN), as the
// reference; `first` marks the window's first in-input element.
CONVNET_SIMD void max_row(int64_t C, const uint16_t* x, bool first, int64_t at, float* best, int64_t* idx) {
  for (int64_t c = 0; c < C; ++c) {
    const float v = bf2f(x[c]);
    const bool take = first || v > best[c] || v != v;
    best[c] = take ? v : best[c];
    idx[c] = take ? at : idx[c];
  }
}
CONVNET_SIMD void add_row(int64_t C, const uint16_t* x, float* acc) {
  for (int64_t c = 0; c < C; ++c) acc[c] += bf2f(x[c]);
}
CONVNET_SIMD void store_row(int64_t C, const float* v, float div, uint16_t* y) {
  for (int64_t c = 0; c < C; ++c) y[c] = f2bf(v[c] / div);
}
CONVNET_SIMD void spread_row(int64_t C, const uint16_t* gy, float div, float* acc) {
  for (int64_t c = 0; c < C; ++c) acc[c] += bf2f(gy[c]) / div;
}
CONVNET_SIMD void narrow_row(int64_t n, const float* v, uint16_t* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = f2bf(v[i]);
}

bool channels_last(int64_t B, int64_t C) {
  return B != 0 && B == C;
}

// A window per output position: rows [h0, h1) x [w0, w1) of the input, and the divisor of
// average pooling.
struct Window {
  int64_t h0, h1, w0, w1, div;
};
template <class WindowOf>
void avg_fwd_cl(int64_t N, int64_t C, int64_t H, int64_t W, int64_t OH, int64_t OW, const bf16_t* x, bf16_t* y,
                WindowOf window) {
  parallel_for(N * OH, OW * C * 4, [&](int64_t r) {
    const int64_t n = r / OH, oh = r % OH;
    thread_local std::vector<float> acc;
    acc.resize(static_cast<size_t>(C));
    for (int64_t ow = 0; ow < OW; ++ow) {
      const Window w = window(oh, ow);
      std::fill(acc.begin(), acc.end(), 0.f);
      for (int64_t ih = w.h0; ih < w.h1; ++ih)
        for (int64_t iw = w.w0; iw < w.w1; ++iw) add_row(C, bits(x) + ((n * H + ih) * W + iw) * C, acc.data());
      // An empty window (all padding) gives 0, as the reference.
      const bool empty = w.h0 >= w.h1 || w.w0 >= w.w1;
      store_row(C, acc.data(), empty ? 1.f : static_cast<float>(w.div), bits(y) + ((n * OH + oh) * OW + ow) * C);
    }
  });
}
template <class WindowOf>
void avg_bwd_cl(int64_t N, int64_t C, int64_t H, int64_t W, int64_t OH, int64_t OW, const bf16_t* gy, bf16_t* gx,
                WindowOf window) {
  parallel_for(N, H * W * C, [&](int64_t n) {
    thread_local std::vector<float> acc;
    acc.assign(static_cast<size_t>(H * W * C), 0.f);
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        const Window w = window(oh, ow);
        const uint16_t* g = bits(gy) + ((n * OH + oh) * OW + ow) * C;
        for (int64_t ih = w.h0; ih < w.h1; ++ih)
          for (int64_t iw = w.w0; iw < w.w1; ++iw)
            spread_row(C, g, static_cast<float>(w.div), acc.data() + (ih * W + iw) * C);
      }
    narrow_row(H * W * C, acc.data(), bits(gx) + n * H * W * C);
  });
}

}  // namespace

void max_pool2d_fwd_bf16(const Pool2dGeom& g, const bf16_t* x, bf16_t* y, int64_t* argmax) {
  const int64_t C = g.C;
  if (!channels_last(g.B, C)) {
    return via_float32(x, g.N * C * g.H * g.W, y, g.N * C * g.OH * g.OW,
                       [&](const float* in, float* out) { max_pool2d_fwd(g, in, out, argmax); });
  }
  parallel_for(g.N * g.OH, g.OW * C * g.KH * g.KW, [&](int64_t r) {
    const int64_t n = r / g.OH, oh = r % g.OH;
    thread_local std::vector<float> best;
    thread_local std::vector<int64_t> idx;
    best.resize(static_cast<size_t>(C)), idx.resize(static_cast<size_t>(C));
    for (int64_t ow = 0; ow < g.OW; ++ow) {
      bool first = true;
      std::fill(idx.begin(), idx.end(), int64_t{-1});
      std::fill(best.begin(), best.end(), -INFINITY);
      for (int64_t kh = 0; kh < g.KH; ++kh) {
        const int64_t ih = oh * g.SH - g.PH + kh * g.DH;
        if (ih < 0 || ih >= g.H) continue;
        for (int64_t kw = 0; kw < g.KW; ++kw) {
          const int64_t iw = ow * g.SW - g.PW + kw * g.DW;
          if (iw < 0 || iw >= g.W) continue;
          max_row(C, bits(x) + ((n * g.H + ih) * g.W + iw) * C, first, ih * g.W + iw, best.data(), idx.data());
          first = false;
        }
      }
      const int64_t o = ((n * g.OH + oh) * g.OW + ow) * C;
      narrow_row(C, best.data(), bits(y) + o);
      if (argmax) std::copy(idx.begin(), idx.end(), argmax + o);
    }
  });
}

void max_pool2d_bwd_bf16(const Pool2dGeom& g, const bf16_t* gy, const int64_t* argmax, bf16_t* gx) {
  const int64_t C = g.C, HW = g.H * g.W, OHW = g.OH * g.OW;
  if (!channels_last(g.B, C)) {
    return via_float32(gy, g.N * C * OHW, gx, g.N * C * HW,
                       [&](const float* in, float* out) { max_pool2d_bwd(g, in, argmax, out); });
  }
  parallel_for(g.N, HW * C, [&](int64_t n) {
    thread_local std::vector<float> acc;
    acc.assign(static_cast<size_t>(HW * C), 0.f);
    const uint16_t* g_n = bits(gy) + n * OHW * C;
    const int64_t* a_n = argmax + n * OHW * C;
    for (int64_t o = 0; o < OHW; ++o)
      for (int64_t c = 0; c < C; ++c) {
        const int64_t a = a_n[o * C + c];
        if (a >= 0) acc[a * C + c] += bf2f(g_n[o * C + c]);
      }
    narrow_row(HW * C, acc.data(), bits(gx) + n * HW * C);
  });
}

void avg_pool2d_fwd_bf16(const Pool2dGeom& g, const bf16_t* x, bf16_t* y) {
  if (!channels_last(g.B, g.C)) {
    return via_float32(x, g.N * g.C * g.H * g.W, y, g.N * g.C * g.OH * g.OW,
                       [&](const float* in, float* out) { avg_pool2d_fwd(g, in, out); });
  }
  avg_fwd_cl(g.N, g.C, g.H, g.W, g.OH, g.OW, x, y, [&](int64_t oh, int64_t ow) {
    const AvgSpan h = avg_span(oh, g.H, g.KH, g.SH, g.PH), w = avg_span(ow, g.W, g.KW, g.SW, g.PW);
    return Window{h.begin, h.end, w.begin, w.end, avg_divisor(g, h, w)};
  });
}

void avg_pool2d_bwd_bf16(const Pool2dGeom& g, const bf16_t* gy, bf16_t* gx) {
  if (!channels_last(g.B, g.C)) {
    return via_float32(gy, g.N * g.C * g.OH * g.OW, gx, g.N * g.C * g.H * g.W,
                       [&](const float* in, float* out) { avg_pool2d_bwd(g, in, out); });
  }
  avg_bwd_cl(g.N, g.C, g.H, g.W, g.OH, g.OW, gy, gx, [&](int64_t oh, int64_t ow) {
    const AvgSpan h = avg_span(oh, g.H, g.KH, g.SH, g.PH), w = avg_span(ow, g.W, g.KW, g.SW, g.PW);
    return Window{h.begin, h.end, w.begin, w.end, avg_divisor(g, h, w)};
  });
}

namespace {
Window adaptive_window(const AdaptivePool2dGeom& g, int64_t oh, int64_t ow) {
  const int64_t h0 = adaptive_start(oh, g.H, g.OH), h1 = adaptive_end(oh, g.H, g.OH);
  const int64_t w0 = adaptive_start(ow, g.W, g.OW), w1 = adaptive_end(ow, g.W, g.OW);
  return {h0, h1, w0, w1, (h1 - h0) * (w1 - w0)};
}
}  // namespace

void adaptive_avg_pool2d_fwd_bf16(const AdaptivePool2dGeom& g, const bf16_t* x, bf16_t* y) {
  if (!channels_last(g.B, g.C)) {
    return via_float32(x, g.N * g.C * g.H * g.W, y, g.N * g.C * g.OH * g.OW,
                       [&](const float* in, float* out) { adaptive_avg_pool2d_fwd(g, in, out); });
  }
  avg_fwd_cl(g.N, g.C, g.H, g.W, g.OH, g.OW, x, y, [&](int64_t oh, int64_t ow) { return adaptive_window(g, oh, ow); });
}

void adaptive_avg_pool2d_bwd_bf16(const AdaptivePool2dGeom& g, const bf16_t* gy, bf16_t* gx) {
  if (!channels_last(g.B, g.C)) {
    return via_float32(gy, g.N * g.C * g.OH * g.OW, gx, g.N * g.C * g.H * g.W,
                       [&](const float* in, float* out) { adaptive_avg_pool2d_bwd(g, in, out); });
  }
  avg_bwd_cl(g.N, g.C, g.H, g.W, g.OH, g.OW, gy, gx,
             [&](int64_t oh, int64_t ow) { return adaptive_window(g, oh, ow); });
}

}  // namespace convnet::kernels::cpu

namespace convnet::kernels {
void register_cpu_pool_lowp() {
  keys::max_pool2d_fwd_bf16.add("cpu", 10, &cpu::max_pool2d_fwd_bf16);
  keys::max_pool2d_bwd_bf16.add("cpu", 10, &cpu::max_pool2d_bwd_bf16);
  keys::avg_pool2d_fwd_bf16.add("cpu", 10, &cpu::avg_pool2d_fwd_bf16);
  keys::avg_pool2d_bwd_bf16.add("cpu", 10, &cpu::avg_pool2d_bwd_bf16);
  keys::adaptive_avg_pool2d_fwd_bf16.add("cpu", 10, &cpu::adaptive_avg_pool2d_fwd_bf16);
  keys::adaptive_avg_pool2d_bwd_bf16.add("cpu", 10, &cpu::adaptive_avg_pool2d_bwd_bf16);
}
}  // namespace convnet::kernels
