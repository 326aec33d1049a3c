// The kernel variants of the tensor-shaping, normalization and binary arithmetic ops (layer/group
// norm, div/maximum/minimum/pow/where, 3-D convolution and pooling, the
// reflect/replicate/circular pads, the strided copy behind permute and broadcast_to, and 2-D
// interpolation): every fast variant against its reference twin over a grid of geometries
// (the activation, pooling, softmax and loss kernels are in test_kernel_variants.cpp;
// kComparedBy in test_kernel_coverage.cpp names these tests).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "kernels/arith.h"
#include "kernels/interp.h"
#include "kernels/norm.h"
#include "kernels/pad.h"
#include "kernels/strided.h"
#include "kernels/vol.h"
#include "util/test_util.h"
#include "util/variants.h"

using namespace convnet;
using namespace convnet::kernels;
using convnet::testing::close;
using convnet::testing::close_nan;
using convnet::testing::count_compared;
using convnet::testing::expect_compared;
using convnet::testing::fast_variants;
using convnet::testing::partner;
using convnet::testing::reference;
using convnet::testing::rnd;

TEST(KernelVariants, Norm) {
  // (rows, D, groups, inner): layer norm rows (inner 1; D = 1, odd, ConvNeXt's 96 and 768),
  // group norm (groups of C/G channels of H*W each, with G > 1 and one group).
  const std::vector<NormGeom> geoms = {
      {1, 1, 1, 1},           {7, 13, 1, 1},       {3136, 96, 1, 1},          {49, 768, 1, 1},
      {2 * 4, 3 * 25, 4, 25}, {2, 12 * 49, 1, 49}, {3 * 32, 2 * 196, 32, 196}};
  const auto rf = reference(keys::norm_fwd);
  const auto rb = reference(keys::norm_bwd);
  for (const auto& v : fast_variants(keys::norm_fwd)) {
    const auto vb = partner(keys::norm_bwd, v.backend);
    if (!vb.fn) continue;
    for (size_t gi = 0; gi < geoms.size(); ++gi)
      for (bool affine : {true, false}) {
        SCOPED_TRACE("norm backend " + v.backend + " geom " + std::to_string(gi) + (affine ? " affine" : ""));
        const NormGeom& g = geoms[gi];
        const int64_t n = g.rows * g.D, entries = g.groups * (g.D / g.inner);
        // An offset of 3 and a scale of 4: the statistics must not lose the variance to cancellation.
        auto x = rnd(n, 1300 + gi, 4.f), gy = rnd(n, 1350 + gi);
        for (float& e : x) e += 3.f;
        const auto w = rnd(entries, 1400 + gi), b = rnd(entries, 1450 + gi);
        const float* wp = affine ? w.data() : nullptr;
        const float* bp = affine ? b.data() : nullptr;
        std::vector<float> y_ref(n), y(n), m_ref(g.rows), m(g.rows), r_ref(g.rows), r(g.rows);
        rf(g, x.data(), wp, bp, 1e-5, y_ref.data(), m_ref.data(), r_ref.data());
        v.fn(g, x.data(), wp, bp, 1e-5, y.data(), m.data(), r.data());
        EXPECT_TRUE(close(y, y_ref, 1e-4, 1e-5));
        EXPECT_TRUE(close(m, m_ref, 1e-5, 1e-6));
        EXPECT_TRUE(close(r, r_ref, 1e-5, 1e-6));
        std::vector<float> gx_ref(n), gx(n), gw_ref(entries), gw(entries), gb_ref(entries), gb(entries);
        rb(g, x.data(), wp, m_ref.data(), r_ref.data(), gy.data(), gx_ref.data(), gw_ref.data(), gb_ref.data());
        vb.fn(g, x.data(), wp, m_ref.data(), r_ref.data(), gy.data(), gx.data(), gw.data(), gb.data());
        EXPECT_TRUE(close(gx, gx_ref, 1e-4, 1e-5));
        EXPECT_TRUE(close(gw, gw_ref, 1e-4, 1e-4));
        EXPECT_TRUE(close(gb, gb_ref, 1e-4, 1e-4));
        count_compared(keys::norm_fwd), count_compared(keys::norm_bwd);
      }
  }
  expect_compared({&keys::norm_fwd, &keys::norm_bwd});
}

