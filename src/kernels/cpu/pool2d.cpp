// 2-D pooling on the CPU: every (n, c) plane is pooled on its own, so the planes are
// split over the threads and each plane runs the reference loop (kernels/ref/pool2d.cpp)
// on a one-plane geometry. Max pooling's argmax is an index within the plane, so the
// reference's indices are already right. Identical results to the reference, by design.
// The common 2x2 stride-2 max pooling (LeNet, VGG) has its own loop.
// GCC 12 reports its own avx512fintrin.h (the _mm512_undefined_* behind some intrinsics)
// as "may be used uninitialized"; a known false positive.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "kernels/pool2d.h"

#include <immintrin.h>

#include <cstdint>
#include <cstring>

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

}  // namespace

void max_pool2d_fwd(const Pool2dGeom& g, const float* x, float* y, int64_t* argmax) {
  const int64_t in = g.H * g.W, out = g.OH * g.OW;
  if (g.B) {
    // Channel-blocked: per (n, c/B) block, 2x2/2 windows of 16 channels at once where the
    // CPU allows, else the reference loop on the block.
    const Pool2dGeom p = one_block(g);
    bool fast = false;
#ifdef CONVNET_HAVE_AVX512_POOL
    fast = g.B == 16 && is_2x2_s2(g) && g.H * g.W < (int64_t{1} << 30) && __builtin_cpu_supports("avx512f");
#endif
    parallel_for(g.N * (g.C / g.B), in * g.B, [&](int64_t blk) {
      const float* xb = x + blk * in * g.B;
      float* yb = y + blk * out * g.B;
      int64_t* ab = argmax ? argmax + blk * out * g.B : nullptr;
#ifdef CONVNET_HAVE_AVX512_POOL
      if (fast) return max_2x2_block16(p, xb, yb, ab);
#endif
      ref::max_pool2d_fwd<float>(p, xb, yb, ab);
    });
    return;
  }
  const Pool2dGeom p = one_plane(g);
  const bool fast = is_2x2_s2(g);
  parallel_for(g.N * g.C, in, [&](int64_t nc) {
    if (fast)
      max_2x2_plane(p, x + nc * in, y + nc * out, argmax ? argmax + nc * out : nullptr);
    else
      ref::max_pool2d_fwd<float>(p, x + nc * in, y + nc * out, argmax ? argmax + nc * out : nullptr);
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
  const Pool2dGeom p = one_plane(g);
  const int64_t in = g.H * g.W, out = g.OH * g.OW;
  parallel_for(g.N * g.C, in, [&](int64_t nc) { ref::avg_pool2d_fwd<float>(p, x + nc * in, y + nc * out); });
}

void avg_pool2d_bwd(const Pool2dGeom& g, const float* gy, float* gx) {
  const Pool2dGeom p = one_plane(g);
  const int64_t in = g.H * g.W, out = g.OH * g.OW;
  parallel_for(g.N * g.C, in, [&](int64_t nc) { ref::avg_pool2d_bwd<float>(p, gy + nc * out, gx + nc * in); });
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

void adaptive_avg_pool2d_fwd(const AdaptivePool2dGeom& g, const float* x, float* y) {
  const AdaptivePool2dGeom p = one_plane(g);
  const int64_t in = g.H * g.W, out = g.OH * g.OW;
  parallel_for(g.N * g.C, in, [&](int64_t nc) { ref::adaptive_avg_pool2d_fwd<float>(p, x + nc * in, y + nc * out); });
}

void adaptive_avg_pool2d_bwd(const AdaptivePool2dGeom& g, const float* gy, float* gx) {
  const AdaptivePool2dGeom p = one_plane(g);
  const int64_t in = g.H * g.W, out = g.OH * g.OW;
  parallel_for(g.N * g.C, in, [&](int64_t nc) { ref::adaptive_avg_pool2d_bwd<float>(p, gy + nc * out, gx + nc * in); });
}

}  // namespace convnet::kernels::cpu

namespace convnet::kernels {
void register_cpu_pool() {
  add<MaxPool2dFwdFn<float>>("max_pool2d_fwd", "cpu", 10, &cpu::max_pool2d_fwd);
  add<MaxPool2dBwdFn<float>>("max_pool2d_bwd", "cpu", 10, &cpu::max_pool2d_bwd);
  add<AvgPool2dFwdFn<float>>("avg_pool2d_fwd", "cpu", 10, &cpu::avg_pool2d_fwd);
  add<AvgPool2dBwdFn<float>>("avg_pool2d_bwd", "cpu", 10, &cpu::avg_pool2d_bwd);
  add<AdaptiveMaxPool2dFwdFn<float>>("adaptive_max_pool2d_fwd", "cpu", 10, &cpu::adaptive_max_pool2d_fwd);
  add<AdaptiveMaxPool2dBwdFn<float>>("adaptive_max_pool2d_bwd", "cpu", 10, &cpu::adaptive_max_pool2d_bwd);
  add<AdaptiveAvgPool2dFwdFn<float>>("adaptive_avg_pool2d_fwd", "cpu", 10, &cpu::adaptive_avg_pool2d_fwd);
  add<AdaptiveAvgPool2dBwdFn<float>>("adaptive_avg_pool2d_bwd", "cpu", 10, &cpu::adaptive_avg_pool2d_bwd);
}
}  // namespace convnet::kernels
