// conv2d forward for 1x1 convolutions on few pixels, on a CPU with AVX-512: MobileNetV2's
// pointwise layers at batch 1 (64 pixels on an 8x8 map down to one pixel), where oneDNN's
// jit_1x1:avx512_core ran at 40-50 GFLOP/s of a core's 117 and ONNX Runtime's 1x1 kernels
// were 1.3-1.4x faster.
//
// The convolution is the GEMM Y (M x OC) = X (M x C) W (C x OC), M = N * OH * OW output pixels,
// each reading the input pixel under it (any stride, no padding). The kernel:
//   - packs W once per weight version (the packed-weights cache) into panels of 16 output
//     channels, each a contiguous C x 16 stream: Wp[panel][c][16], zeros past OC, the panel
//     count rounded up to a multiple of 4;
//   - reads X where it is, plain or in channel blocks of 8 or 16: no copy;
//   - runs an R x 16V register tile (V = 1, 2 or 4 panels side by side, R up to 12 / 12 / 6
//     pixels; R * V accumulators): per input channel c, V weight vectors, R broadcasts of
//     X's pixels, R * V FMAs, over c in order;
//   - adds the bias, the residual (post-op sum) and the activation as it stores the tile, in
//     the output's layout (plain, or blocks of 8 or 16 channels);
//   - splits (panel group, pixel tile) units between the threads, group-major, so that a
//     thread streams whole groups of weights.
// Its reference twin is kernels/ref/conv2d_pointwise.cpp: the same sums over c in order.
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <utility>

#include "kernels/conv2d.h"
#include "kernels/cpu/onednn_common.h"
#include "kernels/cpu/parallel.h"

// GCC 12's _mm512_max_ps / _mm512_min_ps pass _mm512_undefined_ps() as their unused merge
// source, which -Wmaybe-uninitialized reports once they are inlined.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace convnet::kernels::cpu {

