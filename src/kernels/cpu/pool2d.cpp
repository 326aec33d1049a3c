// 2-D pooling on the CPU, threaded over (n, c) planes or (n, c/B) channel blocks.
// - max pooling: 2x2 stride 2 (LeNet, VGG) has its own AVX-512 loops; every other window
//   (ResNet's and GoogLeNet's 3x3/2 with padding, dilation, ceil_mode) runs a branch-free
//   window loop, over 16 channels at once in the channel-blocked layout.
// - average pooling: plain and channel-blocked, with the window spans and divisors worked
//   out once per output row and column instead of per element.
// - adaptive average pooling: the same, with global pooling (ResNet's head) as a plain sum.
// - adaptive max pooling: the reference loop per plane (no zoo model uses it).
// Results are bit-identical to the reference (same summation order, same tie and NaN rule),
// so the tests compare them exactly.
// GCC 12 reports its own avx512fintrin.h (the _mm512_undefined_* behind some intrinsics)
// as "may be used uninitialized"; a known false positive.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "kernels/pool2d.h"

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/cpu/parallel.h"
#include "kernels/registry.h"

namespace convnet::kernels::cpu {

namespace {

Pool2dGeom one_plane(Pool2dGeom g) {
  g.N = g.C = 1;
  return g;
}
// One (n, c/B) block of a channel-blocked tensor: B planes side by side.
Pool2dGeom one_block(Pool2dGeom g) {
  g.N = 1;
  g.C = g.B;
  return g;
}
AdaptivePool2dGeom one_plane(AdaptivePool2dGeom g) {
  g.N = g.C = 1;
  return g;
}

bool is_2x2_s2(const Pool2dGeom& g) {
  return g.KH == 2 && g.KW == 2 && g.SH == 2 && g.SW == 2 && g.PH == 0 && g.PW == 0 && g.DH == 1 && g.DW == 1 &&
         g.OH * 2 <= g.H && g.OW * 2 <= g.W;
}

// 2x2 stride-2 windows. The reference's compare-and-branch per element mispredicts on
// real data, so: AVX-512 (16 windows per step, masked loads and stores for the end of a
// row, so LeNet's 14- and 5-wide rows take the vector path too) where the CPU has it,
// else a branch-free scalar loop. (GCC's generic vectors lower these float compares to
// scalar code, hence intrinsics.)
//
// The rule of the reference per window, in window order a, b, c, d = (0,0), (0,1), (1,0),
// (1,1): a later value wins if it is strictly greater or NaN, so the first maximum wins,
// and the last NaN. Output ow of row oh reads r0[2 ow], r0[2 ow + 1], r1[2 ow],
// r1[2 ow + 1] (r0 = row 2 oh, r1 = row 2 oh + 1); argmax gets the index in the plane of
// window element k: base + 2 ow + (k & 1) + (k >> 1) W, base = 2 oh W.
#if defined(__x86_64__) && defined(__GNUC__)
#define CONVNET_HAVE_AVX512_POOL 1
__attribute__((target("avx512f"))) void max_2x2_row_avx512(int64_t OW, int64_t W, const float* r0, const float* r1,
                                                           float* y, int64_t* argmax, int64_t base) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  alignas(64) int32_t ks[16];
  for (int64_t ow = 0; ow < OW; ow += 16) {
    const int64_t n = OW - ow < 16 ? OW - ow : 16;
    const int64_t lo = 2 * n < 16 ? 2 * n : 16, hi = 2 * n - lo;
    const __mmask16 mlo = static_cast<__mmask16>((1u << lo) - 1), mhi = static_cast<__mmask16>((1u << hi) - 1);
    const __mmask16 mout = static_cast<__mmask16>((1u << n) - 1);
    const __m512 l0 = _mm512_maskz_loadu_ps(mlo, r0 + 2 * ow), h0 = _mm512_maskz_loadu_ps(mhi, r0 + 2 * ow + 16);
    const __m512 l1 = _mm512_maskz_loadu_ps(mlo, r1 + 2 * ow), h1 = _mm512_maskz_loadu_ps(mhi, r1 + 2 * ow + 16);
    __m512 best = _mm512_permutex2var_ps(l0, even, h0);
    __m512i k = _mm512_setzero_si512();
    const __m512 cand[3] = {_mm512_permutex2var_ps(l0, odd, h0), _mm512_permutex2var_ps(l1, even, h1),
                            _mm512_permutex2var_ps(l1, odd, h1)};
    for (int e = 0; e < 3; ++e) {
      const __mmask16 t =
          _mm512_cmp_ps_mask(cand[e], best, _CMP_GT_OQ) | _mm512_cmp_ps_mask(cand[e], cand[e], _CMP_UNORD_Q);
      best = _mm512_mask_mov_ps(best, t, cand[e]);
      k = _mm512_mask_mov_epi32(k, t, _mm512_set1_epi32(e + 1));
    }
    _mm512_mask_storeu_ps(y + ow, mout, best);
    if (argmax) {
      _mm512_store_si512(ks, k);
      for (int64_t j = 0; j < n; ++j) argmax[ow + j] = base + 2 * (ow + j) + (ks[j] & 1) + (ks[j] >> 1) * W;
    }
  }
}
#endif

void max_2x2_row_scalar(int64_t OW, int64_t W, const float* r0, const float* r1, float* y, int64_t* argmax,
                        int64_t base) {
  for (int64_t ow = 0; ow < OW; ++ow) {
    const float v[4] = {r0[2 * ow], r0[2 * ow + 1], r1[2 * ow], r1[2 * ow + 1]};
    float best = v[0];
    int32_t bk = 0;
    for (int32_t k = 1; k < 4; ++k) {
      const bool t = (v[k] > best) | (v[k] != v[k]);  // `|`, not `||`: no branch
      best = t ? v[k] : best;
      bk = t ? k : bk;
    }
    y[ow] = best;
    if (argmax) argmax[ow] = base + 2 * ow + (bk & 1) + (bk >> 1) * W;
  }
}

#ifdef CONVNET_HAVE_AVX512_POOL
// One (n, c/16) block of a 16-channel-blocked tensor: every window is 4 vectors of 16
// channels, so the windows of all 16 channels are taken at once, with the reference's
// rule per lane.
__attribute__((target("avx512f"))) void max_2x2_block16(const Pool2dGeom& g, const float* x, float* y,
                                                        int64_t* argmax) {
  for (int64_t oh = 0; oh < g.OH; ++oh)
    for (int64_t ow = 0; ow < g.OW; ++ow) {
      const int64_t p0 = 2 * oh * g.W + 2 * ow;  // the window's first element in the plane
      const int64_t pos[4] = {p0, p0 + 1, p0 + g.W, p0 + g.W + 1};
      __m512 best = _mm512_loadu_ps(x + pos[0] * 16);
      __m512i k = _mm512_setzero_si512();
      for (int e = 1; e < 4; ++e) {
        const __m512 v = _mm512_loadu_ps(x + pos[e] * 16);
        const __mmask16 t = _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ) | _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
        best = _mm512_mask_mov_ps(best, t, v);
        k = _mm512_mask_mov_epi32(k, t, _mm512_set1_epi32(e));
      }
      const int64_t o = oh * g.OW + ow;
      _mm512_storeu_ps(y + o * 16, best);
      if (argmax) {
        // index = p0 + (k & 1) + (k >> 1) W, as 16 int64s
        const __m512i idx = _mm512_add_epi32(
            _mm512_set1_epi32(static_cast<int32_t>(p0)),
            _mm512_add_epi32(
                _mm512_and_si512(k, _mm512_set1_epi32(1)),
                _mm512_mullo_epi32(_mm512_srli_epi32(k, 1), _mm512_set1_epi32(static_cast<int32_t>(g.W)))));
        _mm512_storeu_si512(argmax + o * 16, _mm512_cvtepi32_epi64(_mm512_castsi512_si256(idx)));
        _mm512_storeu_si512(argmax + o * 16 + 8, _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(idx, 1)));
      }
    }
}
#endif

