// The reduced-precision kernels (bfloat16, float16; kernels/lowp.h): every registered fast
// variant against its reference twin over a grid of configurations and layouts, as the
// float32 variant tests do; and the twins themselves against the float32 reference, which
// shows that each rounds to its own dtype and no further.
//
// Tolerances, per family (the twins compute in float32 and round the output once; a fast
// kernel sums in another order, so its float32 result can differ in the last bits and then
// round to the neighbouring bfloat16):
//   relu, add, concat, max pooling forward: bit for bit (the same float32 operation);
//   batch norm, average pooling, pooling backward, conv2d and linear outputs in bfloat16:
//     |a - e| <= 2^-7 |e| + 1e-3 max|e| (one bfloat16 step, and the float32 summation
//     order where the result cancels);
//   float32 outputs (statistics, weight and bias gradients): 1e-3 of the tensor's scale.
#include <cmath>
#include <limits>

#include "convnet/ops/output_size.h"
#include "kernels/activation.h"
#include "kernels/batch_norm.h"
#include "kernels/conv2d.h"
#include "kernels/elementwise.h"
#include "kernels/layout.h"
#include "kernels/linear.h"
#include "kernels/lowp.h"
#include "kernels/pool2d.h"
#include "kernels/registry.h"
#include "util/test_util.h"
#include "util/variants.h"

using namespace convnet;
using namespace convnet::kernels;
using convnet::testing::count_compared;
using convnet::testing::expect_compared;
using convnet::testing::fast_variants;
using convnet::testing::partner;
using convnet::testing::random_doubles;
using convnet::testing::reference;

namespace {

// n bfloat16 values: random in [-scale, scale), rounded.
std::vector<bf16_t> rnd_bf16(size_t n, uint64_t seed, float scale = 1.f) {
  const auto d = random_doubles(n, seed);
  std::vector<bf16_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = to_bf16(static_cast<float>(d[i]) * scale);
  return v;
}
std::vector<float> rnd_f(size_t n, uint64_t seed, float scale = 1.f) {
  const auto d = random_doubles(n, seed);
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<float>(d[i]) * scale;
  return v;
}
template <class T>
std::vector<double> as_d(const std::vector<T>& v) {
  std::vector<double> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = lowp::widen(v[i]);
  return out;
}
double max_abs(const std::vector<double>& v) {
  double m = 0;
  for (double x : v) m = std::max(m, std::abs(x));
  return m;
}

// Bit for bit, NaN for NaN (tests/util/variants.h).
template <class T>
::testing::AssertionResult same(const std::vector<T>& a, const std::vector<T>& e) {
  return convnet::testing::same_bits(a, e);
}
// One bfloat16 step, plus 1e-3 of the scale (see the file comment).
// NaN where the other has NaN (then compared as equal), else the tolerance.
template <class T>
::testing::AssertionResult close_lowp(const std::vector<T>& a, const std::vector<T>& e) {
  std::vector<double> ad = as_d(a), ed = as_d(e);
  for (size_t i = 0; i < ad.size(); ++i) {
    if (std::isnan(ad[i]) != std::isnan(ed[i]))
      return ::testing::AssertionFailure() << "NaN mismatch at " << i << ": " << ad[i] << " vs " << ed[i];
    if (std::isnan(ad[i])) ad[i] = ed[i] = 0;
  }
  return convnet::testing::all_close(ad, ed, 1.0 / 128, 1e-3 * max_abs(ed) + 1e-30);
}
::testing::AssertionResult close_f32(const std::vector<float>& a, const std::vector<float>& e) {
  const std::vector<double> ad(a.begin(), a.end()), ed(e.begin(), e.end());
  return convnet::testing::all_close(ad, ed, 1e-3, 1e-3 * max_abs(ed) + 1e-30);
}

}  // namespace