TEST(KernelVariants, IndexPad) {
  struct Case {
    std::vector<int64_t> in, begin, end;
  };
  const std::vector<Case> cases = {{{2, 3, 8, 9}, {0, 0, 2, 3}, {0, 0, 3, 1}},
                                   {{4, 16, 5}, {0, 0, 4}, {0, 0, 2}},
                                   {{3, 2, 4, 4, 4}, {0, 0, 1, 2, 3}, {0, 0, 3, 2, 1}},
                                   {{2, 3, 6, 6}, {1, 0, 2, 2}, {1, 0, 2, 2}},  // the batch padded too: serial scatter
                                   {{1, 1, 1, 7}, {0, 0, 0, 6}, {0, 0, 0, 6}}};
  const auto rf = reference(keys::index_pad_fwd);
  const auto rb = reference(keys::index_pad_bwd);
  for (const auto& v : fast_variants(keys::index_pad_fwd)) {
    const auto vb = partner(keys::index_pad_bwd, v.backend);
    if (!vb.fn) continue;
    for (size_t ci = 0; ci < cases.size(); ++ci)
      for (PadMode m : {PadMode::reflect, PadMode::replicate, PadMode::circular}) {
        Case c = cases[ci];
        const auto rank = static_cast<int64_t>(c.in.size());
        if (m == PadMode::reflect)  // reflect needs pads below the size
          for (int64_t k = 0; k < rank; ++k) {
            c.begin[k] = std::min(c.begin[k], c.in[k] - 1);
            c.end[k] = std::min(c.end[k], c.in[k] - 1);
          }
        SCOPED_TRACE("index_pad backend " + v.backend + " case " + std::to_string(ci) + " mode " +
                     std::to_string(static_cast<int>(m)));
        std::vector<int64_t> out(c.in.size());
        int64_t n_in = 1, n_out = 1;
        for (int64_t k = 0; k < rank; ++k) out[k] = c.in[k] + c.begin[k] + c.end[k], n_in *= c.in[k], n_out *= out[k];
        auto x = rnd(n_in, 1500 + ci), gy = rnd(n_out, 1550 + ci);
        std::vector<float> y_ref(n_out), y(n_out), gx_ref(n_in), gx(n_in);
        rf(m, rank, c.in.data(), out.data(), c.begin.data(), x.data(), y_ref.data());
        v.fn(m, rank, c.in.data(), out.data(), c.begin.data(), x.data(), y.data());
        EXPECT_TRUE(close(y, y_ref, 0, 0));
        rb(m, rank, c.in.data(), out.data(), c.begin.data(), gy.data(), gx_ref.data());
        vb.fn(m, rank, c.in.data(), out.data(), c.begin.data(), gy.data(), gx.data());
        EXPECT_TRUE(close(gx, gx_ref, 1e-6, 1e-6));
        count_compared(keys::index_pad_fwd), count_compared(keys::index_pad_bwd);
      }
  }
  expect_compared({&keys::index_pad_fwd, &keys::index_pad_bwd});
}