#if defined(__x86_64__) && defined(__GNUC__)
#define CONVNET_HAVE_AVX2_POOL 1
// The 8-channel blocks of AVX2 machines (oneDNN's nChw8c there), in AVX2: one vector per
// window tap, the reference's rule per lane (a later value wins if strictly greater or
// NaN). The generic loop (max_window_block<8>) left VGG's five pools at 10% of its batch-128
// inference on such a machine, 4-6x the time that reading the input takes.
__attribute__((target("avx2"))) inline void max_step8(__m256 v, __m256i i, __m256& best, __m256i& bi) {
  const __m256 t = _mm256_or_ps(_mm256_cmp_ps(v, best, _CMP_GT_OQ), _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
  best = _mm256_blendv_ps(best, v, t);
  bi = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(bi), _mm256_castsi256_ps(i), t));
}
__attribute__((target("avx2"))) inline void store_argmax8(int64_t* a, __m256i bi) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(a), _mm256_cvtepi32_epi64(_mm256_castsi256_si128(bi)));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(a + 4), _mm256_cvtepi32_epi64(_mm256_extracti128_si256(bi, 1)));
}

// max_2x2_block16 for 8-channel blocks.
__attribute__((target("avx2"))) void max_2x2_block8(const Pool2dGeom& g, const float* x, float* y, int64_t* argmax) {
  for (int64_t oh = 0; oh < g.OH; ++oh)
    for (int64_t ow = 0; ow < g.OW; ++ow) {
      const int64_t p0 = 2 * oh * g.W + 2 * ow;
      const int64_t pos[4] = {p0, p0 + 1, p0 + g.W, p0 + g.W + 1};
      __m256 best = _mm256_loadu_ps(x + pos[0] * 8);
      __m256i bi = _mm256_set1_epi32(static_cast<int32_t>(pos[0]));
      for (int e = 1; e < 4; ++e)
        max_step8(_mm256_loadu_ps(x + pos[e] * 8), _mm256_set1_epi32(static_cast<int32_t>(pos[e])), best, bi);
      const int64_t o = (oh * g.OW + ow) * 8;
      _mm256_storeu_ps(y + o, best);
      if (argmax) store_argmax8(argmax + o, bi);
    }
}
#endif