TEST(LowpKernels, ReluAndAddBitForBit) {
  for (const auto& fwd : fast_variants(keys::relu_fwd_bf16)) {
    const auto bwd = partner(keys::relu_bwd_bf16, fwd.backend);
    const auto add = partner(keys::add_bf16, fwd.backend);
    ASSERT_TRUE(bwd.fn && add.fn);
    for (int64_t n : {1, 7, 16, 17, 1000, 32768, 65541, 300001}) {
      SCOPED_TRACE(fwd.backend + " n=" + std::to_string(n));
      auto x = rnd_bf16(n, 1 + n), g = rnd_bf16(n, 2 + n), b = rnd_bf16(n, 3 + n, 4.f);
      // The edges of relu and of rounding: zeros of both signs, infinities, NaNs of both
      // signs, the largest finite values (their sum overflows), subnormals.
      const uint16_t specials[] = {0x0000, 0x8000, 0x7f80, 0xff80, 0x7fc0, 0xffc1, 0x7f7f, 0xff7f, 0x0001, 0x8001};
      for (size_t i = 0; i < std::size(specials) && i < static_cast<size_t>(n); ++i)
        x[i].bits = b[i].bits = specials[i];
      std::vector<bf16_t> y(n), ye(n), gx(n), gxe(n), s(n), se(n);
      fwd.fn(n, x.data(), y.data());
      reference(keys::relu_fwd_bf16)(n, x.data(), ye.data());
      bwd.fn(n, x.data(), g.data(), gx.data());
      reference(keys::relu_bwd_bf16)(n, x.data(), g.data(), gxe.data());
      add.fn(n, x.data(), b.data(), s.data());
      reference(keys::add_bf16)(n, x.data(), b.data(), se.data());
      EXPECT_TRUE(same(y, ye));
      EXPECT_TRUE(same(gx, gxe));
      EXPECT_TRUE(same(s, se));
      // In place, as gradient accumulation calls it (y == a).
      std::vector<bf16_t> acc = x;
      add.fn(n, acc.data(), b.data(), acc.data());
      EXPECT_TRUE(same(acc, se));
      for (const KernelBase* k :
           {static_cast<const KernelBase*>(&keys::relu_fwd_bf16), static_cast<const KernelBase*>(&keys::relu_bwd_bf16),
            static_cast<const KernelBase*>(&keys::add_bf16)})
        count_compared(*k);
    }
  }
  expect_compared({&keys::relu_fwd_bf16, &keys::relu_bwd_bf16, &keys::add_bf16});
}

TEST(LowpKernels, ConcatCopiesBits) {
  for (const auto& fwd : fast_variants(keys::concat_fwd_bf16)) {
    const auto bwd = partner(keys::concat_bwd_bf16, fwd.backend);
    ASSERT_TRUE(bwd.fn);
    for (int64_t outer : {1, 3, 200})
      for (int64_t inner : {1, 16, 1024}) {
        const int64_t sizes[] = {2, 5, 1};
        std::vector<std::vector<bf16_t>> xs;
        std::vector<const bf16_t*> ptrs;
        int64_t total = 0;
        for (int i = 0; i < 3; ++i) {
          xs.push_back(rnd_bf16(outer * sizes[i] * inner, 10 + i + outer));
          ptrs.push_back(xs.back().data());
          total += sizes[i];
        }
        std::vector<bf16_t> y(outer * total * inner), ye(y.size());
        fwd.fn(outer, inner, 3, sizes, ptrs.data(), y.data());
        reference(keys::concat_fwd_bf16)(outer, inner, 3, sizes, ptrs.data(), ye.data());
        EXPECT_TRUE(same(y, ye));
        std::vector<std::vector<bf16_t>> gx(3), gxe(3);
        std::vector<bf16_t*> gp, gpe;
        for (int i = 0; i < 3; ++i) {
          gx[i].resize(xs[i].size()), gxe[i].resize(xs[i].size());
          gp.push_back(i == 1 ? nullptr : gx[i].data()), gpe.push_back(i == 1 ? nullptr : gxe[i].data());
        }
        bwd.fn(outer, inner, 3, sizes, y.data(), gp.data());
        reference(keys::concat_bwd_bf16)(outer, inner, 3, sizes, y.data(), gpe.data());
        EXPECT_TRUE(same(gx[0], gxe[0]));
        EXPECT_TRUE(same(gx[2], xs[2]));  // the adjoint gives each input its own slice back
        count_compared(keys::concat_fwd_bf16), count_compared(keys::concat_bwd_bf16);
      }
  }
  expect_compared({&keys::concat_fwd_bf16, &keys::concat_bwd_bf16});
}