namespace {

constexpr int kPwCols = 16;          // output channels per panel (one AVX-512 vector)
constexpr int64_t kPwPrefetch = 32;  // weight rows (cache lines) ahead, for the one-pixel streams

// Wp[p][c][j] = w[p * 16 + j][c]; zero for p * 16 + j >= OC.
void pw_pack_weights(const Conv2dGeom& g, const float* w, float* Wp, int64_t p0, int64_t p1) {
  const int64_t C = g.C;
  for (int64_t p = p0; p < p1; ++p) {
    float* dst = Wp + p * C * kPwCols;
    for (int j = 0; j < kPwCols; ++j) {
      const int64_t oc = p * kPwCols + j;
      for (int64_t c = 0; c < C; ++c) dst[c * kPwCols + j] = oc < g.OC ? w[oc * C + c] : 0.f;
    }
  }
}

// Where a tile's sums go: with y (an output in blocks of 16), panel v's pixel r to
// y + v * ystride + r * 16, with the bias and the post-ops, for the first `panels` panels;
// else to T[r][v * 16 + j] as they are (pw_store finishes them).
struct PwOut {
  float* y;
  int64_t ystride;
  int panels;
  const float* bias;  // of the tile's first channel, or null
  const ConvPostOps* post;
  float* T;
};

// The sums over c of X[pixel q0 + r][c] Wp[panel v][c][j], for R pixels of one image (x points
// at element (c = 0, q0)) and V panels; X in channel blocks of B (1: plain), `plane` elements
// between two blocks. The pixels' B-strided addresses are immediates.
template <int R, int V, int B>
__attribute__((target("avx512f"))) void pw_tile(const float* x, int64_t C, int64_t plane, const float* wp,
                                                int64_t pstride, const PwOut& out) {
  // With fewer than 8 accumulators the sums run in U = 2 chains, by the parity of c within
  // its block (added at the end), to keep enough FMAs in flight.
  constexpr int U = R * V < 8 && B > 1 ? 2 : 1;
  __m512 acc[U][R][V];
#pragma GCC unroll 2
  for (int u = 0; u < U; ++u)
#pragma GCC unroll 12
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
      for (int v = 0; v < V; ++v) acc[u][r][v] = _mm512_setzero_ps();
  const int64_t blocks = C / B;
  const float* wc = wp;
  for (int64_t cb = 0; cb < blocks; ++cb) {
    const float* xc = x + cb * plane;
#pragma GCC unroll 16
    for (int i = 0; i < B; ++i, wc += kPwCols) {
      __m512 w[V];
#pragma GCC unroll 4
      for (int v = 0; v < V; ++v) {
        if (R <= 2) _mm_prefetch(reinterpret_cast<const char*>(wc + v * pstride + kPwPrefetch * kPwCols), _MM_HINT_T0);
        w[v] = _mm512_loadu_ps(wc + v * pstride);
      }
#pragma GCC unroll 12
      for (int r = 0; r < R; ++r) {
        const __m512 a = _mm512_set1_ps(xc[r * B + i]);
#pragma GCC unroll 4
        for (int v = 0; v < V; ++v) acc[i % U][r][v] = _mm512_fmadd_ps(a, w[v], acc[i % U][r][v]);
      }
    }
  }
  if (U == 2)
#pragma GCC unroll 12
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
      for (int v = 0; v < V; ++v) acc[0][r][v] = _mm512_add_ps(acc[0][r][v], acc[U - 1][r][v]);
  if (!out.y) {
#pragma GCC unroll 12
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
      for (int v = 0; v < V; ++v) _mm512_storeu_ps(out.T + (r * V + v) * kPwCols, acc[0][r][v]);
    return;
  }
  const ConvPostOps& post = *out.post;
  const __m512 zero = _mm512_setzero_ps(), lo = _mm512_set1_ps(post.lo), hi = _mm512_set1_ps(post.hi);
#pragma GCC unroll 4
  for (int v = 0; v < V; ++v) {
    if (v >= out.panels) break;
    const __m512 bias = out.bias ? _mm512_loadu_ps(out.bias + v * kPwCols) : zero;
    float* dst = out.y + v * out.ystride;
#pragma GCC unroll 12
    for (int r = 0; r < R; ++r) {
      __m512 o = _mm512_add_ps(acc[0][r][v], bias);
      if (post.sum) o = _mm512_add_ps(o, _mm512_loadu_ps(dst + r * kPwCols));
      if (post.act == ConvPostOps::kRelu) o = _mm512_max_ps(o, zero);
      if (post.act == ConvPostOps::kClip) o = _mm512_min_ps(_mm512_max_ps(o, lo), hi);
      _mm512_storeu_ps(dst + r * kPwCols, o);
    }
  }
}

using PwTile = void (*)(const float*, int64_t, int64_t, const float*, int64_t, const PwOut&);
constexpr int kPwMaxRows[5] = {0, 12, 12, 8, 6};
using PwTiles = std::array<PwTile, 13>;  // by rows, 1..12
template <int V, int B, int... R>
constexpr PwTiles pw_tiles(std::integer_sequence<int, R...>) {
  return {nullptr, &pw_tile<R + 1, V, B>...};
}
template <int B>
constexpr std::array<PwTiles, 5> pw_tiles_of_block() {  // by V: 1 to 4
  return {PwTiles{}, pw_tiles<1, B>(std::make_integer_sequence<int, 12>{}),
          pw_tiles<2, B>(std::make_integer_sequence<int, 12>{}), pw_tiles<3, B>(std::make_integer_sequence<int, 8>{}),
          pw_tiles<4, B>(std::make_integer_sequence<int, 6>{})};
}
const std::array<PwTiles, 5> kPwTiles1 = pw_tiles_of_block<1>(), kPwTiles8 = pw_tiles_of_block<8>(),
                             kPwTiles16 = pw_tiles_of_block<16>();

// Stores panel `p` of tile T (R pixels from q0 of image n, column block v of V) into y, plain
// or in blocks of 8, with the bias and the post-ops.
void pw_store(const Conv2dGeom& g, const float* T, int R, int V, int v, int64_t n, int64_t q0, int64_t p,
              const float* b, float* y, int32_t yb) {
  const int64_t OHW = g.OH * g.OW, oc0 = p * kPwCols, ncol = std::min<int64_t>(kPwCols, g.OC - oc0);
  if (ncol <= 0) return;
  const ConvPostOps& post = g.post;
  // Plain or blocks of 8: channel j of pixel q0 + r at dst_j + r * step.
  const int64_t step = yb == 0 ? 1 : yb;
  for (int64_t j = 0; j < ncol; ++j) {
    const int64_t oc = oc0 + j;
    float* dst = yb == 0 ? y + (n * g.OC + oc) * OHW + q0 : y + ((n * (g.OC / yb) + oc / yb) * OHW + q0) * yb + oc % yb;
    const float bj = b ? b[oc] : 0.f;
    for (int r = 0; r < R; ++r, dst += step)
      *dst = post.apply(T[(r * V + v) * kPwCols + j] + bj + (post.sum ? *dst : 0.f));
  }
}

bool pw_enabled() {
  static const bool on = !env_is_zero("CONVNET_POINTWISE");
  return on;
}

const char kPwPacking = 0;  // the packed-weights cache's tag of this kernel's packing

}  // namespace