using Max2x2Row = void (*)(int64_t, int64_t, const float*, const float*, float*, int64_t*, int64_t);
Max2x2Row max_2x2_row() {
#ifdef CONVNET_HAVE_AVX512_POOL
  static const Max2x2Row f = __builtin_cpu_supports("avx512f") ? &max_2x2_row_avx512 : &max_2x2_row_scalar;
  return f;
#else
  return &max_2x2_row_scalar;
#endif
}

void max_2x2_plane(const Pool2dGeom& g, const float* x, float* y, int64_t* argmax) {
  const Max2x2Row row = max_2x2_row();
  for (int64_t oh = 0; oh < g.OH; ++oh) {
    const float* r0 = x + 2 * oh * g.W;
    row(g.OW, g.W, r0, r0 + g.W, y + oh * g.OW, argmax ? argmax + oh * g.OW : nullptr, 2 * oh * g.W);
  }
}

// Window bounds along one axis: the taps k in [k0, k1) whose input index o*s - p + k*d
// lies in [0, in). Computed once per output row (or column), so the window loops carry no
// bound checks.
struct Taps {
  int64_t k0, k1, i0;  // i0: the input index of tap 0
};
Taps taps(int64_t o, int64_t in, int64_t k, int64_t s, int64_t p, int64_t d) {
  const int64_t i0 = o * s - p;
  int64_t k0 = 0, k1 = k;
  while (k0 < k1 && i0 + k0 * d < 0) ++k0;
  while (k1 > k0 && i0 + (k1 - 1) * d >= in) --k1;
  return {k0, k1, i0};
}

// Any max-pooling window on one (H, W) plane, with the reference's rule: the first
// in-window element starts the maximum, a later one wins if strictly greater or NaN.
// Branch-free comparisons: on real data the reference's branch mispredicts.
CONVNET_SIMD void max_window_plane(const Pool2dGeom& g, const float* x, float* y, int64_t* argmax) {
  for (int64_t oh = 0; oh < g.OH; ++oh) {
    const Taps th = taps(oh, g.H, g.KH, g.SH, g.PH, g.DH);
    for (int64_t ow = 0; ow < g.OW; ++ow) {
      const Taps tw = taps(ow, g.W, g.KW, g.SW, g.PW, g.DW);
      float best = -__builtin_inff();
      int64_t bi = -1;  // stays -1 only for a window entirely in the padding
      if (th.k0 < th.k1 && tw.k0 < tw.k1) {
        bi = (th.i0 + th.k0 * g.DH) * g.W + tw.i0 + tw.k0 * g.DW;
        best = x[bi];
        for (int64_t kh = th.k0; kh < th.k1; ++kh) {
          const int64_t row = (th.i0 + kh * g.DH) * g.W + tw.i0;
          for (int64_t kw = tw.k0; kw < tw.k1; ++kw) {
            const int64_t i = row + kw * g.DW;
            const float v = x[i];
            const bool t = (v > best) | (v != v);
            best = t ? v : best;
            bi = t ? i : bi;
          }
        }
      }
      y[oh * g.OW + ow] = best;
      if (argmax) argmax[oh * g.OW + ow] = bi;
    }
  }
}

