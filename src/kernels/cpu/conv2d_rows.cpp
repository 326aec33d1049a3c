// conv2d forward on plain NCHW tensors, vectorized along the output rows, on a CPU with
// AVX-512: a network's first layer when its outputs stay plain (LeNet-5's 1 -> 6 channels, 5x5:
// 6 channels fill no block of 16). oneDNN computed that layer into 16-channel blocks (10 of them
// zeros) and reordered the result back: 560 us of LeNet-5's 1,050 at batch 128 on 2 threads,
// 11 of its 25 us at batch 1.
//
// The kernel, for each (image, output row, tile of up to OT output channels):
//   - keeps OT x VW accumulators, VW vectors of 16 pixels covering the row (up to 64 pixels);
//   - per (c, kh, kw) in order, loads the VW input vectors the taps read (masked where they
//     fall in the width's padding or past the row: AVX-512 masked loads touch no memory in
//     the masked lanes) and does OT x VW FMAs with the weights broadcast from w as it is;
//     kernel rows in the height's padding are skipped;
//   - adds the bias, the residual (post-op sum) and the activation, and stores the row
//     (masked past OW).
// No packing and no scratch. The threads split (image, row, channel tile) units evenly.
// Every sum runs over (c, kh, kw) in order, as its reference twin does
// (kernels/ref/conv2d_rows.cpp).
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>

#include "kernels/conv2d.h"
#include "kernels/cpu/parallel.h"

// GCC 12's _mm512_max_ps / _mm512_min_ps pass _mm512_undefined_ps() as their unused merge
// source, which -Wmaybe-uninitialized reports once they are inlined.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace convnet::kernels::cpu {

namespace {

constexpr int kRwLanes = 16;
constexpr int kRwMaxVecs = 4;  // 64 pixels per row at most
constexpr int kRwMaxKW = 11;   // kernel widths with precomputed masks
constexpr int kRwMaxTile = 8;  // output channels per tile, at most

struct RwRow {
  const float* x;  // image n, channel 0, row 0
  const float* w;  // the tile's first output channel
  int64_t C, H, W, KH, KW, DH, DW;
  int64_t plane, wstride;  // floats between input channels, between output channels' weights
  int64_t ih0, iw0;        // input row of kh = 0, input column of pixel 0 at kw = 0
  const __mmask16* mask;   // [kw][v]: the lanes inside the input row
  const float* b;          // the tile's bias, or null
  const ConvPostOps* post;
  float* y;         // output channel oc0, row oh, column 0
  int64_t ystride;  // floats between output channels
  __mmask16 store[kRwMaxVecs];
};

template <int OT, int VW>
__attribute__((target("avx512f"))) void rw_tile(const RwRow& a) {
  __m512 acc[OT][VW];
#pragma GCC unroll 8
  for (int o = 0; o < OT; ++o)
#pragma GCC unroll 4
    for (int v = 0; v < VW; ++v) acc[o][v] = _mm512_setzero_ps();
  const int64_t KHW = a.KH * a.KW;
  for (int64_t c = 0; c < a.C; ++c)
    for (int64_t kh = 0; kh < a.KH; ++kh) {
      const int64_t ih = a.ih0 + kh * a.DH;
      if (ih < 0 || ih >= a.H) continue;
      const float* row = a.x + c * a.plane + ih * a.W + a.iw0;
      const float* wk = a.w + c * KHW + kh * a.KW;
      for (int64_t kw = 0; kw < a.KW; ++kw) {
        __m512 xv[VW];
#pragma GCC unroll 4
        for (int v = 0; v < VW; ++v)
          xv[v] = _mm512_maskz_loadu_ps(a.mask[kw * kRwMaxVecs + v], row + kw * a.DW + v * kRwLanes);
#pragma GCC unroll 8
        for (int o = 0; o < OT; ++o) {
          const __m512 wv = _mm512_set1_ps(wk[o * a.wstride + kw]);
#pragma GCC unroll 4
          for (int v = 0; v < VW; ++v) acc[o][v] = _mm512_fmadd_ps(wv, xv[v], acc[o][v]);
        }
      }
    }
  const ConvPostOps& post = *a.post;
  const __m512 zero = _mm512_setzero_ps(), lo = _mm512_set1_ps(post.lo), hi = _mm512_set1_ps(post.hi);
#pragma GCC unroll 8
  for (int o = 0; o < OT; ++o) {
    const __m512 bias = a.b ? _mm512_set1_ps(a.b[o]) : zero;
#pragma GCC unroll 4
    for (int v = 0; v < VW; ++v) {
      float* dst = a.y + o * a.ystride + v * kRwLanes;
      __m512 s = _mm512_add_ps(acc[o][v], bias);
      if (post.sum) s = _mm512_add_ps(s, _mm512_maskz_loadu_ps(a.store[v], dst));
      if (post.act == ConvPostOps::kRelu) s = _mm512_max_ps(s, zero);
      if (post.act == ConvPostOps::kClip) s = _mm512_min_ps(_mm512_max_ps(s, lo), hi);
      _mm512_mask_storeu_ps(dst, a.store[v], s);
    }
  }
}

using RwTile = void (*)(const RwRow&);
using RwTiles = std::array<RwTile, kRwMaxTile + 1>;  // by output channels
template <int VW, int... O>
constexpr RwTiles rw_tiles(std::integer_sequence<int, O...>) {
  return {nullptr, &rw_tile<O + 1, VW>...};
}
// [VW][OT]; OT up to 8 (VW <= 2), 6 (VW = 3: 18 accumulators), 5 (VW = 4: 20)
const std::array<RwTiles, kRwMaxVecs + 1> kRwTiles = {
    RwTiles{}, rw_tiles<1>(std::make_integer_sequence<int, 8>{}), rw_tiles<2>(std::make_integer_sequence<int, 8>{}),
    rw_tiles<3>(std::make_integer_sequence<int, 6>{}), rw_tiles<4>(std::make_integer_sequence<int, 5>{})};
constexpr int kRwTileMax[kRwMaxVecs + 1] = {0, 8, 8, 6, 5};

bool rw_enabled() {
  static const bool on = !env_is_zero("CONVNET_ROWS");
  return on;
}

}  // namespace