TEST(KernelVariants, StridedCopy) {
  // (out_shape, strides): permutations (ConvNeXt's NCHW <-> NHWC, a 5-D shuffle, a transpose),
  // broadcasts (stride 0: per-channel scale, a row), and a last dimension of size 1.
  struct Case {
    std::vector<int64_t> out, strides;
    int64_t x_numel;
  };
  const std::vector<Case> cases = {{{2, 7, 7, 96}, {96 * 49, 7, 1, 49}, 2 * 96 * 49},
                                   {{2, 96, 7, 7}, {96 * 49, 1, 7 * 96, 96}, 2 * 96 * 49},
                                   {{3, 4, 2, 5, 6}, {240, 30, 120, 6, 1}, 720},
                                   {{33, 17}, {1, 33}, 561},
                                   {{4, 96, 5, 5}, {0, 1, 0, 0}, 96},
                                   {{8, 100}, {0, 1}, 100},
                                   {{6, 5, 1}, {5, 1, 1}, 30}};
  const auto rf = reference(keys::strided_copy);
  const auto rb = reference(keys::strided_copy_bwd);
  for (const auto& v : fast_variants(keys::strided_copy)) {
    const auto vb = partner(keys::strided_copy_bwd, v.backend);
    if (!vb.fn) continue;
    for (size_t ci = 0; ci < cases.size(); ++ci) {
      SCOPED_TRACE("strided_copy backend " + v.backend + " case " + std::to_string(ci));
      const Case& c = cases[ci];
      const auto rank = static_cast<int64_t>(c.out.size());
      int64_t n = 1;
      for (int64_t d : c.out) n *= d;
      auto x = rnd(c.x_numel, 1600 + ci), gy = rnd(n, 1650 + ci);
      std::vector<float> y_ref(n), y(n), gx_ref(c.x_numel), gx(c.x_numel, 123.f);
      rf(rank, c.out.data(), c.strides.data(), x.data(), y_ref.data());
      v.fn(rank, c.out.data(), c.strides.data(), x.data(), y.data());
      EXPECT_TRUE(close(y, y_ref, 0, 0));
      rb(rank, c.out.data(), c.strides.data(), c.x_numel, gy.data(), gx_ref.data());
      vb.fn(rank, c.out.data(), c.strides.data(), c.x_numel, gy.data(), gx.data());
      EXPECT_TRUE(close(gx, gx_ref, 1e-6, 1e-6));
      count_compared(keys::strided_copy), count_compared(keys::strided_copy_bwd);
    }
  }
  expect_compared({&keys::strided_copy, &keys::strided_copy_bwd});
}

TEST(KernelVariants, Interp) {
  // Tables as the op makes them: bilinear (two neighbours) and nearest (one, weight 1), up
  // and down, for several plane counts.
  struct Case {
    int64_t planes, H, W, OH, OW;
    bool nearest;
  };
  const std::vector<Case> cases = {{6, 4, 5, 8, 10, false},
                                   {3, 7, 6, 3, 4, false},
                                   {5, 5, 5, 7, 3, true},
                                   {64, 14, 14, 28, 28, false},
                                   {2, 1, 1, 3, 2, false}};
  const auto rf = reference(keys::interp_fwd);
  const auto rb = reference(keys::interp_bwd);
  for (const auto& v : fast_variants(keys::interp_fwd)) {
    const auto vb = partner(keys::interp_bwd, v.backend);
    if (!vb.fn) continue;
    for (size_t ci = 0; ci < cases.size(); ++ci) {
      SCOPED_TRACE("interp backend " + v.backend + " case " + std::to_string(ci));
      const Case& c = cases[ci];
      auto table = [&](int64_t n, int64_t m, std::vector<int64_t>& i0, std::vector<int64_t>& i1, std::vector<float>& w0,
                       std::vector<float>& w1) {
        for (int64_t o = 0; o < m; ++o) {
          const float s = std::min(std::max((o + 0.5f) * n / m - 0.5f, 0.f), static_cast<float>(n - 1));
          const auto i = static_cast<int64_t>(s);
          i0.push_back(i), i1.push_back(c.nearest ? i : std::min(i + 1, n - 1));
          w0.push_back(c.nearest ? 1.f : 1.f - (s - i)), w1.push_back(c.nearest ? 0.f : s - i);
        }
      };
      std::vector<int64_t> ih0, ih1, iw0, iw1;
      std::vector<float> wh0, wh1, ww0, ww1;
      table(c.H, c.OH, ih0, ih1, wh0, wh1);
      table(c.W, c.OW, iw0, iw1, ww0, ww1);
      const InterpGeom g{c.planes,   c.H,        c.W,        c.OH,       c.OW,       ih0.data(), ih1.data(),
                         iw0.data(), iw1.data(), wh0.data(), wh1.data(), ww0.data(), ww1.data()};
      const int64_t n_in = c.planes * c.H * c.W, n_out = c.planes * c.OH * c.OW;
      auto x = rnd(n_in, 1700 + ci), gy = rnd(n_out, 1750 + ci);
      std::vector<float> y_ref(n_out), y(n_out), gx_ref(n_in), gx(n_in, 7.f);
      rf(g, x.data(), y_ref.data());
      v.fn(g, x.data(), y.data());
      EXPECT_TRUE(close(y, y_ref, 1e-5, 1e-6));
      rb(g, gy.data(), gx_ref.data());
      vb.fn(g, gy.data(), gx.data());
      EXPECT_TRUE(close(gx, gx_ref, 1e-5, 1e-6));
      count_compared(keys::interp_fwd), count_compared(keys::interp_bwd);
    }
  }
  expect_compared({&keys::interp_fwd, &keys::interp_bwd});
}

