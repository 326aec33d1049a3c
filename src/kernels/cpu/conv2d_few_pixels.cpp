// conv2d forward for convolutions with few output pixels (N * OH * OW small) and many weights:
// MobileNetV2's 1x1 layers on 1x1 to 4x4 maps at batch 1, VGG's 512-channel layers on 2x2 and
// 4x4 maps. There each weight is used by a handful of outputs, so the time is the time to
// stream the weights through the core; oneDNN's direct kernels (jit_1x1:avx2, jit:avx2), built
// to reuse weights across many pixels, ran such layers at 8-25 GB/s of weights on one core,
// and no faster on two.
//
// The convolution is the GEMM Y (M x OC) = A (M x K) W (K x OC) with M = N * OH * OW output
// pixels, K = KH * KW * C, A the im2col rows of the pixels (k = (kh * KW + kw) * C + c), W the
// kernels. The kernel:
//   - packs W once per weight version (the packed-weights cache) into panels of 16 output
//     channels, each a contiguous K x 16 stream: Wp[panel][k][16], zeros past OC;
//   - packs A per call, in groups of up to 6 rows, k-major within a group (A[group][k][r]);
//   - runs an R x 16 register tile (R = the group's rows) over the whole of K: two vectors of
//     weights loaded per k, R broadcasts, 2R FMAs. With 1 or 2 rows the accumulators are
//     split along k (4 or 2 ways) to keep 8 independent FMA chains in flight;
//   - adds the bias, the residual (post-op sum) and the activation as it stores the tile, in
//     the output's layout (plain, or blocks of 8 or 16 channels);
//   - splits the panels, so the weight stream, between the threads.
// Every sum runs over k in order (the split chains are added at the end), as the reference
// convolution (kernels/ref) does up to float32 rounding: the tests compare the two.
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>

#include "kernels/conv2d.h"
#include "kernels/cpu/onednn_common.h"
#include "kernels/cpu/parallel.h"

