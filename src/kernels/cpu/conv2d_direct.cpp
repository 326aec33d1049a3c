// conv2d forward, direct, on activations in blocks of 8 channels (nChw8c: the layout of a
// network on an AVX2 CPU), for any kernel size, stride, padding and dilation.
//
// Why: on AVX2, oneDNN 2.6's direct kernel (jit:avx2) runs layers with 16 output channels
// (ResNet-20's first stage, 40% of the network) at about 74 GFLOP/s of a core's ~100, where
// it reaches 92-95 with 32 or more; per node at batch 32, ONNX Runtime ran a layer of that
// stage in 1.96 ms and oneDNN in 2.03-2.52 ms (runs minutes apart on a noisy host). This
// kernel runs it at 86-90 GFLOP/s (1.78-1.85 ms); with 32 or 64 output channels it is only
// even with oneDNN, so it takes 16 (direct_pays).
//
// The kernel:
//   - packs the weights once per weight version (the packed-weights cache) into groups of 16
//     output channels: Wp[group][cb][kh][kw][c][16] (c the channel within input block cb),
//     zeros past OC;
//   - for one output row of one group, runs a register tile of R pixels (up to 6) by 16
//     channels (two vectors) along the row: per (cb, kh, kw, c), two weight vectors, R
//     broadcasts of the input, 2R FMAs. A group of 8 channels (OC % 16 == 8) runs 8-wide;
//   - each thread first copies the input rows its units read into a buffer, each row with
//     zeros on both sides (the width's padding), so that every tile of a row runs over the
//     whole kernel (a pixel alone at the edge would keep too few FMAs in flight); rows of the
//     kernel that fall in the top or bottom padding are skipped for the whole tile;
//   - adds the bias, the residual (post-op sum: y holds it) and the activation as it stores;
//   - splits (image, group, output row) units evenly between the threads.
// Every sum runs over (cb, kh, kw, c) in that order; the twin (kernels/ref/conv2d_direct.cpp)
// does the same on plain tensors, and the tests compare the two.
#include <immintrin.h>
#include <omp.h>

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

constexpr int kDcCols = 16;  // output channels per weight group
constexpr int kDcRows[17] = {0, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 12};  // tile pixels, by block

// Wp[grp][cb][kh][kw][c][j] = w[grp * 16 + j][cb * B + c][kh][kw], zero for grp * 16 + j >= OC.
void dc_pack_weights(const Conv2dGeom& g, int64_t B, const float* w, float* Wp) {
  const int64_t CB = g.C / B, KHW = g.KH * g.KW, groups = (g.OC + kDcCols - 1) / kDcCols;
  for (int64_t grp = 0; grp < groups; ++grp)
    for (int64_t cb = 0; cb < CB; ++cb)
      for (int64_t s = 0; s < KHW; ++s)
        for (int64_t c = 0; c < B; ++c)
          for (int j = 0; j < kDcCols; ++j) {
            const int64_t oc = grp * kDcCols + j, ic = cb * B + c;
            Wp[(((grp * CB + cb) * KHW + s) * B + c) * kDcCols + j] = oc < g.OC ? w[(oc * g.C + ic) * KHW + s] : 0.f;
          }
}

// What a tile needs besides its position: the image's input, its group's weights, the
// geometry in floats, and the output row to store into.
struct DcArgs {
  const float* x;   // image n, block 0, row 0, column 0
  const float* wp;  // the group's packed weights
  int64_t CB, KW;
  int64_t x_cb, x_row;   // floats between input blocks, rows
  int64_t step, dil;     // floats between the inputs of neighbouring pixels, of neighbouring kw
  int64_t w_cb, w_kh;    // floats between the weights of neighbouring blocks, kernel rows
  int64_t kh0, kh1, DH;  // the kernel rows inside the image, and their distance in input rows
  int64_t ih0;           // the input row of kernel row 0
};