// div, maximum, minimum, pow and where, forward and backward, over lengths around the
// threading grain, with ties (maximum's halved gradient), NaN, zero bases and exponents of 0
// and 2 (pow's special cases) planted.
TEST(KernelVariants, Arith) {
  struct Pair {
    const char* name;
    Kernel<BinaryFn<float>>& fk;
    Kernel<BinaryBwdFn<float>>& bk;
  };
  const Pair pairs[] = {{"div", keys::div, keys::div_bwd},
                        {"maximum", keys::maximum, keys::maximum_bwd},
                        {"minimum", keys::minimum, keys::minimum_bwd},
                        {"pow", keys::pow, keys::pow_bwd}};
  std::vector<const KernelBase*> all{&keys::where};
  for (const int64_t n : convnet::testing::kLengths) {
    auto a = rnd(n, n + 1, 3.f), b = rnd(n, n + 2, 3.f), gy = rnd(n, n + 3);
    if (n > 5) {
      a[1] = b[1] = 0.5f;                              // a tie
      a[2] = std::numeric_limits<float>::quiet_NaN();  // NaN propagates
      a[3] = 0.f, b[3] = 2.f, a[4] = 0.f, b[4] = 0.f;  // 0^2, 0^0
      b[5] = 2.f;                                      // pow's multiply path
    }
    for (const auto& [name, fk, bk] : pairs) {
      all.push_back(&fk), all.push_back(&bk);
      std::vector<float> base = a;
      if (std::string(name) == "pow")  // a positive base outside the planted cases: real powers
        for (int64_t i = 5; i < n; ++i) base[i] = std::abs(base[i]) + 0.25f;
      std::vector<float> y_ref(n), ga_ref(n), gb_ref(n);
      reference(fk)(n, base.data(), b.data(), y_ref.data());
      reference(bk)(n, base.data(), b.data(), y_ref.data(), gy.data(), ga_ref.data(), gb_ref.data());
      for (const auto& v : fast_variants(fk)) {
        const auto vb = partner(bk, v.backend);
        if (!vb.fn) continue;
        SCOPED_TRACE(std::string(name) + " backend " + v.backend + " n=" + std::to_string(n));
        std::vector<float> y(n, 1e30f), ga(n, 1e30f), gb(n, 1e30f), ga_only(n, 1e30f);
        v.fn(n, base.data(), b.data(), y.data());
        vb.fn(n, base.data(), b.data(), y_ref.data(), gy.data(), ga.data(), gb.data());
        vb.fn(n, base.data(), b.data(), y_ref.data(), gy.data(), ga_only.data(), nullptr);  // gb not needed
        EXPECT_TRUE(close_nan(y, y_ref));
        EXPECT_TRUE(close_nan(ga, ga_ref));
        EXPECT_TRUE(close_nan(gb, gb_ref));
        EXPECT_TRUE(close_nan(ga_only, ga_ref));
        count_compared(fk), count_compared(bk);
      }
    }
    std::vector<float> c(n), y_ref(n);
    for (int64_t i = 0; i < n; ++i) c[i] = i % 3 == 0 ? 0.f : i % 3 == 1 ? 1.f : -2.5f;  // nonzero is true
    reference(keys::where)(n, c.data(), a.data(), b.data(), y_ref.data());
    for (const auto& v : fast_variants(keys::where)) {
      SCOPED_TRACE("where backend " + v.backend + " n=" + std::to_string(n));
      std::vector<float> y(n, 1e30f);
      v.fn(n, c.data(), a.data(), b.data(), y.data());
      EXPECT_TRUE(close_nan(y, y_ref));
      count_compared(keys::where);
    }
  }
  expect_compared(all);
}

