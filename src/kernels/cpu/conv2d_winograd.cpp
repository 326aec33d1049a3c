// conv2d forward by Winograd's minimal filtering F(2x2, 3x3) (Lavin and Gray, "Fast Algorithms
// for Convolutional Neural Networks", CVPR 2016). A 3x3, stride-1 convolution gives each 2x2
// block of outputs (a tile) from the 4x4 block of inputs under it, with 16 multiplications per
// (input, output) channel pair instead of 36:
//   V = B^T d B        each 4x4 input tile d, per input channel
//   U = G k G^T        each 3x3 kernel k, per channel pair (packed once per weight version)
//   M[xi] = V[xi] U[xi]    16 GEMMs, (tiles x C) times (C x OC), on OpenBLAS, xi = 4*i + j
//   Y = A^T M A        the 2x2 outputs of a tile, per output channel; + bias, then the post-ops
// with
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],  G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1],
//   A^T = [1 1 1 0; 0 1 -1 -1].
// The activations are channel-blocked (nChw8c or nChw16c): a block of channels is one vector,
// so the transforms work on whole vectors, and what they store are already rows of the GEMM's
// operands (channels contiguous). The tiles are cut into chunks, one chunk per thread at a
// time, so that a chunk's transformed inputs and products stay in the caches between the
// three steps.
#include <cblas.h>
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>

#include "kernels/conv2d.h"
#include "kernels/cpu/onednn_common.h"
#include "kernels/cpu/parallel.h"