bool pointwise_supports(const Conv2dGeom& g, int32_t xb, int32_t yb) {
  const auto layout_ok = [](int32_t bl, int64_t ch) { return bl == 0 || ((bl == 8 || bl == 16) && ch % bl == 0); };
  return cpu_has_avx512() && g.G == 1 && g.KH == 1 && g.KW == 1 && g.SH == 1 && g.SW == 1 && g.PH == 0 && g.PW == 0 &&
         g.OH == g.H && g.OW == g.W && layout_ok(xb, g.C) && layout_ok(yb, g.OC) && g.N > 0 && g.H > 0 && g.W > 0 &&
         g.C > 0 && g.OC > 0;
}

bool pointwise_pays(const Conv2dGeom& g, int32_t xb, int32_t yb) {
  if (!pw_enabled() || !pointwise_supports(g, xb, yb)) return false;
  // Tiles hold one image's pixels: several images of a few pixels each would stream the
  // weights once per image.
  const int64_t OHW = g.OH * g.OW;
  return g.N * OHW <= 64 && (g.N == 1 || OHW >= 8);
}

void conv2d_fwd_pointwise(const Conv2dGeom& g, const float* x, int32_t xb, const float* w, const float* b, float* y,
                          int32_t yb) {
  const int64_t C = g.C, M = g.N * g.OH * g.OW, OHW = g.OH * g.OW, HW = g.H * g.W;
  const int64_t panels = (g.OC + kPwCols - 1) / kPwCols;
  // Panels side by side in a tile: the count that leaves the fewest empty panels (MobileNetV2's
  // 144 channels: 3 x 3), the most on a tie; up to 4 for a handful of pixels (one pixel streams
  // the weights: more streams, more chains), else up to 3 (tiles of 8 pixels or more).
  const auto padded = [&](int64_t v) { return (panels + v - 1) / v * v; };
  int V = static_cast<int>(std::min<int64_t>(panels, g.OH * g.OW <= 6 ? 4 : 3));
  for (int v = V - 1; v >= 2; --v)
    if (padded(v) < padded(V)) V = v;
  // Every choice of V reads whole groups of panels: the packing holds the most of them.
  const int64_t stored = std::max({padded(2), padded(3), padded(4)});
  auto pack = [&](void* dst) {
    float* wp = static_cast<float*>(dst);
    parallel_chunks(
        stored, [&](int64_t p0, int64_t p1) { pw_pack_weights(g, w, wp, p0, p1); },
        std::max<int64_t>(1, kGrain / (C * kPwCols)));
  };
  auto Wp =
      onednn::packed_weights(&kPwPacking, w, g.w_id, g.w_version, sizeof(float) * stored * C * kPwCols, std::ref(pack));
  const float* wp = static_cast<const float*>(Wp->data());
  const int max_rows = kPwMaxRows[V];
  // Each image's pixels in tiles of nearly equal rows (14: 7 + 7, not 12 + 2).
  const int64_t per_image = (OHW + max_rows - 1) / max_rows, tiles = g.N * per_image;
  const int64_t groups = (panels + V - 1) / V;
  const PwTiles& tile_fns = (xb == 0 ? kPwTiles1 : xb == 8 ? kPwTiles8 : kPwTiles16)[V];
  const int64_t B = xb == 0 ? 1 : xb, plane = HW * B;
  const auto unit = [&](int64_t u) {
    alignas(64) float T[12 * 2 * kPwCols];
    const int64_t gi = u / tiles, t = u % tiles, n = t / per_image, k = t % per_image;
    const int64_t q0 = k * OHW / per_image;
    const int R = static_cast<int>((k + 1) * OHW / per_image - q0);
    const int64_t p0 = gi * V;
    const bool direct = yb == kPwCols;
    const PwOut out{direct ? y + ((n * panels + p0) * OHW + q0) * kPwCols : nullptr,
                    OHW * kPwCols,
                    static_cast<int>(std::min<int64_t>(V, panels - p0)),
                    b ? b + p0 * kPwCols : nullptr,
                    &g.post,
                    T};
    tile_fns[R](x + n * C * HW + q0 * B, C, plane, wp + p0 * C * kPwCols, C * kPwCols, out);
    if (!direct)
      for (int v = 0; v < V; ++v) pw_store(g, T, R, V, v, n, q0, p0 + v, b, y, yb);
  };
  const int64_t units = groups * tiles;
  const double flops = 2.0 * static_cast<double>(M * C) * static_cast<double>(g.OC);
  parallel_units(units, flops, unit);
}

}  // namespace convnet::kernels::cpu