TEST(LowpKernels, BatchNormEveryLayout) {
  struct Cfg {
    int64_t N, C, S, B;  // B: 0 plain, 16 blocked, C channels-last
  };
  const std::vector<Cfg> grid = {{2, 16, 9, 16},    {4, 32, 49, 32},   {3, 64, 25, 64}, {2, 48, 10, 48},
                                 {128, 16, 64, 16}, {8, 128, 16, 128}, {2, 24, 9, 24},  {3, 16, 7, 0},
                                 {2, 32, 5, 16},    {2, 5, 11, 0},     {64, 64, 64, 64}};
  for (const auto& ft : fast_variants(keys::batch_norm_fwd_train_bf16)) {
    const auto fe = partner(keys::batch_norm_fwd_eval_bf16, ft.backend);
    const auto bw = partner(keys::batch_norm_bwd_bf16, ft.backend);
    ASSERT_TRUE(fe.fn && bw.fn);
    for (size_t ci = 0; ci < grid.size(); ++ci) {
      const Cfg& c = grid[ci];
      BatchNormGeom g{c.N, c.C, c.S, c.B};
      SCOPED_TRACE(ft.backend + " N=" + std::to_string(c.N) + " C=" + std::to_string(c.C) +
                   " S=" + std::to_string(c.S) + " B=" + std::to_string(c.B));
      const int64_t n = c.N * c.C * c.S;
      // An offset mean, as after a convolution: the shifted statistics must not cancel.
      auto x = rnd_bf16(n, 40 + ci, 3.f);
      for (auto& v : x) v = to_bf16(from_bf16(v) + 5.f);
      const auto gy = rnd_bf16(n, 50 + ci);
      const auto w = rnd_f(c.C, 60 + ci), b = rnd_f(c.C, 70 + ci);
      for (bool affine : {true, false}) {
        const float* wp = affine ? w.data() : nullptr;
        const float* bp = affine ? b.data() : nullptr;
        std::vector<bf16_t> y(n), ye(n), gx(n), gxe(n);
        std::vector<float> m(c.C), v(c.C), me(c.C), ve(c.C), gw(c.C), gwe(c.C), gb(c.C), gbe(c.C);
        ft.fn(g, x.data(), wp, bp, 1e-5, y.data(), m.data(), v.data());
        reference(keys::batch_norm_fwd_train_bf16)(g, x.data(), wp, bp, 1e-5, ye.data(), me.data(), ve.data());
        EXPECT_TRUE(close_lowp(y, ye));
        EXPECT_TRUE(close_f32(m, me));
        EXPECT_TRUE(close_f32(v, ve));
        fe.fn(g, x.data(), me.data(), ve.data(), wp, bp, 1e-5, y.data());
        reference(keys::batch_norm_fwd_eval_bf16)(g, x.data(), me.data(), ve.data(), wp, bp, 1e-5, ye.data());
        EXPECT_TRUE(close_lowp(y, ye));
        for (bool batch_stats : {true, false}) {
          bw.fn(g, x.data(), gy.data(), me.data(), ve.data(), wp, 1e-5, batch_stats, gx.data(), gw.data(), gb.data());
          reference(keys::batch_norm_bwd_bf16)(g, x.data(), gy.data(), me.data(), ve.data(), wp, 1e-5, batch_stats,
                                               gxe.data(), gwe.data(), gbe.data());
          EXPECT_TRUE(close_lowp(gx, gxe));
          EXPECT_TRUE(close_f32(gw, gwe));
          EXPECT_TRUE(close_f32(gb, gbe));
        }
        // Only the parameter gradients (a frozen input).
        bw.fn(g, x.data(), gy.data(), me.data(), ve.data(), wp, 1e-5, true, nullptr, gw.data(), gb.data());
        EXPECT_TRUE(close_f32(gw, gwe));
      }
      for (const KernelBase* k : {static_cast<const KernelBase*>(&keys::batch_norm_fwd_train_bf16),
                                  static_cast<const KernelBase*>(&keys::batch_norm_fwd_eval_bf16),
                                  static_cast<const KernelBase*>(&keys::batch_norm_bwd_bf16)})
        count_compared(*k);
    }
  }
  expect_compared({&keys::batch_norm_fwd_train_bf16, &keys::batch_norm_fwd_eval_bf16, &keys::batch_norm_bwd_bf16});
}