namespace convnet::kernels::cpu {

namespace {

constexpr int kFpCols = 16;  // output channels per panel
constexpr int kFpRows = 6;   // output pixels per register tile, at most

// Wp[p][k][j] = w[p * 16 + j][c][kh][kw], k = (kh * KW + kw) * C + c; zero for p * 16 + j >= OC.
void fp_pack_weights(const Conv2dGeom& g, const float* w, float* Wp, int64_t p0, int64_t p1) {
  const int64_t C = g.C, KHW = g.KH * g.KW, K = KHW * C;
  for (int64_t p = p0; p < p1; ++p) {
    float* dst = Wp + p * K * kFpCols;
    for (int j = 0; j < kFpCols; ++j) {
      const int64_t oc = p * kFpCols + j;
      for (int64_t c = 0; c < C; ++c)
        for (int64_t s = 0; s < KHW; ++s) dst[(s * C + c) * kFpCols + j] = oc < g.OC ? w[(oc * C + c) * KHW + s] : 0.f;
    }
  }
}

// The offset of activation element (n, c, pixel q of a plane of S) in layout `block`.
inline int64_t fp_offset(int64_t n, int64_t c, int64_t q, int64_t Ch, int64_t S, int32_t block) {
  if (block == 0) return (n * Ch + c) * S + q;
  return ((n * (Ch / block) + c / block) * S + q) * block + c % block;
}

// A run of the taps (kh, kw) that some pixel of a group reads inside the image: A's columns
// [a0, a0 + len) of the group are W's rows [w0, w0 + len). Taps that every pixel of the group
// reads in the padding are left out of both (a 3x3 layer on a 1x1 map reads its centre only).
struct FpSeg {
  int64_t a0, w0, len;
};

// The segments of the group of R pixels from m0 on; returns their number (at most KH * KW).
int64_t fp_segments(const Conv2dGeom& g, int64_t m0, int R, FpSeg* seg) {
  const int64_t OHW = g.OH * g.OW;
  int64_t n = 0, a = 0;
  for (int64_t kh = 0; kh < g.KH; ++kh)
    for (int64_t kw = 0; kw < g.KW; ++kw) {
      bool used = false;
      for (int r = 0; r < R && !used; ++r) {
        const int64_t q = (m0 + r) % OHW, ih = (q / g.OW) * g.SH - g.PH + kh * g.DH,
                      iw = (q % g.OW) * g.SW - g.PW + kw * g.DW;
        used = ih >= 0 && ih < g.H && iw >= 0 && iw < g.W;
      }
      if (!used) continue;
      const int64_t w0 = (kh * g.KW + kw) * g.C;
      if (n > 0 && seg[n - 1].w0 + seg[n - 1].len == w0)
        seg[n - 1].len += g.C;
      else
        seg[n++] = {a, w0, g.C};
      a += g.C;
    }
  return n;
}

// A's group of R rows from pixel m0 on, the columns of its segments: A[k * R + r], zero where
// a pixel's window leaves the image.
void fp_pack_rows(const Conv2dGeom& g, const float* x, int32_t xb, int64_t m0, int R, const FpSeg* seg, int64_t nseg,
                  float* A) {
  const int64_t C = g.C, HW = g.H * g.W, OHW = g.OH * g.OW;
  for (int r = 0; r < R; ++r) {
    const int64_t m = m0 + r, n = m / OHW, q = m % OHW, oh = q / g.OW, ow = q % g.OW;
    for (int64_t si = 0; si < nseg; ++si)
      for (int64_t t = 0; t < seg[si].len / C; ++t) {
        const int64_t tap = seg[si].w0 / C + t, kh = tap / g.KW, kw = tap % g.KW;
        float* dst = A + (seg[si].a0 + t * C) * R + r;
        const int64_t ih = oh * g.SH - g.PH + kh * g.DH, iw = ow * g.SW - g.PW + kw * g.DW;
        if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) {
          for (int64_t c = 0; c < C; ++c) dst[c * R] = 0.f;
          continue;
        }
        const int64_t q_in = ih * g.W + iw;
        if (xb == 0) {
          const float* src = x + n * C * HW + q_in;
          for (int64_t c = 0; c < C; ++c) dst[c * R] = src[c * HW];
        } else {
          for (int64_t cb = 0; cb < C / xb; ++cb) {
            const float* src = x + ((n * (C / xb) + cb) * HW + q_in) * xb;
            for (int32_t i = 0; i < xb; ++i) dst[(cb * xb + i) * R] = src[i];
          }
        }
      }
  }
}

// T[r][0..15] = sum over the segments' k of A[k][r] W[k][0..15], for a group of R rows:
// two weight vectors per k (one cache line, fetched kFpPrefetch lines ahead), R broadcasts,
// 2R FMAs; with few rows the chains are split KU ways along k (12 accumulators in all).
constexpr int64_t kFpPrefetch = 16;
template <int R, int KU>
__attribute__((target("avx2,fma"))) void fp_tile(const FpSeg* seg, int64_t nseg, const float* A, const float* Wp,
                                                 float* T) {
  __m256 acc[KU][R][2];
#pragma GCC unroll 16
  for (int u = 0; u < KU; ++u)
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) acc[u][r][0] = acc[u][r][1] = _mm256_setzero_ps();
  for (int64_t si = 0; si < nseg; ++si) {
    const float* a = A + seg[si].a0 * R;
    const float* wp = Wp + seg[si].w0 * kFpCols;
    const int64_t len = seg[si].len;
    int64_t k = 0;
    for (; k + KU <= len; k += KU) {
#pragma GCC unroll 16
      for (int u = 0; u < KU; ++u) {
        const float* wk = wp + (k + u) * kFpCols;
        _mm_prefetch(reinterpret_cast<const char*>(wk + kFpPrefetch * kFpCols), _MM_HINT_T0);
        const __m256 w0 = _mm256_loadu_ps(wk), w1 = _mm256_loadu_ps(wk + 8);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
          const __m256 av = _mm256_broadcast_ss(a + (k + u) * R + r);
          acc[u][r][0] = _mm256_fmadd_ps(av, w0, acc[u][r][0]);
          acc[u][r][1] = _mm256_fmadd_ps(av, w1, acc[u][r][1]);
        }
      }
    }
    for (; k < len; ++k) {
      const float* wk = wp + k * kFpCols;
      const __m256 w0 = _mm256_loadu_ps(wk), w1 = _mm256_loadu_ps(wk + 8);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const __m256 av = _mm256_broadcast_ss(a + k * R + r);
        acc[0][r][0] = _mm256_fmadd_ps(av, w0, acc[0][r][0]);
        acc[0][r][1] = _mm256_fmadd_ps(av, w1, acc[0][r][1]);
      }
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    __m256 s0 = acc[0][r][0], s1 = acc[0][r][1];
#pragma GCC unroll 16
    for (int u = 1; u < KU; ++u) {
      s0 = _mm256_add_ps(s0, acc[u][r][0]);
      s1 = _mm256_add_ps(s1, acc[u][r][1]);
    }
    _mm256_storeu_ps(T + r * kFpCols, s0);
    _mm256_storeu_ps(T + r * kFpCols + 8, s1);
  }
}