// acc[r][v] over the whole kernel for R pixels whose first reads (padded) input column iw0
// for kw = 0; then the bias, the residual and the activation, stored at y (the first
// pixel's 8 or 16 channels; the second block NB == 2 at y + y_blk). With fewer than 4 pixels
// the sums are split by channel parity (U = 2 chains per accumulator) so that enough FMAs are
// in flight; the halves are added at the end.
constexpr int kDcBlock = 8;  // the AVX2 tile's activation block

template <int R, int NB>
__attribute__((target("avx2,fma"))) void dc_tile(const DcArgs& a, int64_t iw0, const float* b, const ConvPostOps& post,
                                                 float* y, int64_t y_blk) {
  constexpr int U = R < 4 ? 2 : 1;
  __m256 acc[U][R][NB];
#pragma GCC unroll 2
  for (int u = 0; u < U; ++u)
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 2
      for (int v = 0; v < NB; ++v) acc[u][r][v] = _mm256_setzero_ps();
  for (int64_t cb = 0; cb < a.CB; ++cb) {
    const float* xc = a.x + cb * a.x_cb;
    const float* wc = a.wp + cb * a.w_cb;
    for (int64_t kh = a.kh0; kh < a.kh1; ++kh) {
      const float* xr = xc + (a.ih0 + kh * a.DH) * a.x_row + iw0 * kDcBlock;
      const float* wr = wc + kh * a.w_kh;
      for (int64_t kw = 0; kw < a.KW; ++kw) {
        const float* xp = xr + kw * a.dil;
        const float* wk = wr + kw * (kDcBlock * kDcCols);
#pragma GCC unroll 8
        for (int c = 0; c < kDcBlock; ++c) {
          constexpr int u_mask = U - 1;
          const int u = c & u_mask;
          const __m256 w0 = _mm256_loadu_ps(wk + c * kDcCols);
          const __m256 w1 = NB == 2 ? _mm256_loadu_ps(wk + c * kDcCols + 8) : w0;
#pragma GCC unroll 8
          for (int r = 0; r < R; ++r) {
            const __m256 xv = _mm256_broadcast_ss(xp + r * a.step + c);
            acc[u][r][0] = _mm256_fmadd_ps(xv, w0, acc[u][r][0]);
            if constexpr (NB == 2) acc[u][r][1] = _mm256_fmadd_ps(xv, w1, acc[u][r][1]);
          }
        }
      }
    }
  }
  const __m256 zero = _mm256_setzero_ps(), lo = _mm256_set1_ps(post.lo), hi = _mm256_set1_ps(post.hi);
#pragma GCC unroll 2
  for (int v = 0; v < NB; ++v) {
    const __m256 bias = b ? _mm256_loadu_ps(b + v * kDcBlock) : zero;
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      float* dst = y + v * y_blk + r * kDcBlock;
      __m256 s = acc[0][r][v];
      if constexpr (U == 2) s = _mm256_add_ps(s, acc[1][r][v]);
      s = _mm256_add_ps(s, bias);
      if (post.sum) s = _mm256_add_ps(s, _mm256_loadu_ps(dst));
      if (post.act == ConvPostOps::kRelu) s = _mm256_max_ps(s, zero);
      if (post.act == ConvPostOps::kClip) s = _mm256_min_ps(_mm256_max_ps(s, lo), hi);
      _mm256_storeu_ps(dst, s);
    }
  }
}