TEST(LowpKernels, PoolingEveryLayout) {
  struct Cfg {
    int64_t N, C, H, W, K, S, P;
    bool ceil, include_pad;
    int64_t B;  // 0 plain, C channels-last, 16 blocked
  };
  const std::vector<Cfg> grid = {
      {2, 16, 8, 8, 2, 2, 0, false, true, 16},  {3, 32, 9, 7, 3, 2, 1, false, true, 32},
      {2, 64, 6, 6, 3, 1, 1, false, false, 64}, {2, 24, 5, 5, 2, 2, 0, true, true, 24},
      {1, 16, 7, 7, 3, 2, 1, true, false, 0},   {2, 32, 8, 8, 2, 2, 0, false, true, 16},
      {4, 6, 14, 14, 2, 2, 0, false, true, 0},  {128, 64, 8, 8, 2, 2, 0, false, true, 64},
  };
  for (const auto& mf : fast_variants(keys::max_pool2d_fwd_bf16)) {
    const auto mb = partner(keys::max_pool2d_bwd_bf16, mf.backend);
    const auto af = partner(keys::avg_pool2d_fwd_bf16, mf.backend);
    const auto ab = partner(keys::avg_pool2d_bwd_bf16, mf.backend);
    const auto gf = partner(keys::adaptive_avg_pool2d_fwd_bf16, mf.backend);
    const auto gb = partner(keys::adaptive_avg_pool2d_bwd_bf16, mf.backend);
    ASSERT_TRUE(mb.fn && af.fn && ab.fn && gf.fn && gb.fn);
    for (size_t ci = 0; ci < grid.size(); ++ci) {
      const Cfg& c = grid[ci];
      SCOPED_TRACE(mf.backend + " config " + std::to_string(ci));
      Pool2dGeom g{c.N, c.C, c.H, c.W, c.K, c.K, c.S, c.S, c.P, c.P, 1, 1, 0, 0, c.include_pad, c.B};
      g.OH = conv_output_size(c.H, c.K, c.S, c.P, c.P, 1, c.ceil);
      g.OW = conv_output_size(c.W, c.K, c.S, c.P, c.P, 1, c.ceil);
      const int64_t nx = c.N * c.C * c.H * c.W, ny = c.N * c.C * g.OH * g.OW;
      auto x = rnd_bf16(nx, 80 + ci), gy = rnd_bf16(ny, 90 + ci);
      x[3].bits = 0x7fc0;          // a NaN: max pooling propagates it
      if (nx > 40) x[40] = x[41];  // a tie: the first maximum wins
      std::vector<bf16_t> y(ny), ye(ny), gx(nx), gxe(nx);
      std::vector<int64_t> am(ny), ame(ny);
      mf.fn(g, x.data(), y.data(), am.data());
      reference(keys::max_pool2d_fwd_bf16)(g, x.data(), ye.data(), ame.data());
      EXPECT_TRUE(same(y, ye));
      EXPECT_EQ(am, ame);
      mb.fn(g, gy.data(), ame.data(), gx.data());
      reference(keys::max_pool2d_bwd_bf16)(g, gy.data(), ame.data(), gxe.data());
      EXPECT_TRUE(close_lowp(gx, gxe));
      af.fn(g, x.data(), y.data());
      reference(keys::avg_pool2d_fwd_bf16)(g, x.data(), ye.data());
      EXPECT_TRUE(close_lowp(y, ye));
      ab.fn(g, gy.data(), gx.data());
      reference(keys::avg_pool2d_bwd_bf16)(g, gy.data(), gxe.data());
      EXPECT_TRUE(close_lowp(gx, gxe));
      // Adaptive: global (ResNet's head) and 5x5 -> 3x3-like uneven windows.
      for (int64_t o : {int64_t{1}, std::min<int64_t>(3, c.H)}) {
        AdaptivePool2dGeom a{c.N, c.C, c.H, c.W, o, o, c.B};
        const int64_t na = c.N * c.C * o * o;
        const auto ga = rnd_bf16(na, 100 + ci);
        std::vector<bf16_t> ya(na), yae(na);
        gf.fn(a, x.data(), ya.data());
        reference(keys::adaptive_avg_pool2d_fwd_bf16)(a, x.data(), yae.data());
        EXPECT_TRUE(close_lowp(ya, yae));
        gb.fn(a, ga.data(), gx.data());
        reference(keys::adaptive_avg_pool2d_bwd_bf16)(a, ga.data(), gxe.data());
        EXPECT_TRUE(close_lowp(gx, gxe));
      }
      for (const KernelBase* k : std::initializer_list<const KernelBase*>{
               &keys::max_pool2d_fwd_bf16, &keys::max_pool2d_bwd_bf16, &keys::avg_pool2d_fwd_bf16,
               &keys::avg_pool2d_bwd_bf16, &keys::adaptive_avg_pool2d_fwd_bf16, &keys::adaptive_avg_pool2d_bwd_bf16})
        count_compared(*k);
    }
  }
  expect_compared({&keys::max_pool2d_fwd_bf16, &keys::max_pool2d_bwd_bf16, &keys::avg_pool2d_fwd_bf16,
                   &keys::avg_pool2d_bwd_bf16, &keys::adaptive_avg_pool2d_fwd_bf16,
                   &keys::adaptive_avg_pool2d_bwd_bf16});
}