namespace convnet::kernels::cpu {

namespace {

// Tiles per chunk, at most: with the GEMMs on OpenBLAS (over 64 input channels) 128 (measured:
// 32-128 all do well, 128 best); with our own register tile, 24, so that a chunk's transformed
// inputs and products stay in L1 (16 channels: 1.3-1.4x faster than with 128, 32 and 64
// channels 1.05-1.2x).
constexpr int64_t kWinoMaxChunkBlas = 128,
                  kWinoMaxChunkSmall = 24;  // tiles per chunk, at most (measured: 32-128 all do well)
constexpr int64_t kWinoMinChunk = 32;   // fewer tiles per thread: the threads share one chunk's steps

// One chunk of tiles of one call.
struct WinoChunk {
  const Conv2dGeom* g;
  const float* x;
  const float* bias;  // may be null
  float* y;
  float* V;        // [16][tiles][C]
  float* M;        // [16][tiles][OC]
  int64_t t0, tn;  // first tile, tiles in the chunk
  int64_t TH, TW;  // tiles per column and per row of an image
  int64_t b0, b1;  // the channel blocks to transform: input blocks (wino_input), output blocks (wino_output)
};

// U[xi][c][oc] = (G k G^T)[i][j] for the kernel k of (oc, c), for input channels [c0, c1).
// The kernel of (oc, c) is w[oc][c], or with `adjoint` w[c][oc] turned by 180 degrees: the
// convolution that maps output gradients to input gradients (w of shape (C, OC, 3, 3) then).
void wino_pack_weights(int64_t OC, int64_t C, const float* w, float* U, int64_t c0, int64_t c1, bool adjoint) {
  for (int64_t c = c0; c < c1; ++c)
    for (int64_t oc = 0; oc < OC; ++oc) {
      float k[9];
      if (adjoint)
        for (int r = 0; r < 9; ++r) k[r] = w[(c * OC + oc) * 9 + 8 - r];
      else
        std::memcpy(k, w + (oc * C + c) * 9, sizeof k);
      float t[4][3];  // G k
      for (int j = 0; j < 3; ++j) {
        t[0][j] = k[j];
        t[1][j] = 0.5f * (k[j] + k[3 + j] + k[6 + j]);
        t[2][j] = 0.5f * (k[j] - k[3 + j] + k[6 + j]);
        t[3][j] = k[6 + j];
      }
      for (int i = 0; i < 4; ++i) {
        const float u[4] = {t[i][0], 0.5f * (t[i][0] + t[i][1] + t[i][2]), 0.5f * (t[i][0] - t[i][1] + t[i][2]),
                            t[i][2]};
        for (int j = 0; j < 4; ++j) U[((i * 4 + j) * C + c) * OC + oc] = u[j];
      }
    }
}

// The input transform of a chunk: V[xi][tile][c] for every tile of the chunk and channel.
template <int B>
[[gnu::always_inline]] inline void wino_input(const WinoChunk& k) {
  typedef float Vec __attribute__((vector_size(4 * B)));
  const Conv2dGeom& g = *k.g;
  const int64_t CB = g.C / B, plane = g.H * g.W * B, xi_stride = k.tn * g.C;
  const int64_t cb0 = k.b0, cb1 = std::min(k.b1, CB);
  for (int64_t tl = 0; tl < k.tn; ++tl) {
    const int64_t t = k.t0 + tl, n = t / (k.TH * k.TW), r = t % (k.TH * k.TW);
    const int64_t ih0 = (r / k.TW) * 2 - g.PH, iw0 = (r % k.TW) * 2 - g.PW;
    const bool inside = ih0 >= 0 && ih0 + 4 <= g.H && iw0 >= 0 && iw0 + 4 <= g.W;
    for (int64_t cb = cb0; cb < cb1; ++cb) {
      const float* xp = k.x + (n * CB + cb) * plane;
      Vec d[4][4];
      for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j) {
          const int64_t ih = ih0 + i, iw = iw0 + j;
          if (inside || (ih >= 0 && ih < g.H && iw >= 0 && iw < g.W))
            std::memcpy(&d[i][j], xp + (ih * g.W + iw) * B, sizeof(Vec));
          else
            d[i][j] = Vec{};
        }
      Vec s[4][4];  // B^T d
      for (int j = 0; j < 4; ++j) {
        s[0][j] = d[0][j] - d[2][j];
        s[1][j] = d[1][j] + d[2][j];
        s[2][j] = d[2][j] - d[1][j];
        s[3][j] = d[1][j] - d[3][j];
      }
      float* v = k.V + tl * g.C + cb * B;
      for (int i = 0; i < 4; ++i) {  // (B^T d) B, row i
        const Vec u[4] = {s[i][0] - s[i][2], s[i][1] + s[i][2], s[i][2] - s[i][1], s[i][1] - s[i][3]};
        for (int j = 0; j < 4; ++j) std::memcpy(v + (i * 4 + j) * xi_stride, &u[j], sizeof(Vec));
      }
    }
  }
}

// The output transform of a chunk, with the bias and the post-ops (kernels/conv2d.h).
template <int B>
[[gnu::always_inline]] inline void wino_output(const WinoChunk& k) {
  typedef float Vec __attribute__((vector_size(4 * B)));
  const Conv2dGeom& g = *k.g;
  const ConvPostOps& post = g.post;
  const int64_t OCB = g.OC / B, plane = g.OH * g.OW * B, xi_stride = k.tn * g.OC;
  const Vec zero = Vec{}, lo = zero + post.lo, hi = zero + post.hi;
  const int64_t ob0 = k.b0, ob1 = std::min(k.b1, OCB);
  for (int64_t tl = 0; tl < k.tn; ++tl) {
    const int64_t t = k.t0 + tl, n = t / (k.TH * k.TW), r = t % (k.TH * k.TW);
    const int64_t oh0 = (r / k.TW) * 2, ow0 = (r % k.TW) * 2;
    for (int64_t ob = ob0; ob < ob1; ++ob) {
      const float* m = k.M + tl * g.OC + ob * B;
      Vec mm[4][4];
      for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j) std::memcpy(&mm[i][j], m + (i * 4 + j) * xi_stride, sizeof(Vec));
      Vec s[2][4];  // A^T M
      for (int j = 0; j < 4; ++j) {
        s[0][j] = mm[0][j] + mm[1][j] + mm[2][j];
        s[1][j] = mm[1][j] - mm[2][j] - mm[3][j];
      }
      Vec bias = zero;
      if (k.bias) std::memcpy(&bias, k.bias + ob * B, sizeof(Vec));
      float* yp = k.y + (n * OCB + ob) * plane;
      for (int i = 0; i < 2; ++i) {
        if (oh0 + i >= g.OH) break;
        const Vec o[2] = {s[i][0] + s[i][1] + s[i][2] + bias, s[i][1] - s[i][2] - s[i][3] + bias};
        for (int j = 0; j < 2; ++j) {
          if (ow0 + j >= g.OW) break;
          float* dst = yp + ((oh0 + i) * g.OW + ow0 + j) * B;
          Vec v = o[j];
          if (post.sum) {
            Vec before;
            std::memcpy(&before, dst, sizeof(Vec));
            v += before;
          }
          if (post.act == ConvPostOps::kRelu) v = v > zero ? v : zero;
          if (post.act == ConvPostOps::kClip) v = v < lo ? lo : (v > hi ? hi : v);
          std::memcpy(dst, &v, sizeof(Vec));
        }
      }
    }
  }
}