bool rows_supports(const Conv2dGeom& g, int32_t xb, int32_t yb) {
  return cpu_has_avx512() && g.G == 1 && xb == 0 && yb == 0 && g.SW == 1 && g.KW <= kRwMaxKW &&
         g.OW <= kRwMaxVecs * kRwLanes && g.N > 0 && g.C > 0 && g.OC > 0 && g.OH > 0 && g.OW > 0;
}

bool rows_pays(const Conv2dGeom& g, int32_t xb, int32_t yb) {
  // A network's first layer (up to 4 input channels) whose outputs stay plain: LeNet-5's
  // 1 -> 6, 5x5 on 28x28, against oneDNN's padded-block kernel and its reorder back.
  return rw_enabled() && rows_supports(g, xb, yb) && g.C <= 4;
}

void conv2d_fwd_rows(const Conv2dGeom& g, const float* x, const float* w, const float* b, float* y) {
  const int VW = static_cast<int>((g.OW + kRwLanes - 1) / kRwLanes);
  const int64_t tile_max = kRwTileMax[VW], tiles = (g.OC + tile_max - 1) / tile_max;
  const int64_t KHW = g.KH * g.KW, HW = g.H * g.W, OHW = g.OH * g.OW;
  // Lanes inside the input row, per (kw, vector): iw = v * 16 + lane - PW + kw * DW in [0, W),
  // and the pixel below OW.
  std::array<__mmask16, kRwMaxKW * kRwMaxVecs> mask{};
  __mmask16 store[kRwMaxVecs] = {};
  for (int v = 0; v < VW; ++v)
    for (int l = 0; l < kRwLanes; ++l) {
      const int64_t ow = v * kRwLanes + l;
      if (ow >= g.OW) continue;
      store[v] = static_cast<__mmask16>(store[v] | (1u << l));
      for (int64_t kw = 0; kw < g.KW; ++kw) {
        const int64_t iw = ow - g.PW + kw * g.DW;
        if (iw >= 0 && iw < g.W)
          mask[kw * kRwMaxVecs + v] = static_cast<__mmask16>(mask[kw * kRwMaxVecs + v] | (1u << l));
      }
    }
  const auto unit = [&](int64_t u) {
    const int64_t t = u % tiles, oh = (u / tiles) % g.OH, n = u / (tiles * g.OH);
    const int64_t oc0 = t * g.OC / tiles, oc1 = (t + 1) * g.OC / tiles;
    RwRow a;
    a.x = x + n * g.C * HW;
    a.w = w + oc0 * g.C * KHW;
    a.C = g.C, a.H = g.H, a.W = g.W, a.KH = g.KH, a.KW = g.KW, a.DH = g.DH, a.DW = g.DW;
    a.plane = HW, a.wstride = g.C * KHW;
    a.ih0 = oh * g.SH - g.PH, a.iw0 = -g.PW;
    a.mask = mask.data();
    a.b = b ? b + oc0 : nullptr;
    a.post = &g.post;
    a.y = y + (n * g.OC + oc0) * OHW + oh * g.OW;
    a.ystride = OHW;
    std::copy(store, store + kRwMaxVecs, a.store);
    kRwTiles[VW][oc1 - oc0](a);
  };
  const int64_t units = g.N * g.OH * tiles;
  const double flops = 2.0 * static_cast<double>(g.N * g.OC * OHW) * static_cast<double>(g.C * KHW);
  parallel_units(units, flops, unit);
}

}  // namespace convnet::kernels::cpu