using FpTile = void (*)(const FpSeg*, int64_t, const float*, const float*, float*);
constexpr FpTile kFpTiles[kFpRows + 1] = {nullptr,        &fp_tile<1, 6>, &fp_tile<2, 3>, &fp_tile<3, 2>,
                                          &fp_tile<4, 1>, &fp_tile<5, 1>, &fp_tile<6, 1>};

// Stores the tile T of rows [m0, m0 + R) and channels [oc0, oc0 + 16) (those below OC) into y,
// in layout yb, with the bias and the post-ops.
__attribute__((target("avx2,fma"))) void fp_store(const Conv2dGeom& g, const float* T, int R, int64_t m0, int64_t oc0,
                                                  const float* b, float* y, int32_t yb) {
  const int64_t OHW = g.OH * g.OW, ncol = std::min<int64_t>(kFpCols, g.OC - oc0);
  const ConvPostOps& post = g.post;
  for (int r = 0; r < R; ++r) {
    const int64_t m = m0 + r, n = m / OHW, q = m % OHW;
    if (yb != 0) {  // runs of 8 channels are contiguous
      const __m256 zero = _mm256_setzero_ps(), lo = _mm256_set1_ps(post.lo), hi = _mm256_set1_ps(post.hi);
      for (int64_t j = 0; j < ncol; j += 8) {
        float* dst = y + fp_offset(n, oc0 + j, q, g.OC, OHW, yb);
        __m256 v = _mm256_loadu_ps(T + r * kFpCols + j);
        if (b) v = _mm256_add_ps(v, _mm256_loadu_ps(b + oc0 + j));
        if (post.sum) v = _mm256_add_ps(v, _mm256_loadu_ps(dst));
        if (post.act == ConvPostOps::kRelu) v = _mm256_max_ps(v, zero);
        if (post.act == ConvPostOps::kClip) v = _mm256_min_ps(_mm256_max_ps(v, lo), hi);
        _mm256_storeu_ps(dst, v);
      }
      continue;
    }
    for (int64_t j = 0; j < ncol; ++j) {
      float* dst = y + fp_offset(n, oc0 + j, q, g.OC, OHW, 0);
      const float v = T[r * kFpCols + j] + (b ? b[oc0 + j] : 0.f);
      *dst = post.apply(v + (post.sum ? *dst : 0.f));
    }
  }
}

// CONVNET_FEW_PIXELS=0 turns the kernel off (oneDNN's direct kernels then run every shape).
bool fp_enabled() {
  static const bool on = !env_is_zero("CONVNET_FEW_PIXELS");
  return on;
}

const char kFpPacking = 0;  // the packed-weights cache's tag of this kernel's packing

}  // namespace

bool few_pixels_supports(const Conv2dGeom& g, int32_t xb, int32_t yb) {
  const auto layout_ok = [](int32_t bl, int64_t ch) { return bl == 0 || ((bl == 8 || bl == 16) && ch % bl == 0); };
  return cpu_has_avx2_fma() && g.G == 1 && layout_ok(xb, g.C) && layout_ok(yb, g.OC) && g.N > 0 && g.OH > 0 &&
         g.OW > 0 && g.C > 0 && g.OC > 0;
}