// The AVX-512 tile, on blocks of 16: R pixels (up to 12) by the group's 16 channels, one
// vector. Per (cb, kh, kw, c), one weight vector, R broadcasts, R FMAs; with fewer than 8
// pixels the sums are split by channel parity (U = 2). Stores as dc_tile does.
template <int R>
__attribute__((target("avx512f"))) void dc_tile16(const DcArgs& a, int64_t iw0, const float* b, const ConvPostOps& post,
                                                  float* y, int64_t) {
  constexpr int B = 16, U = R < 8 ? 2 : 1;
  __m512 acc[U][R];
#pragma GCC unroll 2
  for (int u = 0; u < U; ++u)
#pragma GCC unroll 12
    for (int r = 0; r < R; ++r) acc[u][r] = _mm512_setzero_ps();
  for (int64_t cb = 0; cb < a.CB; ++cb) {
    const float* xc = a.x + cb * a.x_cb;
    const float* wc = a.wp + cb * a.w_cb;
    for (int64_t kh = a.kh0; kh < a.kh1; ++kh) {
      const float* xr = xc + (a.ih0 + kh * a.DH) * a.x_row + iw0 * B;
      const float* wr = wc + kh * a.w_kh;
      for (int64_t kw = 0; kw < a.KW; ++kw) {
        const float* xp = xr + kw * a.dil;
        const float* wk = wr + kw * (B * kDcCols);
#pragma GCC unroll 16
        for (int c = 0; c < B; ++c) {
          const int u = c & (U - 1);
          const __m512 wv = _mm512_loadu_ps(wk + c * kDcCols);
#pragma GCC unroll 12
          for (int r = 0; r < R; ++r) acc[u][r] = _mm512_fmadd_ps(_mm512_set1_ps(xp[r * a.step + c]), wv, acc[u][r]);
        }
      }
    }
  }
  const __m512 zero = _mm512_setzero_ps(), lo = _mm512_set1_ps(post.lo), hi = _mm512_set1_ps(post.hi);
  const __m512 bias = b ? _mm512_loadu_ps(b) : zero;
#pragma GCC unroll 12
  for (int r = 0; r < R; ++r) {
    float* dst = y + r * B;
    __m512 s = acc[0][r];
    if constexpr (U == 2) s = _mm512_add_ps(s, acc[1][r]);
    s = _mm512_add_ps(s, bias);
    if (post.sum) s = _mm512_add_ps(s, _mm512_loadu_ps(dst));
    if (post.act == ConvPostOps::kRelu) s = _mm512_max_ps(s, zero);
    if (post.act == ConvPostOps::kClip) s = _mm512_min_ps(_mm512_max_ps(s, lo), hi);
    _mm512_storeu_ps(dst, s);
  }
}

using DcTile = void (*)(const DcArgs&, int64_t, const float*, const ConvPostOps&, float*, int64_t);
using DcTiles = std::array<DcTile, 13>;  // by pixels
constexpr DcTiles kDcTiles8[2] = {
    {nullptr, &dc_tile<1, 1>, &dc_tile<2, 1>, &dc_tile<3, 1>, &dc_tile<4, 1>, &dc_tile<5, 1>, &dc_tile<6, 1>},
    {nullptr, &dc_tile<1, 2>, &dc_tile<2, 2>, &dc_tile<3, 2>, &dc_tile<4, 2>, &dc_tile<5, 2>, &dc_tile<6, 2>}};
template <int... R>
constexpr DcTiles dc_tiles16(std::integer_sequence<int, R...>) {
  return {nullptr, &dc_tile16<R + 1>...};
}
constexpr DcTiles kDcTiles16 = dc_tiles16(std::make_integer_sequence<int, 12>{});

// The padded input of one image: its rows [0, H) of every input block, each row with PW zero
// pixels before it and enough after (WP pixels in all), so that every output pixel's window
// lies inside its row.
struct DcPadded {
  int64_t WP;  // pixels per padded row
  float* x;    // block 0, row 0, padded column 0
};