// The same on one (n, c/B) block of a channel-blocked tensor: B planes side by side, so
// every window tap is B contiguous values, compared lane by lane (vectorized by the
// compiler; the tap's plane index is the same for every lane).
template <int B>
CONVNET_SIMD void max_window_block(const Pool2dGeom& g, const float* x, float* y, int64_t* argmax) {
  for (int64_t oh = 0; oh < g.OH; ++oh) {
    const Taps th = taps(oh, g.H, g.KH, g.SH, g.PH, g.DH);
    for (int64_t ow = 0; ow < g.OW; ++ow) {
      const Taps tw = taps(ow, g.W, g.KW, g.SW, g.PW, g.DW);
      float best[B];
      int32_t bi[B];
      for (int l = 0; l < B; ++l) best[l] = -__builtin_inff(), bi[l] = -1;
      if (th.k0 < th.k1 && tw.k0 < tw.k1) {
        const int32_t i0 = static_cast<int32_t>((th.i0 + th.k0 * g.DH) * g.W + tw.i0 + tw.k0 * g.DW);
        for (int l = 0; l < B; ++l) best[l] = x[i0 * B + l], bi[l] = i0;
        for (int64_t kh = th.k0; kh < th.k1; ++kh) {
          const int64_t row = (th.i0 + kh * g.DH) * g.W + tw.i0;
          for (int64_t kw = tw.k0; kw < tw.k1; ++kw) {
            const int32_t i = static_cast<int32_t>(row + kw * g.DW);
            const float* v = x + static_cast<int64_t>(i) * B;
            for (int l = 0; l < B; ++l) {
              const bool t = (v[l] > best[l]) | (v[l] != v[l]);
              best[l] = t ? v[l] : best[l];
              bi[l] = t ? i : bi[l];
            }
          }
        }
      }
      const int64_t o = (oh * g.OW + ow) * B;
      for (int l = 0; l < B; ++l) y[o + l] = best[l];
      if (argmax)
        for (int l = 0; l < B; ++l) argmax[o + l] = bi[l];
    }
  }
}

#ifdef CONVNET_HAVE_AVX512_POOL
// max_window_block<16> in AVX-512: one vector per tap, the plane index broadcast into a
// vector of int32 indices; the same rule per lane.
__attribute__((target("avx512f"))) void max_window_block16(const Pool2dGeom& g, const float* x, float* y,
                                                           int64_t* argmax) {
  for (int64_t oh = 0; oh < g.OH; ++oh) {
    const Taps th = taps(oh, g.H, g.KH, g.SH, g.PH, g.DH);
    for (int64_t ow = 0; ow < g.OW; ++ow) {
      const Taps tw = taps(ow, g.W, g.KW, g.SW, g.PW, g.DW);
      __m512 best = _mm512_set1_ps(-__builtin_inff());
      __m512i bi = _mm512_set1_epi32(-1);
      if (th.k0 < th.k1 && tw.k0 < tw.k1) {
        const int32_t i0 = static_cast<int32_t>((th.i0 + th.k0 * g.DH) * g.W + tw.i0 + tw.k0 * g.DW);
        best = _mm512_loadu_ps(x + static_cast<int64_t>(i0) * 16);
        bi = _mm512_set1_epi32(i0);
        for (int64_t kh = th.k0; kh < th.k1; ++kh) {
          const int64_t row = (th.i0 + kh * g.DH) * g.W + tw.i0;
          for (int64_t kw = tw.k0; kw < tw.k1; ++kw) {
            const int64_t i = row + kw * g.DW;
            const __m512 v = _mm512_loadu_ps(x + i * 16);
            const __mmask16 t = _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ) | _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
            best = _mm512_mask_mov_ps(best, t, v);
            bi = _mm512_mask_mov_epi32(bi, t, _mm512_set1_epi32(static_cast<int32_t>(i)));
          }
        }
      }
      const int64_t o = (oh * g.OW + ow) * 16;
      _mm512_storeu_ps(y + o, best);
      if (argmax) {
        _mm512_storeu_si512(argmax + o, _mm512_cvtepi32_epi64(_mm512_castsi512_si256(bi)));
        _mm512_storeu_si512(argmax + o + 8, _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(bi, 1)));
      }
    }
  }
}
#endif