TEST(LowpKernels, Conv2dEveryLayout) {
  struct Cfg {
    int64_t N, C, H, W, OC, K, S, P, D, G;
  };
  const std::vector<Cfg> grid = {
      {2, 16, 7, 7, 16, 3, 1, 1, 1, 1},
      {3, 16, 9, 8, 32, 3, 2, 1, 1, 1},
      {2, 32, 6, 6, 16, 1, 1, 0, 1, 1},
      {2, 16, 8, 8, 32, 1, 2, 0, 1, 1},
      {2, 16, 9, 9, 16, 3, 1, 2, 2, 1},
      {2, 32, 5, 5, 32, 3, 1, 1, 1, 2},
      {1, 3, 8, 8, 16, 3, 1, 1, 1, 1},
      {2, 1, 12, 12, 6, 5, 1, 2, 1, 1},
      {2, 64, 4, 4, 64, 3, 1, 1, 1, 1},
      // Small output planes over a batch (the GEMM route of the oneDNN kernels with AMX, or
      // CONVNET_BF16_GEMM=1: the test unit_test_lowp_kernels_gemm_route; 4x4, 2x2,
      // strided, 1x1, dilated, and channels that are not a multiple of 16).
      {8, 32, 4, 4, 48, 3, 1, 1, 1, 1},
      {16, 64, 2, 2, 32, 3, 1, 1, 1, 1},
      {8, 16, 8, 8, 32, 3, 2, 1, 1, 1},
      {32, 48, 2, 2, 16, 1, 1, 0, 1, 1},
      {8, 24, 5, 5, 40, 3, 1, 2, 2, 1},
  };
  for (const auto& fwd : fast_variants(keys::conv2d_fwd_bf16)) {
    const auto lay = partner(keys::conv2d_layout_bf16, fwd.backend);
    const auto bd = partner(keys::conv2d_bwd_data_bf16, fwd.backend);
    const auto bw = partner(keys::conv2d_bwd_weight_bf16, fwd.backend);
    ASSERT_TRUE(lay.fn && bd.fn && bw.fn);
    int cases = 0;
    for (size_t ci = 0; ci < grid.size(); ++ci) {
      const Cfg& c = grid[ci];
      Conv2dGeom g{c.N, c.C, c.H, c.W, c.OC, c.K, c.K, c.S, c.S, c.P, c.P, c.D, c.D, c.G, 0, 0};
      g.OH = conv_output_size(c.H, c.K, c.S, c.P, c.P, c.D);
      g.OW = conv_output_size(c.W, c.K, c.S, c.P, c.P, c.D);
      // The layout the backend wants its outputs in is one of the family (kernels/layout.h).
      const int64_t yl = channel_block(lay.fn(g), g.OC);
      EXPECT_TRUE(yl == 0 || yl == 8 || yl == 16 || yl == g.OC);
      const int64_t nx = g.N * g.C * g.H * g.W, ny = g.N * g.OC * g.OH * g.OW, nw = g.OC * (g.C / g.G) * c.K * c.K;
      const auto x = rnd_bf16(nx, 110 + ci), gy = rnd_bf16(ny, 120 + ci);
      const auto w = rnd_f(nw, 130 + ci, 0.5f), b = rnd_f(g.OC, 140 + ci);
      for (int32_t xb : {0, 16, static_cast<int32_t>(g.C)})
        for (int32_t yb : {0, 16, static_cast<int32_t>(g.OC)}) {
          if ((xb && g.C % xb) || (yb && g.OC % yb)) continue;
          SCOPED_TRACE(fwd.backend + " config " + std::to_string(ci) + " x block " + std::to_string(xb) + " y block " +
                       std::to_string(yb));
          // Inputs in layout xb / yb: the plain values rewritten (2-byte elements).
          std::vector<bf16_t> bx(nx), bgy(ny);
          plain_to_blocked(x.data(), bx.data(), g.N, g.C, g.H * g.W, xb, 2);
          plain_to_blocked(gy.data(), bgy.data(), g.N, g.OC, g.OH * g.OW, yb, 2);
          for (bool bias : {true, false}) {
            std::vector<bf16_t> y(ny), ye(ny), gx(nx), gxe(nx);
            std::vector<float> gw(nw), gwe(nw), gb(g.OC), gbe(g.OC);
            fwd.fn(g, bx.data(), xb, w.data(), bias ? b.data() : nullptr, y.data(), yb);
            reference(keys::conv2d_fwd_bf16)(g, bx.data(), xb, w.data(), bias ? b.data() : nullptr, ye.data(), yb);
            EXPECT_TRUE(close_lowp(y, ye));
            bw.fn(g, bx.data(), xb, bgy.data(), yb, gw.data(), bias ? gb.data() : nullptr);
            reference(keys::conv2d_bwd_weight_bf16)(g, bx.data(), xb, bgy.data(), yb, gwe.data(),
                                                    bias ? gbe.data() : nullptr);
            EXPECT_TRUE(close_f32(gw, gwe));
            if (bias) {
              EXPECT_TRUE(close_f32(gb, gbe));
            }
            bd.fn(g, bgy.data(), yb, w.data(), gx.data(), xb);
            reference(keys::conv2d_bwd_data_bf16)(g, bgy.data(), yb, w.data(), gxe.data(), xb);
            EXPECT_TRUE(close_lowp(gx, gxe));
          }
          ++cases;
          for (const KernelBase* k :
               std::initializer_list<const KernelBase*>{&keys::conv2d_layout_bf16, &keys::conv2d_fwd_bf16,
                                                        &keys::conv2d_bwd_data_bf16, &keys::conv2d_bwd_weight_bf16})
            count_compared(*k);
        }
    }
    EXPECT_GT(cases, 40) << fwd.backend;
  }
  expect_compared(
      {&keys::conv2d_layout_bf16, &keys::conv2d_fwd_bf16, &keys::conv2d_bwd_data_bf16, &keys::conv2d_bwd_weight_bf16});
}