// M (T x OC) = V (T x C) U (C x OC), row-major, OC a multiple of 8: the GEMMs of layers with
// few input channels, where OpenBLAS spends more on packing its operands than on the products
// (with C = 16 a GEMM has 16 products per output). A register tile of R rows by 8 or 16
// columns, the whole of C at once (U's panel, C x 16 floats, stays in L1 for C <= 64).
// Row r of the tile: its two accumulators a##r##0 (columns 0-7) and a##r##1 (8-15), named
// variables (an array of them went through the stack on every step).
#define CONVNET_WINO_ROW(r)                                       \
  {                                                               \
    const __m256 v = _mm256_broadcast_ss(V + (r)*C + c);          \
    a##r##0 = _mm256_fmadd_ps(v, u0, a##r##0);                    \
    if constexpr (Two) a##r##1 = _mm256_fmadd_ps(v, u1, a##r##1); \
  }
#define CONVNET_WINO_STORE(r)                                     \
  {                                                               \
    _mm256_storeu_ps(M + (r)*OC, a##r##0);                        \
    if constexpr (Two) _mm256_storeu_ps(M + (r)*OC + 8, a##r##1); \
  }
template <bool Two>
__attribute__((target("avx2,fma"))) inline void wino_tile6(int64_t C, int64_t OC, const float* V, const float* U,
                                                           float* M) {
  __m256 a00 = _mm256_setzero_ps(), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00,
         a40 = a00, a41 = a00, a50 = a00, a51 = a00;
  for (int64_t c = 0; c < C; ++c) {
    const __m256 u0 = _mm256_loadu_ps(U + c * OC), u1 = Two ? _mm256_loadu_ps(U + c * OC + 8) : u0;
    CONVNET_WINO_ROW(0)
    CONVNET_WINO_ROW(1) CONVNET_WINO_ROW(2) CONVNET_WINO_ROW(3) CONVNET_WINO_ROW(4) CONVNET_WINO_ROW(5)
  }
  CONVNET_WINO_STORE(0)
  CONVNET_WINO_STORE(1) CONVNET_WINO_STORE(2) CONVNET_WINO_STORE(3) CONVNET_WINO_STORE(4) CONVNET_WINO_STORE(5)
}
template <bool Two>
__attribute__((target("avx2,fma"))) inline void wino_tile1(int64_t C, int64_t OC, const float* V, const float* U,
                                                           float* M) {
  __m256 a00 = _mm256_setzero_ps(), a01 = a00;
  for (int64_t c = 0; c < C; ++c) {
    const __m256 u0 = _mm256_loadu_ps(U + c * OC), u1 = Two ? _mm256_loadu_ps(U + c * OC + 8) : u0;
    CONVNET_WINO_ROW(0)
  }
  CONVNET_WINO_STORE(0)
}
#undef CONVNET_WINO_ROW
#undef CONVNET_WINO_STORE

template <bool Two>
__attribute__((target("avx2,fma"))) void wino_gemm_panel(int64_t T, int64_t C, int64_t OC, const float* V,
                                                         const float* U, float* M) {
  int64_t t = 0;
  for (; t + 6 <= T; t += 6) wino_tile6<Two>(C, OC, V + t * C, U, M + t * OC);
  for (; t < T; ++t) wino_tile1<Two>(C, OC, V + t * C, U, M + t * OC);
}

void wino_gemm_small(int64_t T, int64_t C, int64_t OC, const float* V, const float* U, float* M) {
  int64_t o = 0;
  for (; o + 16 <= OC; o += 16) wino_gemm_panel<true>(T, C, OC, V, U + o, M + o);
  if (o < OC) wino_gemm_panel<false>(T, C, OC, V, U + o, M + o);
}

constexpr int64_t kWinoSmallC = 64;  // up to this many input channels, wino_gemm_small

// The transforms compiled for a vector ISA: AVX-512 for blocks of 16 where the CPU has it,
// AVX2 otherwise (a block of 16 is then two AVX2 vectors: the same arithmetic, which lets
// the tests check the 16-channel path on any x86-64 CPU with AVX2).
__attribute__((target("avx2,fma"))) void wino_input_avx2_8(const WinoChunk& k) {
  wino_input<8>(k);
}
__attribute__((target("avx2,fma"))) void wino_output_avx2_8(const WinoChunk& k) {
  wino_output<8>(k);
}
__attribute__((target("avx2,fma"))) void wino_input_avx2_16(const WinoChunk& k) {
  wino_input<16>(k);
}
__attribute__((target("avx2,fma"))) void wino_output_avx2_16(const WinoChunk& k) {
  wino_output<16>(k);
}
__attribute__((target("avx512f"))) void wino_input_avx512_16(const WinoChunk& k) {
  wino_input<16>(k);
}
__attribute__((target("avx512f"))) void wino_output_avx512_16(const WinoChunk& k) {
  wino_output<16>(k);
}

using WinoStep = void (*)(const WinoChunk&);

// CONVNET_WINOGRAD=0: never; =1: wherever it pays; unset: with blocks of 8 (AVX2 CPUs), where
// its thresholds were measured. With AVX-512, oneDNN's direct kernels are twice as fast per
// core and the trade-off has not been measured yet.
bool wino_enabled(int32_t block) {
  static const int mode = [] {
    const char* env = std::getenv("CONVNET_WINOGRAD");
    return env ? (std::string(env) == "0" ? 0 : 1) : -1;
  }();
  return mode == 1 || (mode == -1 && block == 8);
}

// Tiles per chunk: even chunks, as many per thread, each at most kWinoMaxChunk tiles.
int64_t wino_chunk(int64_t tiles, int threads, int64_t C) {
  const int64_t per_thread = (tiles + threads - 1) / threads;
  const int64_t max_chunk = C <= kWinoSmallC ? kWinoMaxChunkSmall : kWinoMaxChunkBlas;
  const int64_t rounds = (per_thread + max_chunk - 1) / max_chunk;
  return std::max<int64_t>(1, (per_thread + rounds - 1) / rounds);
}

// Fewer tiles than kWinoMinChunk per thread: the threads share each step of one chunk.
bool wino_shared(int64_t tiles, int threads) {
  return threads > 1 && (tiles + threads - 1) / threads < kWinoMinChunk;
}

// The packed-weights cache's tags of this kernel's two packings (forward, adjoint).
const char kWinoPacking[2] = {0, 0};

}  // namespace

bool winograd_supports(const Conv2dGeom& g, int32_t xb, int32_t yb) {
  return cpu_has_avx2_fma() && g.KH == 3 && g.KW == 3 && g.SH == 1 && g.SW == 1 && g.DH == 1 && g.DW == 1 && g.G == 1 &&
         (xb == 8 || xb == 16) && yb == xb && g.C % xb == 0 && g.OC % xb == 0 && g.N > 0 && g.OH > 0 && g.OW > 0 &&
         g.PH >= 0 && g.PH <= 2 && g.PW >= 0 && g.PW <= 2;
}

// Where it pays, measured against oneDNN's direct kernels (jit:avx2, 1 and 2 threads) on the
// 3x3 layers of VGG, ResNet-18/20/50 at batch 1 to 128: with 64 channels or more, from 8
// tiles up (64 channels: 1.1-1.6x from 8x8 to 56x56 maps at batch 1 to 128; 128 and more:
// batch 1 at 7x7 1.0-1.1x, 14x14 to 28x28 1.2-1.7x, batch 32 to 128 1.4-2.3x); 32 channels
// (with chunks of 24 tiles): 1.0-1.3x; 16: 0.75-1.05x, so never. Below a few MFLOP per
// thread with OpenBLAS's GEMMs, thread wake-ups decide, and the direct kernel keeps them.
bool winograd_pays(const Conv2dGeom& g, int32_t xb, int32_t yb, int threads) {
  if (!wino_enabled(xb) || !winograd_supports(g, xb, yb) || g.OC < 32 || g.C < 32) return false;
  const int64_t tiles = g.N * ((g.OH + 1) / 2) * ((g.OW + 1) / 2);
  const double flops = 18.0 * static_cast<double>(g.N * g.OH * g.OW) * static_cast<double>(g.C * g.OC);
  // With our own GEMM tile (up to 64 input channels) and chunks of 24 tiles: from 32 channels
  // and 4 MFLOP per thread. (ResNet-20's 32- and 64-channel layers at batch 1, 4.7 MFLOP, in
  // the network: 1.1x on one thread, even on two; at batch 32, 1.2-1.4x. Its 16-channel ones:
  // 1.06x on one thread at batch 1, 0.9x on two, 0.9-1.0x at batch 32.)
  if (g.C <= kWinoSmallC) return tiles >= 8 && flops >= 4e6 * threads;
  if (g.OC < 64 || g.C < 64) return false;
  // With few tiles the threads share each step of one chunk and meet at two barriers: that
  // pays from about twice the work (batch 1, 2 threads: 128->256 channels at 8x8, 38 MFLOP,
  // 0.92x; 256->256, 75 MFLOP, 1.3x).
  const bool shared = wino_shared(tiles, threads);
  if (tiles < 8 || flops < (shared ? 32e6 : 16e6) * threads) return false;
  return true;
}

namespace {

// y = conv(x, k) + b with g.post, by F(2x2, 3x3); k is w's kernels, or their adjoint.
void wino_conv(const Conv2dGeom& g, const float* x, int32_t block, const float* w, bool adjoint, const float* b,
               float* y) {
  static const bool avx512 = __builtin_cpu_supports("avx512f");
  const WinoStep in = block == 8 ? &wino_input_avx2_8 : avx512 ? &wino_input_avx512_16 : &wino_input_avx2_16;
  const WinoStep out = block == 8 ? &wino_output_avx2_8 : avx512 ? &wino_output_avx512_16 : &wino_output_avx2_16;
  static const bool blas_serial = [] {
    openblas_set_num_threads(1);  // the chunks are the parallelism
    return true;
  }();
  (void)blas_serial;

  const int64_t C = g.C, OC = g.OC;
  auto pack = [&](void* dst) {
    float* u = static_cast<float*>(dst);
    parallel_chunks(
        C, [&](int64_t c0, int64_t c1) { wino_pack_weights(OC, C, w, u, c0, c1, adjoint); },
        std::max<int64_t>(1, kGrain / (OC * 9)));
  };
  auto U = onednn::packed_weights(&kWinoPacking[adjoint], w, g.w_id, g.w_version, sizeof(float) * 16 * C * OC,
                                  std::ref(pack));
  const float* Up = static_cast<const float*>(U->data());

  const int64_t TH = (g.OH + 1) / 2, TW = (g.OW + 1) / 2, tiles = g.N * TH * TW;
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  const int64_t Tc = wino_chunk(tiles, threads, g.C), chunks = (tiles + Tc - 1) / Tc;
  auto gemms = [&](const WinoChunk& k, int xi0, int xi1) {
    for (int xi = xi0; xi < xi1; ++xi)
      if (C <= kWinoSmallC)
        wino_gemm_small(k.tn, C, OC, k.V + xi * k.tn * C, Up + xi * C * OC, k.M + xi * k.tn * OC);
      else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(k.tn), static_cast<int>(OC),
                    static_cast<int>(C), 1.f, k.V + xi * k.tn * C, static_cast<int>(C), Up + xi * C * OC,
                    static_cast<int>(OC), 0.f, k.M + xi * k.tn * OC, static_cast<int>(OC));
  };
  if (!wino_shared(tiles, threads)) {
    // Chunks of tiles, each one thread's from its transform in to its transform out.
    const int nt = static_cast<int>(std::min<int64_t>(threads, chunks));
#pragma omp parallel num_threads(nt)
    {
      onednn::Temp scratch(sizeof(float) * 16 * Tc * (C + OC));
      WinoChunk k{&g, x, b, y, static_cast<float*>(scratch.get()), nullptr, 0, 0, TH, TW, 0, INT64_MAX};
      k.M = k.V + 16 * Tc * C;
#pragma omp for schedule(static)
      for (int64_t ch = 0; ch < chunks; ++ch) {
        k.t0 = ch * Tc;
        k.tn = std::min(Tc, tiles - k.t0);
        in(k);
        gemms(k, 0, 16);
        out(k);
      }
    }
    return;
  }
  // Few tiles (a small image, batch 1): one chunk of them all, the threads sharing each step:
  // the input transform by input channel blocks, the 16 GEMMs, the output transform by
  // output channel blocks.
  onednn::Temp scratch(sizeof(float) * 16 * tiles * (C + OC));
  const WinoChunk all{
      &g, x,  b, y, static_cast<float*>(scratch.get()), static_cast<float*>(scratch.get()) + 16 * tiles * C, 0, tiles,
      TH, TW, 0, 0};
  const int64_t CB = C / block, OCB = OC / block;
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    WinoChunk k = all;
    k.b0 = CB * t / nt, k.b1 = CB * (t + 1) / nt;
    in(k);
#pragma omp barrier
    gemms(k, 16 * t / nt, 16 * (t + 1) / nt);
#pragma omp barrier
    k.b0 = OCB * t / nt, k.b1 = OCB * (t + 1) / nt;
    out(k);
  }
}

}  // namespace

void conv2d_fwd_winograd(const Conv2dGeom& g, const float* x, int32_t block, const float* w, const float* b, float* y) {
  wino_conv(g, x, block, w, false, b, y);
}

void conv2d_bwd_data_winograd(const Conv2dGeom& g, const float* gy, int32_t block, const float* w, float* gx) {
  wino_conv(winograd_bwd_data_geom(g), gy, block, w, true, nullptr, gx);
}

}  // namespace convnet::kernels::cpu