// Copies rows [r0, r1) of image n (every input block of B channels) into p.
void dc_pad_rows(const Conv2dGeom& g, int64_t B, const float* x, int64_t n, int64_t r0, int64_t r1, const DcPadded& p) {
  const int64_t CB = g.C / B;
  for (int64_t cb = 0; cb < CB; ++cb)
    for (int64_t ih = r0; ih < r1; ++ih) {
      const float* src = x + ((n * CB + cb) * g.H + ih) * g.W * B;
      float* dst = p.x + (cb * g.H + ih) * p.WP * B;
      std::fill(dst, dst + g.PW * B, 0.f);
      std::copy(src, src + g.W * B, dst + g.PW * B);
      std::fill(dst + (g.PW + g.W) * B, dst + p.WP * B, 0.f);
    }
}

// One output row oh of image n and group grp, from the image's padded rows (blocks of B).
void dc_row(const Conv2dGeom& g, int64_t B, const DcPadded& p, const float* Wp, const float* b, float* y, int64_t n,
            int64_t grp, int64_t oh) {
  const int64_t CB = g.C / B, OCB = g.OC / B, KHW = g.KH * g.KW;
  DcArgs a;
  a.x = p.x;
  a.wp = Wp + grp * CB * KHW * B * kDcCols;
  a.CB = CB, a.KW = g.KW;
  a.x_cb = g.H * p.WP * B, a.x_row = p.WP * B;
  a.step = g.SW * B, a.dil = g.DW * B;
  a.w_cb = KHW * B * kDcCols, a.w_kh = g.KW * B * kDcCols;
  a.DH = g.DH, a.ih0 = oh * g.SH - g.PH;
  // Kernel rows with ih = ih0 + kh * DH inside [0, H).
  a.kh0 = a.ih0 >= 0 ? 0 : (-a.ih0 + g.DH - 1) / g.DH;
  a.kh1 = std::clamp<int64_t>((g.H - a.ih0 + g.DH - 1) / g.DH, 0, g.KH);
  const int64_t ob = grp * (kDcCols / B);
  const int NB = static_cast<int>(std::min<int64_t>(kDcCols / B, OCB - ob));
  const int64_t y_blk = g.OH * g.OW * B;
  float* yrow = y + ((n * OCB + ob) * g.OH + oh) * g.OW * B;
  const float* brow = b ? b + grp * kDcCols : nullptr;
  const DcTiles& tile = B == 16 ? kDcTiles16 : kDcTiles8[NB - 1];
  // The row in tiles of equal size (14 pixels, AVX2: 5, 5, 4, not 6, 6, 2); pixel ow's window
  // starts at padded column ow * SW.
  const int64_t tiles = (g.OW + kDcRows[B] - 1) / kDcRows[B];
  for (int64_t t = 0, ow = 0; t < tiles; ++t) {
    const int R = static_cast<int>(g.OW * (t + 1) / tiles - g.OW * t / tiles);
    tile[R](a, ow * g.SW, brow, g.post, yrow + ow * B, y_blk);
    ow += R;
  }
}

// CONVNET_DIRECT=0 turns the kernel off (oneDNN's direct kernels then run every shape).
bool dc_enabled() {
  static const bool on = !env_is_zero("CONVNET_DIRECT");
  return on;
}

const char kDcPacking[2] = {};  // the packed-weights cache's tags of this kernel's packings (blocks of 8, 16)

}  // namespace

bool direct_supports(const Conv2dGeom& g, int32_t xb, int32_t yb) {
  const bool isa = xb == 8 ? cpu_has_avx2_fma() : xb == 16 && cpu_has_avx512();
  return isa && g.G == 1 && yb == xb && g.C % xb == 0 && g.OC % xb == 0 && g.N > 0 && g.C > 0 && g.OC > 0 && g.OH > 0 &&
         g.OW > 0;
}