// 3-D convolution (oneDNN) and pooling (threaded) against their reference twins over a grid:
// strides, padding, dilation, groups, a bias or none, and pooling's ceil_mode and
// count_include_pad.
TEST(KernelVariants, Volumetric) {
  struct C {
    int64_t N, C, OC, G;
    std::array<int64_t, 3> in, k, s, p, d;
  };
  const C convs[] = {{1, 1, 4, 1, {4, 4, 4}, {3, 3, 3}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}},
                     {2, 3, 8, 1, {5, 6, 7}, {2, 3, 1}, {2, 1, 1}, {0, 1, 0}, {1, 1, 1}},
                     {1, 8, 8, 4, {6, 5, 5}, {3, 3, 3}, {1, 2, 2}, {1, 1, 1}, {2, 1, 1}},
                     {2, 16, 32, 1, {8, 8, 8}, {3, 3, 3}, {2, 2, 2}, {1, 1, 1}, {1, 1, 1}},
                     {1, 6, 6, 6, {3, 9, 9}, {1, 3, 3}, {1, 1, 1}, {0, 2, 2}, {1, 2, 2}}};
  for (const C& c : convs)
    for (const bool bias : {true, false}) {
      kernels::Conv3dGeom g{};
      g.N = c.N, g.C = c.C, g.OC = c.OC, g.G = c.G;
      for (int a = 0; a < 3; ++a) {
        g.in[a] = c.in[a], g.k[a] = c.k[a], g.s[a] = c.s[a], g.p[a] = c.p[a], g.d[a] = c.d[a];
        g.out[a] = (c.in[a] + 2 * c.p[a] - c.d[a] * (c.k[a] - 1) - 1) / c.s[a] + 1;
      }
      const int64_t nx = c.N * c.C * c.in[0] * c.in[1] * c.in[2];
      const int64_t nw = c.OC * (c.C / c.G) * c.k[0] * c.k[1] * c.k[2];
      const int64_t ny = c.N * c.OC * g.out[0] * g.out[1] * g.out[2];
      const auto x = rnd(nx, 1), w = rnd(nw, 2), b = rnd(c.OC, 3), gy = rnd(ny, 4);
      std::vector<float> y_ref(ny), gx_ref(nx), gw_ref(nw), gb_ref(c.OC);
      reference(keys::conv3d_fwd)(g, x.data(), w.data(), bias ? b.data() : nullptr, y_ref.data());
      reference(keys::conv3d_bwd_data)(g, gy.data(), w.data(), gx_ref.data());
      reference(keys::conv3d_bwd_weight)(g, x.data(), gy.data(), gw_ref.data(), bias ? gb_ref.data() : nullptr);
      for (const auto& v : fast_variants(keys::conv3d_fwd)) {
        const auto vd = partner(keys::conv3d_bwd_data, v.backend);
        const auto vw = partner(keys::conv3d_bwd_weight, v.backend);
        if (!vd.fn || !vw.fn) continue;
        SCOPED_TRACE("backend " + v.backend + " C=" + std::to_string(c.C) + " OC=" + std::to_string(c.OC) +
                     " G=" + std::to_string(c.G) + (bias ? " bias" : ""));
        std::vector<float> y(ny, 1e30f), gx(nx, 1e30f), gw(nw, 1e30f), gb(c.OC, 1e30f);
        v.fn(g, x.data(), w.data(), bias ? b.data() : nullptr, y.data());
        vd.fn(g, gy.data(), w.data(), gx.data());
        vw.fn(g, x.data(), gy.data(), gw.data(), bias ? gb.data() : nullptr);
        EXPECT_TRUE(close(y, y_ref));
        EXPECT_TRUE(close(gx, gx_ref));
        EXPECT_TRUE(close(gw, gw_ref));
        if (bias) {
          EXPECT_TRUE(close(gb, gb_ref));
        }
        count_compared(keys::conv3d_fwd), count_compared(keys::conv3d_bwd_data),
            count_compared(keys::conv3d_bwd_weight);
      }
    }
  struct P {
    int64_t N, C;
    std::array<int64_t, 3> in, k, s, p, d;
    bool include_pad;
  };
  const P pools[] = {{1, 1, {4, 4, 4}, {2, 2, 2}, {2, 2, 2}, {0, 0, 0}, {1, 1, 1}, true},
                     {2, 3, {7, 6, 5}, {3, 3, 3}, {2, 2, 2}, {1, 1, 1}, {1, 1, 1}, false},
                     {4, 16, {16, 16, 16}, {3, 3, 3}, {2, 2, 2}, {1, 1, 1}, {1, 1, 1}, true},
                     {2, 2, {9, 8, 7}, {2, 3, 2}, {1, 2, 1}, {1, 1, 0}, {2, 1, 3}, true}};
  for (const P& c : pools) {
    kernels::Pool3dGeom g{};
    g.N = c.N, g.C = c.C, g.count_include_pad = c.include_pad;
    for (int a = 0; a < 3; ++a) {
      g.in[a] = c.in[a], g.k[a] = c.k[a], g.s[a] = c.s[a], g.p[a] = c.p[a], g.d[a] = c.d[a];
      g.out[a] = (c.in[a] + 2 * c.p[a] - c.d[a] * (c.k[a] - 1) - 1) / c.s[a] + 1;
    }
    const bool dilated = c.d != std::array<int64_t, 3>{1, 1, 1};
    const int64_t nx = c.N * c.C * c.in[0] * c.in[1] * c.in[2], ny = c.N * c.C * g.out[0] * g.out[1] * g.out[2];
    auto x = rnd(nx, 5);
    x[3] = x[4];  // a tie: the first maximum wins
    const auto gy = rnd(ny, 6);
    std::vector<float> ym_ref(ny), ya_ref(ny), gm_ref(nx), ga_ref(nx);
    std::vector<int64_t> am_ref(ny);
    reference(keys::max_pool3d_fwd)(g, x.data(), ym_ref.data(), am_ref.data());
    reference(keys::max_pool3d_bwd)(g, gy.data(), am_ref.data(), gm_ref.data());
    if (!dilated) {
      reference(keys::avg_pool3d_fwd)(g, x.data(), ya_ref.data());
      reference(keys::avg_pool3d_bwd)(g, gy.data(), ga_ref.data());
    }
    for (const auto& v : fast_variants(keys::max_pool3d_fwd)) {
      const auto vb = partner(keys::max_pool3d_bwd, v.backend);
      const auto af = partner(keys::avg_pool3d_fwd, v.backend);
      const auto ab = partner(keys::avg_pool3d_bwd, v.backend);
      if (!vb.fn || !af.fn || !ab.fn) continue;
      SCOPED_TRACE("pool backend " + v.backend + " C=" + std::to_string(c.C));
      std::vector<float> ym(ny, 1e30f), gm(nx, 1e30f);
      std::vector<int64_t> am(ny, -7);
      v.fn(g, x.data(), ym.data(), am.data());
      vb.fn(g, gy.data(), am.data(), gm.data());
      EXPECT_EQ(am, am_ref);
      EXPECT_TRUE(close(ym, ym_ref, 0, 0));
      EXPECT_TRUE(close(gm, gm_ref));
      count_compared(keys::max_pool3d_fwd), count_compared(keys::max_pool3d_bwd);
      if (dilated) continue;
      std::vector<float> ya(ny, 1e30f), ga(nx, 1e30f);
      af.fn(g, x.data(), ya.data());
      ab.fn(g, gy.data(), ga.data());
      EXPECT_TRUE(close(ya, ya_ref));
      EXPECT_TRUE(close(ga, ga_ref));
      count_compared(keys::avg_pool3d_fwd), count_compared(keys::avg_pool3d_bwd);
    }
  }
  expect_compared({&keys::conv3d_fwd, &keys::conv3d_bwd_data, &keys::conv3d_bwd_weight, &keys::max_pool3d_fwd,
                   &keys::max_pool3d_bwd, &keys::avg_pool3d_fwd, &keys::avg_pool3d_bwd});
}