#ifdef CONVNET_HAVE_AVX512_POOL
// max_window_plane in AVX-512 for horizontal stride 1 or 2 without dilation (GoogLeNet's
// 3x3/1 branch pools, ResNet's 3x3/2 stem on plain tensors): 16 outputs of a row at once
// where their windows lie inside the row horizontally, each tap one (masked) load, with
// stride 2 taking the even elements of two loads; the scalar loop does the border columns.
__attribute__((target("avx512f"))) void max_window_plane_avx512(const Pool2dGeom& g, const float* x, float* y,
                                                                int64_t* argmax) {
  const int64_t S = g.SW;
  // Outputs whose window is inside [0, W) horizontally: ow*S - PW >= 0, ow*S - PW + KW <= W.
  const int64_t lo = std::min(g.OW, (g.PW + S - 1) / S);
  const int64_t hi = std::max(lo, std::min(g.OW, g.W - g.KW + g.PW >= 0 ? (g.W - g.KW + g.PW) / S + 1 : 0));
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i lane_s = _mm512_mullo_epi32(lane, _mm512_set1_epi32(static_cast<int32_t>(S)));
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  alignas(64) int32_t idx[16];
  for (int64_t oh = 0; oh < g.OH; ++oh) {
    const Taps th = taps(oh, g.H, g.KH, g.SH, g.PH, g.DH);
    float* yr = y + oh * g.OW;
    int64_t* ar = argmax ? argmax + oh * g.OW : nullptr;
    // Border columns (and the whole row when no window has an input row) the scalar way.
    auto scalar = [&](int64_t ow0, int64_t ow1) {
      for (int64_t ow = ow0; ow < ow1; ++ow) {
        const Taps tw = taps(ow, g.W, g.KW, g.SW, g.PW, g.DW);
        float best = -__builtin_inff();
        int64_t bi = -1;
        if (th.k0 < th.k1 && tw.k0 < tw.k1) {
          bi = (th.i0 + th.k0 * g.DH) * g.W + tw.i0 + tw.k0 * g.DW;
          best = x[bi];
          for (int64_t kh = th.k0; kh < th.k1; ++kh)
            for (int64_t kw = tw.k0; kw < tw.k1; ++kw) {
              const int64_t i = (th.i0 + kh * g.DH) * g.W + tw.i0 + kw * g.DW;
              const bool t = (x[i] > best) | (x[i] != x[i]);
              best = t ? x[i] : best;
              bi = t ? i : bi;
            }
        }
        yr[ow] = best;
        if (ar) ar[ow] = bi;
      }
    };
    if (th.k0 >= th.k1) {
      scalar(0, g.OW);
      continue;
    }
    scalar(0, lo);
    for (int64_t ow = lo; ow < hi; ow += 16) {
      const int64_t n = std::min<int64_t>(16, hi - ow);
      const __mmask16 mout = static_cast<__mmask16>((1u << n) - 1);
      __m512 best = _mm512_setzero_ps();
      __m512i bi = _mm512_setzero_si512();
      bool first = true;
      for (int64_t kh = th.k0; kh < th.k1; ++kh)
        for (int64_t kw = 0; kw < g.KW; ++kw) {
          const int64_t base = (th.i0 + kh * g.DH) * g.W + ow * S - g.PW + kw;
          __m512 v;
          if (S == 1) {
            v = _mm512_maskz_loadu_ps(mout, x + base);
          } else {  // S == 2: elements base, base + 2, ..., of 2n - 1 values
            const int64_t need = 2 * n - 1, l = std::min<int64_t>(need, 16), h = need - l;
            const __m512 a = _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << l) - 1), x + base);
            const __m512 b = _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << h) - 1), x + base + 16);
            v = _mm512_permutex2var_ps(a, even, b);
          }
          const __m512i i = _mm512_add_epi32(_mm512_set1_epi32(static_cast<int32_t>(base)), lane_s);
          if (first) {
            best = v, bi = i, first = false;
            continue;
          }
          const __mmask16 t = _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ) | _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
          best = _mm512_mask_mov_ps(best, t, v);
          bi = _mm512_mask_mov_epi32(bi, t, i);
        }
      _mm512_mask_storeu_ps(yr + ow, mout, best);
      if (ar) {
        _mm512_store_si512(idx, bi);
        for (int64_t j = 0; j < n; ++j) ar[ow + j] = idx[j];
      }
    }
    scalar(hi, g.OW);
  }
}
#endif

#ifdef CONVNET_HAVE_AVX2_POOL
// max_window_block<8> in AVX2 (max_window_block16's loop, 8 lanes).
__attribute__((target("avx2"))) void max_window_block8(const Pool2dGeom& g, const float* x, float* y, int64_t* argmax) {
  for (int64_t oh = 0; oh < g.OH; ++oh) {
    const Taps th = taps(oh, g.H, g.KH, g.SH, g.PH, g.DH);
    for (int64_t ow = 0; ow < g.OW; ++ow) {
      const Taps tw = taps(ow, g.W, g.KW, g.SW, g.PW, g.DW);
      __m256 best = _mm256_set1_ps(-__builtin_inff());
      __m256i bi = _mm256_set1_epi32(-1);
      if (th.k0 < th.k1 && tw.k0 < tw.k1) {
        const int32_t i0 = static_cast<int32_t>((th.i0 + th.k0 * g.DH) * g.W + tw.i0 + tw.k0 * g.DW);
        best = _mm256_loadu_ps(x + static_cast<int64_t>(i0) * 8);
        bi = _mm256_set1_epi32(i0);
        for (int64_t kh = th.k0; kh < th.k1; ++kh) {
          const int64_t row = (th.i0 + kh * g.DH) * g.W + tw.i0;
          for (int64_t kw = tw.k0; kw < tw.k1; ++kw) {
            const int64_t i = row + kw * g.DW;
            max_step8(_mm256_loadu_ps(x + i * 8), _mm256_set1_epi32(static_cast<int32_t>(i)), best, bi);
          }
        }
      }
      const int64_t o = (oh * g.OW + ow) * 8;
      _mm256_storeu_ps(y + o, best);
      if (argmax) store_argmax8(argmax + o, bi);
    }
  }
}
#endif