TEST(LowpKernels, Linear) {
  struct Cfg {
    int64_t M, IN, OUT;
  };
  for (const auto& fwd : fast_variants(keys::linear_fwd_bf16)) {
    const auto bwd = partner(keys::linear_bwd_bf16, fwd.backend);
    ASSERT_TRUE(bwd.fn);
    for (const Cfg& c :
         {Cfg{1, 1, 1}, Cfg{7, 33, 5}, Cfg{128, 512, 10}, Cfg{64, 120, 84}, Cfg{2, 0, 3}, Cfg{784, 96, 384}}) {
      SCOPED_TRACE(fwd.backend + " M=" + std::to_string(c.M) + " IN=" + std::to_string(c.IN) +
                   " OUT=" + std::to_string(c.OUT));
      const auto x = rnd_bf16(c.M * c.IN, 150 + c.IN), gy = rnd_bf16(c.M * c.OUT, 160 + c.OUT);
      const auto w = rnd_f(c.OUT * c.IN, 170 + c.M, 0.2f), b = rnd_f(c.OUT, 180);
      for (bool bias : {true, false}) {
        std::vector<bf16_t> y(c.M * c.OUT), ye(y.size()), gx(c.M * c.IN), gxe(gx.size());
        std::vector<float> gw(c.OUT * c.IN), gwe(gw.size()), gb(c.OUT), gbe(c.OUT);
        fwd.fn(c.M, c.IN, c.OUT, x.data(), w.data(), bias ? b.data() : nullptr, y.data());
        reference(keys::linear_fwd_bf16)(c.M, c.IN, c.OUT, x.data(), w.data(), bias ? b.data() : nullptr, ye.data());
        EXPECT_TRUE(close_lowp(y, ye));
        bwd.fn(c.M, c.IN, c.OUT, x.data(), w.data(), gy.data(), gx.data(), gw.data(), gb.data());
        reference(keys::linear_bwd_bf16)(c.M, c.IN, c.OUT, x.data(), w.data(), gy.data(), gxe.data(), gwe.data(),
                                         gbe.data());
        EXPECT_TRUE(close_lowp(gx, gxe));
        EXPECT_TRUE(close_f32(gw, gwe));
        EXPECT_TRUE(close_f32(gb, gbe));
      }
      count_compared(keys::linear_fwd_bf16), count_compared(keys::linear_bwd_bf16);
    }
  }
  expect_compared({&keys::linear_fwd_bf16, &keys::linear_bwd_bf16});
}