bool few_pixels_pays(const Conv2dGeom& g, int32_t xb, int32_t yb) {
  if (!fp_enabled() || !few_pixels_supports(g, xb, yb) || pointwise_pays(g, xb, yb)) return false;
  const int64_t M = g.N * g.OH * g.OW, KHW = g.KH * g.KW;
  const double weight_bytes = 4.0 * static_cast<double>(g.C * g.OC * KHW);
  return M == 1 || (KHW > 1 && M <= 16 && weight_bytes >= 2e6);
}

void conv2d_fwd_few_pixels(const Conv2dGeom& g, const float* x, int32_t xb, const float* w, const float* b, float* y,
                           int32_t yb) {
  const int64_t KHW = g.KH * g.KW, K = KHW * g.C, M = g.N * g.OH * g.OW, panels = (g.OC + kFpCols - 1) / kFpCols;
  const int64_t groups = (M + kFpRows - 1) / kFpRows;
  auto pack = [&](void* dst) {
    float* wp = static_cast<float*>(dst);
    parallel_chunks(
        panels, [&](int64_t p0, int64_t p1) { fp_pack_weights(g, w, wp, p0, p1); },
        std::max<int64_t>(1, kGrain / (K * kFpCols)));
  };
  auto Wp =
      onednn::packed_weights(&kFpPacking, w, g.w_id, g.w_version, sizeof(float) * panels * K * kFpCols, std::ref(pack));
  const float* wp = static_cast<const float*>(Wp->data());
  // A (M x K at most, rounded up to 8-byte alignment), then each group's segments (KH * KW at
  // most) and their number.
  const int64_t a_floats = (M * K + 1) & ~int64_t{1};
  onednn::Temp scratch(sizeof(float) * a_floats + sizeof(FpSeg) * groups * KHW + sizeof(int64_t) * groups);
  float* A = static_cast<float*>(scratch.get());
  FpSeg* segs = reinterpret_cast<FpSeg*>(A + a_floats);
  int64_t* nsegs = reinterpret_cast<int64_t*>(segs + groups * KHW);
  const auto rows = [&](int64_t gi) { return static_cast<int>(std::min<int64_t>(kFpRows, M - gi * kFpRows)); };
  const auto prepare = [&](int64_t gi) {
    nsegs[gi] = fp_segments(g, gi * kFpRows, rows(gi), segs + gi * KHW);
    fp_pack_rows(g, x, xb, gi * kFpRows, rows(gi), segs + gi * KHW, nsegs[gi], A + gi * kFpRows * K);
  };
  const auto panel = [&](int64_t p) {
    alignas(32) float T[kFpRows * kFpCols];
    for (int64_t gi = 0; gi < groups; ++gi) {
      const int R = rows(gi);
      kFpTiles[R](segs + gi * KHW, nsegs[gi], A + gi * kFpRows * K, wp + p * K * kFpCols, T);
      fp_store(g, T, R, gi * kFpRows, p * kFpCols, b, y, yb);
    }
  };
  // Threads: each takes whole panels, at least 64 KFLOP of them (one pixel: 128 KB of weights;
  // with 256 KFLOP MobileNetV2's 160 -> 960 layer kept one thread, 1.3x oneDNN on two threads
  // against 1.5-1.75x with the split).
  const double flops = 2.0 * static_cast<double>(M * K) * static_cast<double>(g.OC);
  const int nt =
      static_cast<int>(std::min<int64_t>(threads_for(static_cast<int64_t>(std::min(flops, 1e18)), 64000), panels));
  if (nt == 1) {
    for (int64_t gi = 0; gi < groups; ++gi) prepare(gi);
    for (int64_t p = 0; p < panels; ++p) panel(p);
    return;
  }
#pragma omp parallel num_threads(nt)
  {
#pragma omp for schedule(static)
    for (int64_t gi = 0; gi < groups; ++gi) prepare(gi);
#pragma omp for schedule(static)
    for (int64_t p = 0; p < panels; ++p) panel(p);
  }
}

}  // namespace convnet::kernels::cpu