void max_window_blocked(const Pool2dGeom& g, const float* x, float* y, int64_t* argmax) {
#ifdef CONVNET_HAVE_AVX512_POOL
  static const bool avx512 = __builtin_cpu_supports("avx512f");
  if (g.B == 16 && avx512) return max_window_block16(g, x, y, argmax);
#endif
  if (g.B == 16) return max_window_block<16>(g, x, y, argmax);
#ifdef CONVNET_HAVE_AVX2_POOL
  static const bool avx2 = __builtin_cpu_supports("avx2");
  if (g.B == 8 && avx2) return max_window_block8(g, x, y, argmax);
#endif
  if (g.B == 8) return max_window_block<8>(g, x, y, argmax);
  ref::max_pool2d_fwd<float>(g, x, y, argmax);  // no other block size is made
}

// Average pooling of one (n, c/B) block (B = 1: one plain plane): per output, the sum of
// its window's B-lane vectors in the reference's order (row by row), divided by the
// divisor: bit-identical to the reference, vectorized across the B lanes.
std::vector<AvgSpan> avg_spans(int64_t out, int64_t in, int64_t k, int64_t s, int64_t p) {
  std::vector<AvgSpan> v(static_cast<size_t>(out));
  for (int64_t o = 0; o < out; ++o) v[static_cast<size_t>(o)] = avg_span(o, in, k, s, p);
  return v;
}
std::vector<AvgSpan> adaptive_spans(int64_t out, int64_t in) {
  std::vector<AvgSpan> v(static_cast<size_t>(out));
  for (int64_t o = 0; o < out; ++o) {
    const int64_t b = adaptive_start(o, in, out), e = adaptive_end(o, in, out);
    v[static_cast<size_t>(o)] = {b, e, e - b};
  }
  return v;
}
// The adaptive geometry as a pooling one whose divisor is the window size.
Pool2dGeom adaptive_as_pool(const AdaptivePool2dGeom& g) {
  Pool2dGeom p{};
  p.N = g.N, p.C = g.C, p.H = g.H, p.W = g.W, p.OH = g.OH, p.OW = g.OW, p.B = g.B;
  p.count_include_pad = false;
  return p;
}

template <int B>
CONVNET_SIMD void avg_block(const Pool2dGeom& g, const std::vector<AvgSpan>& hs, const std::vector<AvgSpan>& ws,
                            const float* x, float* y) {
  for (int64_t oh = 0; oh < g.OH; ++oh) {
    const AvgSpan& h = hs[static_cast<size_t>(oh)];
    for (int64_t ow = 0; ow < g.OW; ++ow) {
      const AvgSpan& w = ws[static_cast<size_t>(ow)];
      float acc[B] = {};
      for (int64_t ih = h.begin; ih < h.end; ++ih)
        for (int64_t iw = w.begin; iw < w.end; ++iw) {
          const float* v = x + (ih * g.W + iw) * B;
          for (int l = 0; l < B; ++l) acc[l] += v[l];
        }
      float* o = y + (oh * g.OW + ow) * B;
      const bool empty = h.begin >= h.end || w.begin >= w.end;  // only in the padding: 0, as PyTorch
      const auto div = static_cast<float>(avg_divisor(g, h, w));
      for (int l = 0; l < B; ++l) o[l] = empty ? 0.f : acc[l] / div;
    }
  }
}

template <int B>
CONVNET_SIMD void avg_block_bwd(const Pool2dGeom& g, const std::vector<AvgSpan>& hs, const std::vector<AvgSpan>& ws,
                                const float* gy, float* gx) {
  std::memset(gx, 0, sizeof(float) * static_cast<size_t>(g.H * g.W * B));
  for (int64_t oh = 0; oh < g.OH; ++oh) {
    const AvgSpan& h = hs[static_cast<size_t>(oh)];
    for (int64_t ow = 0; ow < g.OW; ++ow) {
      const AvgSpan& w = ws[static_cast<size_t>(ow)];
      if (h.begin >= h.end || w.begin >= w.end) continue;
      const auto div = static_cast<float>(avg_divisor(g, h, w));
      float share[B];
      for (int l = 0; l < B; ++l) share[l] = gy[(oh * g.OW + ow) * B + l] / div;
      for (int64_t ih = h.begin; ih < h.end; ++ih)
        for (int64_t iw = w.begin; iw < w.end; ++iw) {
          float* v = gx + (ih * g.W + iw) * B;
          for (int l = 0; l < B; ++l) v[l] += share[l];
        }
    }
  }
}

bool known_block(int64_t B) {
  return B == 0 || B == 8 || B == 16;
}

}  // namespace

