// 2-D pooling on the CPU: every (n, c) plane is pooled on its own, so the planes are
// split over the threads and each plane runs the reference loop (kernels/ref/pool2d.cpp)
// on a one-plane geometry. Max pooling's argmax is an index within the plane, so the
// reference's indices are already right. Identical results to the reference, by design.
// The common 2x2 stride-2 max pooling (LeNet, VGG) has its own loop.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/cpu/parallel.h"
#include "kernels/pool2d.h"
#include "kernels/registry.h"

namespace convnet::kernels::cpu {

namespace {

Pool2dGeom one_plane(Pool2dGeom g) {
  g.N = g.C = 1;
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
  const Pool2dGeom p = one_plane(g);
  const int64_t in = g.H * g.W, out = g.OH * g.OW;
  const bool fast = is_2x2_s2(g);
  parallel_for(g.N * g.C, in, [&](int64_t nc) {
    if (fast)
      max_2x2_plane(p, x + nc * in, y + nc * out, argmax ? argmax + nc * out : nullptr);
    else
      ref::max_pool2d_fwd<float>(p, x + nc * in, y + nc * out, argmax ? argmax + nc * out : nullptr);
  });
}

void max_pool2d_bwd(const Pool2dGeom& g, const float* gy, const int64_t* argmax, float* gx) {
  const int64_t in = g.H * g.W, out = g.OH * g.OW;
  parallel_for(g.N * g.C, in, [&](int64_t nc) {
    float* gp = gx + nc * in;
    std::memset(gp, 0, sizeof(float) * in);
    const int64_t* am = argmax + nc * out;
    const float* gyp = gy + nc * out;
    for (int64_t o = 0; o < out; ++o)
      if (am[o] >= 0) gp[am[o]] += gyp[o];
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