bool direct_pays(const Conv2dGeom& g, int32_t xb, int32_t yb) {
  if (!dc_enabled() || !direct_supports(g, xb, yb)) return false;
  // Per layer against oneDNN's jit:avx2 on one and two threads (batch 1 and 8): 1.15-1.3x
  // with 16 output channels (ResNet-20's first stage; 1.5-2.6x on 8x8 and 4x4 maps); even
  // (0.92-1.04x) with 32 or 64; behind with 8 input channels, on 1x1 kernels (0.55-0.7x) and
  // on strided layers in the network (0.94x).
  const bool shape = g.KH * g.KW > 1 && g.SH == 1 && g.SW == 1 && g.C >= 16 && g.C <= 64 && g.OC == 16;
  if (xb == 8) return shape;
  // AVX-512, blocks of 16, 3x3 16 -> 16 channels against jit:avx512_core (at ~96% of a core's
  // FMA peak on narrow maps): 1.15-1.25x with several images on maps 32 or more wide (oneDNN
  // drops to 75%: 32x32 at batch 2 to 32 on 1 and 2 threads, 40x40, 56x56); 0.87-0.94x on one
  // image, and on maps 28 or less wide.
  return shape && g.N >= 2 && g.OW >= 32;
}

void conv2d_fwd_direct(const Conv2dGeom& g, const float* x, int32_t block, const float* w, const float* b, float* y) {
  const int64_t B = block, CB = g.C / B, KHW = g.KH * g.KW, groups = (g.OC + kDcCols - 1) / kDcCols;
  const size_t packed_bytes = sizeof(float) * static_cast<size_t>(groups * CB * KHW * B * kDcCols);
  auto pack = [&](void* dst) { dc_pack_weights(g, B, w, static_cast<float*>(dst)); };
  auto Wp = onednn::packed_weights(&kDcPacking[B == 16], w, g.w_id, g.w_version, packed_bytes, std::ref(pack));
  const float* wp = static_cast<const float*>(Wp->data());
  // Each thread pads the rows its units read (an image's rows at most) into its own buffer.
  DcPadded pad;
  pad.WP = std::max(g.PW + g.W, (g.OW - 1) * g.SW + (g.KW - 1) * g.DW + 1);
  const int64_t pad_floats = CB * g.H * pad.WP * B;
  const int64_t units = g.N * groups * g.OH;
  const auto run = [&](int64_t u0, int64_t u1, float* buf) {
    DcPadded p = pad;
    p.x = buf;
    for (int64_t u = u0; u < u1;) {
      // The units of image n in [u, u1): their output rows, then the input rows they read.
      const int64_t per_image = groups * g.OH, n = u / per_image, end = std::min(u1, (n + 1) * per_image);
      const bool all_rows = end - u >= g.OH || (u % g.OH) > ((end - 1) % g.OH);
      const int64_t oh0 = all_rows ? 0 : u % g.OH, oh1 = all_rows ? g.OH - 1 : (end - 1) % g.OH;
      const int64_t r0 = std::max<int64_t>(0, oh0 * g.SH - g.PH),
                    r1 = std::min<int64_t>(g.H, oh1 * g.SH - g.PH + (g.KH - 1) * g.DH + 1);
      if (r0 < r1) dc_pad_rows(g, B, x, n, r0, r1, p);
      for (; u < end; ++u) dc_row(g, B, p, wp, b, y, n, (u / g.OH) % groups, u % g.OH);
    }
  };
  // Threads: units split evenly, each thread at least 64 KFLOP.
  const double flops = 2.0 * static_cast<double>(g.N * g.OC * g.OH * g.OW) * static_cast<double>(g.C * KHW);
  const int nt =
      static_cast<int>(std::min<int64_t>(threads_for(static_cast<int64_t>(std::min(flops, 1e18)), 64000), units));
  onednn::Temp scratch(sizeof(float) * static_cast<size_t>(pad_floats * nt));
  float* bufs = static_cast<float*>(scratch.get());
  if (nt == 1) return run(0, units, bufs);
#pragma omp parallel num_threads(nt)
  {
    const int64_t t = omp_get_thread_num(), T = omp_get_num_threads();
    run(units * t / T, units * (t + 1) / T, bufs + t * pad_floats);
  }
}

}  // namespace convnet::kernels::cpu