void max_pool2d_fwd(const Pool2dGeom& g, const float* x, float* y, int64_t* argmax) {
  const int64_t in = g.H * g.W, out = g.OH * g.OW;
  // The vector loops keep plane indices in 32 bits; they know blocks of 8 and 16 channels
  // (channels-last float32 tensors, kernels/layout.h, go to the reference).
  if (in >= (int64_t{1} << 31) || !known_block(g.B)) return ref::max_pool2d_fwd<float>(g, x, y, argmax);
  if (g.B) {
    // Channel-blocked: per (n, c/B) block, 2x2/2 windows of 16 channels at once with
    // AVX-512 (of 8 with AVX2) where the CPU has it, else the general window loop on the block.
    const Pool2dGeom p = one_block(g);
    bool fast16 = false, fast8 = false;
#ifdef CONVNET_HAVE_AVX512_POOL
    fast16 = g.B == 16 && is_2x2_s2(g) && __builtin_cpu_supports("avx512f");
#endif
#ifdef CONVNET_HAVE_AVX2_POOL
    fast8 = g.B == 8 && is_2x2_s2(g) && __builtin_cpu_supports("avx2");
#endif
    parallel_for(g.N * (g.C / g.B), in * g.B, [&](int64_t blk) {
      const float* xb = x + blk * in * g.B;
      float* yb = y + blk * out * g.B;
      int64_t* ab = argmax ? argmax + blk * out * g.B : nullptr;
#ifdef CONVNET_HAVE_AVX512_POOL
      if (fast16) return max_2x2_block16(p, xb, yb, ab);
#endif
#ifdef CONVNET_HAVE_AVX2_POOL
      if (fast8) return max_2x2_block8(p, xb, yb, ab);
#endif
      max_window_blocked(p, xb, yb, ab);
    });
    return;
  }
  const Pool2dGeom p = one_plane(g);
  const bool fast = is_2x2_s2(g);
  bool vector_plane = false;
#ifdef CONVNET_HAVE_AVX512_POOL
  vector_plane = (g.SW == 1 || g.SW == 2) && g.DW == 1 && __builtin_cpu_supports("avx512f");
#else
  auto max_window_plane_avx512 = max_window_plane;
#endif
  parallel_for(g.N * g.C, in, [&](int64_t nc) {
    if (fast)
      max_2x2_plane(p, x + nc * in, y + nc * out, argmax ? argmax + nc * out : nullptr);
    else if (vector_plane)
      max_window_plane_avx512(p, x + nc * in, y + nc * out, argmax ? argmax + nc * out : nullptr);
    else
      max_window_plane(p, x + nc * in, y + nc * out, argmax ? argmax + nc * out : nullptr);
  });
}

// Scatter through the plane indices; blocks (or planes) are split over the threads.
void max_pool2d_bwd(const Pool2dGeom& g, const float* gy, const int64_t* argmax, float* gx) {
  const int64_t in = g.H * g.W, out = g.OH * g.OW, B = g.B ? g.B : 1;
  parallel_for(g.N * g.C / B, in * B, [&](int64_t blk) {
    float* gp = gx + blk * in * B;
    std::memset(gp, 0, sizeof(float) * in * B);
    const int64_t* am = argmax + blk * out * B;
    const float* gyp = gy + blk * out * B;
    for (int64_t o = 0; o < out; ++o)
      for (int64_t lane = 0; lane < B; ++lane) {
        const int64_t a = am[o * B + lane];
        if (a >= 0) gp[a * B + lane] += gyp[o * B + lane];
      }
  });
}

void avg_pool2d_fwd(const Pool2dGeom& g, const float* x, float* y) {
  if (!known_block(g.B)) return ref::avg_pool2d_fwd<float>(g, x, y);
  const std::vector<AvgSpan> hs = avg_spans(g.OH, g.H, g.KH, g.SH, g.PH), ws = avg_spans(g.OW, g.W, g.KW, g.SW, g.PW);
  const int64_t B = g.B ? g.B : 1, in = g.H * g.W * B, out = g.OH * g.OW * B;
  parallel_for(g.N * g.C / B, in, [&](int64_t blk) {
    const float* xb = x + blk * in;
    float* yb = y + blk * out;
    if (B == 16) return avg_block<16>(g, hs, ws, xb, yb);
    if (B == 8) return avg_block<8>(g, hs, ws, xb, yb);
    avg_block<1>(g, hs, ws, xb, yb);
  });
}