// The twins compute in float32 and round to their own dtype: against the float32 reference
// on the same (exactly representable) inputs, a bfloat16 twin is within half a bfloat16 step
// of the rounded float32 result, a float16 twin within half a float16 step, and float16 is the
// closer of the two (it keeps 3 more bits): a twin that rounded to the wrong type, or not at
// all, fails one of the three.
TEST(LowpKernels, ReferenceTwinsRoundToTheirDType) {
  Conv2dGeom g{2, 8, 6, 6, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 6, 6};
  const int64_t nx = 2 * 8 * 36, nw = 8 * 8 * 9;
  // Inputs exact in both formats: multiples of 1/64 in [-1, 1).
  std::vector<float> xf(nx), w(nw), b(8, 0.f);
  const auto rx = random_doubles(nx, 7), rw = random_doubles(nw, 8);
  for (int64_t i = 0; i < nx; ++i) xf[i] = std::round(static_cast<float>(rx[i]) * 64) / 64;
  for (int64_t i = 0; i < nw; ++i) w[i] = std::round(static_cast<float>(rw[i]) * 64) / 64;
  std::vector<float> y32(nx);
  ref::conv2d_fwd<float>(g, xf.data(), w.data(), b.data(), y32.data());
  std::vector<bf16_t> xb(nx), yb(nx);
  std::vector<f16_t> xh(nx), yh(nx);
  for (int64_t i = 0; i < nx; ++i) xb[i] = to_bf16(xf[i]), xh[i] = to_f16(xf[i]);
  reference(keys::conv2d_fwd_bf16)(g, xb.data(), 0, w.data(), b.data(), yb.data(), 0);
  reference(keys::conv2d_fwd_f16)(g, xh.data(), 0, w.data(), b.data(), yh.data(), 0);
  double err_b = 0, err_h = 0;
  for (int64_t i = 0; i < nx; ++i) {
    const double e = y32[i], vb = from_bf16(yb[i]), vh = from_f16(yh[i]);
    EXPECT_EQ(yb[i].bits, to_bf16(y32[i]).bits) << i;  // inputs exact: only the output rounds
    EXPECT_EQ(yh[i].bits, to_f16(y32[i]).bits) << i;
    err_b += std::abs(vb - e), err_h += std::abs(vh - e);
  }
  EXPECT_GT(err_b, 0);  // bfloat16 really rounded
  EXPECT_LT(err_h * 4, err_b);
  // A float32 weight with bits below bfloat16's: the twin computes with it rounded.
  std::vector<float> w2 = w;
  w2[0] += 1.f / 4096;
  std::vector<bf16_t> yb2(nx);
  reference(keys::conv2d_fwd_bf16)(g, xb.data(), 0, w2.data(), b.data(), yb2.data(), 0);
  EXPECT_TRUE(same(yb2, yb));  // 1/4096 on a value of magnitude ~1/64..1 is below half a bf16 step
}