void avg_pool2d_bwd(const Pool2dGeom& g, const float* gy, float* gx) {
  if (!known_block(g.B)) return ref::avg_pool2d_bwd<float>(g, gy, gx);
  const std::vector<AvgSpan> hs = avg_spans(g.OH, g.H, g.KH, g.SH, g.PH), ws = avg_spans(g.OW, g.W, g.KW, g.SW, g.PW);
  const int64_t B = g.B ? g.B : 1, in = g.H * g.W * B, out = g.OH * g.OW * B;
  parallel_for(g.N * g.C / B, in, [&](int64_t blk) {
    const float* gyb = gy + blk * out;
    float* gxb = gx + blk * in;
    if (B == 16) return avg_block_bwd<16>(g, hs, ws, gyb, gxb);
    if (B == 8) return avg_block_bwd<8>(g, hs, ws, gyb, gxb);
    avg_block_bwd<1>(g, hs, ws, gyb, gxb);
  });
}

void adaptive_max_pool2d_fwd(const AdaptivePool2dGeom& g, const float* x, float* y, int64_t* argmax) {
  const AdaptivePool2dGeom p = one_plane(g);
  const int64_t in = g.H * g.W, out = g.OH * g.OW;
  parallel_for(g.N * g.C, in, [&](int64_t nc) {
    ref::adaptive_max_pool2d_fwd<float>(p, x + nc * in, y + nc * out, argmax ? argmax + nc * out : nullptr);
  });
}

void adaptive_max_pool2d_bwd(const AdaptivePool2dGeom& g, const float* gy, const int64_t* argmax, float* gx) {
  const AdaptivePool2dGeom p = one_plane(g);
  const int64_t in = g.H * g.W, out = g.OH * g.OW;
  parallel_for(g.N * g.C, in, [&](int64_t nc) {
    ref::adaptive_max_pool2d_bwd<float>(p, gy + nc * out, argmax + nc * out, gx + nc * in);
  });
}

// Adaptive average pooling is average pooling with per-output windows that need no
// padding: the same block loops, with spans from adaptive_start/adaptive_end.
void adaptive_avg_pool2d_fwd(const AdaptivePool2dGeom& g, const float* x, float* y) {
  if (!known_block(g.B)) return ref::adaptive_avg_pool2d_fwd<float>(g, x, y);
  const Pool2dGeom p = adaptive_as_pool(g);
  const std::vector<AvgSpan> hs = adaptive_spans(g.OH, g.H), ws = adaptive_spans(g.OW, g.W);
  const int64_t B = g.B ? g.B : 1, in = g.H * g.W * B, out = g.OH * g.OW * B;
  parallel_for(g.N * g.C / B, in, [&](int64_t blk) {
    const float* xb = x + blk * in;
    float* yb = y + blk * out;
    if (B == 16) return avg_block<16>(p, hs, ws, xb, yb);
    if (B == 8) return avg_block<8>(p, hs, ws, xb, yb);
    avg_block<1>(p, hs, ws, xb, yb);
  });
}

void adaptive_avg_pool2d_bwd(const AdaptivePool2dGeom& g, const float* gy, float* gx) {
  if (!known_block(g.B)) return ref::adaptive_avg_pool2d_bwd<float>(g, gy, gx);
  const Pool2dGeom p = adaptive_as_pool(g);
  const std::vector<AvgSpan> hs = adaptive_spans(g.OH, g.H), ws = adaptive_spans(g.OW, g.W);
  const int64_t B = g.B ? g.B : 1, in = g.H * g.W * B, out = g.OH * g.OW * B;
  parallel_for(g.N * g.C / B, in, [&](int64_t blk) {
    const float* gyb = gy + blk * out;
    float* gxb = gx + blk * in;
    if (B == 16) return avg_block_bwd<16>(p, hs, ws, gyb, gxb);
    if (B == 8) return avg_block_bwd<8>(p, hs, ws, gyb, gxb);
    avg_block_bwd<1>(p, hs, ws, gyb, gxb);
  });
}

}  // namespace convnet::kernels::cpu

namespace convnet::kernels {
void register_cpu_pool() {
  keys::max_pool2d_fwd.add("cpu", 10, &cpu::max_pool2d_fwd);
  keys::max_pool2d_bwd.add("cpu", 10, &cpu::max_pool2d_bwd);
  keys::avg_pool2d_fwd.add("cpu", 10, &cpu::avg_pool2d_fwd);
  keys::avg_pool2d_bwd.add("cpu", 10, &cpu::avg_pool2d_bwd);
  keys::adaptive_max_pool2d_fwd.add("cpu", 10, &cpu::adaptive_max_pool2d_fwd);
  keys::adaptive_max_pool2d_bwd.add("cpu", 10, &cpu::adaptive_max_pool2d_bwd);
  keys::adaptive_avg_pool2d_fwd.add("cpu", 10, &cpu::adaptive_avg_pool2d_fwd);
  keys::adaptive_avg_pool2d_bwd.add("cpu", 10, &cpu::adaptive_avg_pool2d_bwd);
}
}  // namespace convnet::kernels
