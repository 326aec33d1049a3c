// Every registered variant of the elementwise, activation, batch-norm, pooling, softmax and
// cross-entropy kernels against the reference kernel of the same key, forward and backward,
// over a grid of configurations (tiny to large enough for the threaded paths, odd sizes,
// NaN and ties where the semantics say something about them). As Conv2dVariants and
// GemmVariants do for conv2d and GEMM: a new backend registering one of these keys is
// tested here without a line of new test code. No fallbacks: a backend is compared key by
// key with its own kernels (util/variants.h), each family test fails if it compared no
// non-reference kernel of a key the README's Backends table calls fast or threaded, and
// test_kernel_coverage.cpp checks that every key is compared by some test and that table
// against the registry.
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <map>

#include "kernels/activation.h"
#include "kernels/batch_norm.h"
#include "kernels/convert.h"
#include "kernels/elementwise.h"
#include "kernels/interp.h"
#include "kernels/loss.h"
#include "kernels/norm.h"
#include "kernels/optim.h"
#include "kernels/pad.h"
#include "kernels/pool2d.h"
#include "kernels/prelu.h"
#include "kernels/registry.h"
#include "kernels/softmax.h"
#include "kernels/strided.h"
#include "kernels/vector.h"
#include "util/test_util.h"
#include "util/variants.h"

using namespace convnet;
using namespace convnet::kernels;
using convnet::testing::all_close;
using convnet::testing::close;
using convnet::testing::close_nan;
using convnet::testing::count_compared;
using convnet::testing::expect_compared;
using convnet::testing::fast_variants;
using convnet::testing::kLengths;
using convnet::testing::partner;
using convnet::testing::random_doubles;
using convnet::testing::reference;
using convnet::testing::rnd;

TEST(KernelVariants, Activations) {
  struct Pair {
    const char* name;
    Kernel<ActFwdFn<float>>& fk;
    Kernel<ActBwdFn<float>>& bk;
  };
  const Pair pairs[] = {{"relu", keys::relu_fwd, keys::relu_bwd},
                        {"leaky_relu", keys::leaky_relu_fwd, keys::leaky_relu_bwd},
                        {"relu6", keys::relu6_fwd, keys::relu6_bwd},
                        {"tanh", keys::tanh_fwd, keys::tanh_bwd},
                        {"sigmoid", keys::sigmoid_fwd, keys::sigmoid_bwd},
                        {"hardsigmoid", keys::hardsigmoid_fwd, keys::hardsigmoid_bwd},
                        {"hardswish", keys::hardswish_fwd, keys::hardswish_bwd},
                        {"silu", keys::silu_fwd, keys::silu_bwd},
                        {"gelu", keys::gelu_fwd, keys::gelu_bwd},
                        {"gelu_tanh", keys::gelu_tanh_fwd, keys::gelu_tanh_bwd},
                        {"elu", keys::elu_fwd, keys::elu_bwd},
                        {"selu", keys::selu_fwd, keys::selu_bwd},
                        {"softplus", keys::softplus_fwd, keys::softplus_bwd},
                        {"softsign", keys::softsign_fwd, keys::softsign_bwd},
                        {"erf", keys::erf_fwd, keys::erf_bwd},
                        {"exp", keys::exp_fwd, keys::exp_bwd},
                        {"abs", keys::abs_fwd, keys::abs_bwd},
                        {"sqrt", keys::sqrt_fwd, keys::sqrt_bwd},
                        {"floor", keys::floor_fwd, keys::floor_bwd},
                        {"ceil", keys::ceil_fwd, keys::ceil_bwd},
                        {"reciprocal", keys::reciprocal_fwd, keys::reciprocal_bwd},
                        {"log", keys::log_fwd, keys::log_bwd}};
  std::vector<const KernelBase*> all;
  for (const auto& [name, fk, bk] : pairs) {
    all.push_back(&fk), all.push_back(&bk);
    const auto rf = reference(fk);
    const auto rb = reference(bk);
    for (const auto& v : fast_variants(fk)) {
      const auto vb = partner(bk, v.backend);
      if (!vb.fn) continue;
      for (int64_t n : kLengths) {
        SCOPED_TRACE(std::string(name) + " backend " + v.backend + " n=" + std::to_string(n));
        auto x = rnd(n, n + 1, 8.f);  // [-8, 8): both kinks of relu6, saturating tanh/sigmoid
        if (n > 3) x[1] = 0.f, x[2] = 6.f, x[3] = std::numeric_limits<float>::quiet_NaN();
        if (n > 5) x[4] = -3.f, x[5] = 3.f;  // hardsigmoid's and hardswish's kinks
        auto gy = rnd(n, n + 2);
        const float a = 0.1f;
        std::vector<float> y_ref(n), gx_ref(n), y(n, 1e30f), gx(n, 1e30f);
        rf(n, a, x.data(), y_ref.data());
        rb(n, a, x.data(), y_ref.data(), gy.data(), gx_ref.data());
        v.fn(n, a, x.data(), y.data());
        vb.fn(n, a, x.data(), y_ref.data(), gy.data(), gx.data());
        EXPECT_TRUE(close_nan(y, y_ref));
        EXPECT_TRUE(close_nan(gx, gx_ref));
        count_compared(fk), count_compared(bk);
      }
    }
  }
  expect_compared(all);
}

TEST(KernelVariants, Prelu) {
  const auto rf = reference(keys::prelu_fwd);
  const auto rb = reference(keys::prelu_bwd);
  for (const auto& v : fast_variants(keys::prelu_fwd)) {
    const auto vb = partner(keys::prelu_bwd, v.backend);
    if (!vb.fn) continue;
    struct G {
      int64_t n, c, s;
    };
    for (const G g : {G{1, 1, 1}, G{2, 3, 5}, G{4, 16, 49}, G{3, 7, 1}, G{1, 64, 300}})
      for (int64_t wc : {int64_t{1}, g.c}) {
        SCOPED_TRACE("backend " + v.backend + " n=" + std::to_string(g.n) + " c=" + std::to_string(g.c) +
                     " s=" + std::to_string(g.s) + " slopes=" + std::to_string(wc));
        const int64_t total = g.n * g.c * g.s;
        auto x = rnd(total, total + 3, 4.f);
        if (total > 2) x[1] = 0.f;
        const auto w = rnd(wc, wc + 5);
        const auto gy = rnd(total, total + 7);
        std::vector<float> y_ref(total), gx_ref(total), gw_ref(wc), y(total, 1e30f), gx(total, 1e30f), gw(wc, 1e30f);
        rf(g.n, g.c, g.s, wc, x.data(), w.data(), y_ref.data());
        rb(g.n, g.c, g.s, wc, x.data(), w.data(), gy.data(), gx_ref.data(), gw_ref.data());
        v.fn(g.n, g.c, g.s, wc, x.data(), w.data(), y.data());
        vb.fn(g.n, g.c, g.s, wc, x.data(), w.data(), gy.data(), gx.data(), gw.data());
        EXPECT_TRUE(close(y, y_ref));
        EXPECT_TRUE(close(gx, gx_ref));
        EXPECT_TRUE(close(gw, gw_ref));
        count_compared(keys::prelu_fwd), count_compared(keys::prelu_bwd);
      }
  }
  expect_compared({&keys::prelu_fwd, &keys::prelu_bwd});
}

TEST(KernelVariants, ElementwiseAndSum) {
  for (Kernel<BinaryFn<float>>* k : {&keys::add, &keys::sub, &keys::mul}) {
    auto& key = *k;
    const auto r = reference(key);
    for (const auto& v : fast_variants(key)) {
      for (int64_t n : kLengths) {
        SCOPED_TRACE(std::string(key.name()) + " backend " + v.backend + " n=" + std::to_string(n));
        auto a = rnd(n, 3 * n), b = rnd(n, 3 * n + 1);
        std::vector<float> y_ref(n), y(n, 1e30f);
        r(n, a.data(), b.data(), y_ref.data());
        v.fn(n, a.data(), b.data(), y.data());
        EXPECT_TRUE(close(y, y_ref, 0, 0));
        // In place (y == a), as autograd accumulates gradients.
        v.fn(n, a.data(), b.data(), a.data());
        EXPECT_TRUE(close(a, y_ref, 0, 0));
        count_compared(key);
      }
    }
  }
  const auto rs = reference(keys::scale);
  for (const auto& v : fast_variants(keys::scale)) {
    for (int64_t n : kLengths) {
      auto x = rnd(n, n + 5);
      std::vector<float> y_ref(n), y(n);
      rs(n, -1.5f, x.data(), y_ref.data());
      v.fn(n, -1.5f, x.data(), y.data());
      EXPECT_TRUE(close(y, y_ref, 0, 0)) << v.backend << " n=" << n;
      count_compared(keys::scale);
    }
  }
  const auto rsum = reference(keys::sum);
  for (const auto& v : fast_variants(keys::sum)) {
    for (int64_t n : kLengths) {
      auto x = rnd(n, n + 6);
      float s_ref = 0, s = 0;
      rsum(n, x.data(), &s_ref);
      v.fn(n, x.data(), &s);
      EXPECT_NEAR(s, s_ref, 1e-5 * std::sqrt(static_cast<double>(n)) + 1e-6) << v.backend << " n=" << n;
      count_compared(keys::sum);
    }
  }
  expect_compared({&keys::add, &keys::sub, &keys::mul, &keys::scale, &keys::sum});
}

TEST(KernelVariants, Concat) {
  struct Case {
    int64_t outer, inner;
    std::vector<int64_t> sizes;
  };
  const std::vector<Case> cases = {{1, 1, {1}}, {3, 5, {2, 1, 4}}, {64, 196, {32, 64, 16}}, {2, 4096, {7, 9}}};
  const auto rf = reference(keys::concat_fwd);
  const auto rb = reference(keys::concat_bwd);
  for (const auto& v : fast_variants(keys::concat_fwd)) {
    const auto vb = partner(keys::concat_bwd, v.backend);
    if (!vb.fn) continue;
    for (const auto& c : cases) {
      const auto count = static_cast<int64_t>(c.sizes.size());
      int64_t total = 0;
      std::vector<std::vector<float>> xs;
      std::vector<const float*> ptrs;
      for (int64_t i = 0; i < count; ++i) {
        xs.push_back(rnd(c.outer * c.sizes[i] * c.inner, 40 + i));
        total += c.sizes[i];
      }
      for (auto& x : xs) ptrs.push_back(x.data());
      const int64_t ny = c.outer * total * c.inner;
      std::vector<float> y_ref(ny), y(ny);
      rf(c.outer, c.inner, count, c.sizes.data(), ptrs.data(), y_ref.data());
      v.fn(c.outer, c.inner, count, c.sizes.data(), ptrs.data(), y.data());
      EXPECT_TRUE(close(y, y_ref, 0, 0)) << v.backend;
      std::vector<std::vector<float>> g_ref(count), g(count);
      std::vector<float*> gr, gp;
      for (int64_t i = 0; i < count; ++i) {
        g_ref[i].assign(xs[i].size(), 0.f);
        g[i].assign(xs[i].size(), 0.f);
        // The second input needs no gradient: a null slot is skipped.
        gr.push_back(i == 1 ? nullptr : g_ref[i].data());
        gp.push_back(i == 1 ? nullptr : g[i].data());
      }
      rb(c.outer, c.inner, count, c.sizes.data(), y.data(), gr.data());
      vb.fn(c.outer, c.inner, count, c.sizes.data(), y.data(), gp.data());
      for (int64_t i = 0; i < count; ++i) EXPECT_TRUE(close(g[i], g_ref[i], 0, 0)) << v.backend << " input " << i;
      count_compared(keys::concat_fwd), count_compared(keys::concat_bwd);
    }
  }
  expect_compared({&keys::concat_fwd, &keys::concat_bwd});
}

TEST(KernelVariants, BatchNorm) {
  // N, C, S: BatchNorm1d (S = 1), one channel, RGB, odd sizes, resnet-sized.
  const std::vector<BatchNormGeom> geoms = {{2, 1, 1},  {4, 3, 1},    {5, 3, 7},      {3, 16, 33},
                                            {8, 5, 64}, {64, 16, 64}, {16, 64, 1024}, {128, 10, 1}};
  const auto rft = reference(keys::batch_norm_fwd_train);
  const auto rfe = reference(keys::batch_norm_fwd_eval);
  const auto rbw = reference(keys::batch_norm_bwd);
  for (const auto& v : fast_variants(keys::batch_norm_fwd_train)) {
    const auto ve = partner(keys::batch_norm_fwd_eval, v.backend);
    const auto vb = partner(keys::batch_norm_bwd, v.backend);
    if (!ve.fn || !vb.fn) continue;
    for (size_t gi = 0; gi < geoms.size() * 3; ++gi) {
      // Each geometry plain, and channel-blocked by 8 and 16 where the channels fill blocks.
      BatchNormGeom g = geoms[gi / 3];
      g.B = (gi % 3) * 8;
      if (g.B && g.C % g.B) continue;
      const int64_t n = g.N * g.C * g.S;
      // An offset mean (3) and a scale (2): the statistics must not lose digits to it.
      auto x = rnd(n, 100 + gi, 2.f);
      for (auto& e : x) e += 3.f;
      auto w = rnd(g.C, 200 + gi), b = rnd(g.C, 300 + gi), gy = rnd(n, 400 + gi);
      for (bool affine : {true, false}) {
        SCOPED_TRACE("backend " + v.backend + " geom " + std::to_string(gi / 3) + " block " + std::to_string(g.B) +
                     (affine ? " affine" : " plain"));
        const float* pw = affine ? w.data() : nullptr;
        const float* pb = affine ? b.data() : nullptr;
        std::vector<float> y_ref(n), m_ref(g.C), v_ref(g.C), y(n), m(g.C), var(g.C);
        rft(g, x.data(), pw, pb, 1e-5, y_ref.data(), m_ref.data(), v_ref.data());
        v.fn(g, x.data(), pw, pb, 1e-5, y.data(), m.data(), var.data());
        EXPECT_TRUE(close(y, y_ref));
        EXPECT_TRUE(close(m, m_ref));
        EXPECT_TRUE(close(var, v_ref));
        // Eval with given statistics.
        rfe(g, x.data(), m_ref.data(), v_ref.data(), pw, pb, 1e-5, y_ref.data());
        ve.fn(g, x.data(), m_ref.data(), v_ref.data(), pw, pb, 1e-5, y.data());
        EXPECT_TRUE(close(y, y_ref));
        for (bool batch_stats : {true, false}) {
          SCOPED_TRACE(batch_stats ? "batch statistics" : "given statistics");
          std::vector<float> gx_ref(n), gw_ref(g.C), gb_ref(g.C), gx(n), gw(g.C), gb(g.C);
          rbw(g, x.data(), gy.data(), m_ref.data(), v_ref.data(), pw, 1e-5, batch_stats, gx_ref.data(), gw_ref.data(),
              gb_ref.data());
          vb.fn(g, x.data(), gy.data(), m_ref.data(), v_ref.data(), pw, 1e-5, batch_stats,
                                          gx.data(), gw.data(), gb.data());
          EXPECT_TRUE(close(gx, gx_ref));
          EXPECT_TRUE(close(gw, gw_ref));
          EXPECT_TRUE(close(gb, gb_ref));
          // Only the input gradient wanted (frozen affine parameters).
          std::vector<float> gx2(n);
          vb.fn(g, x.data(), gy.data(), m_ref.data(), v_ref.data(), pw, 1e-5, batch_stats,
                                          gx2.data(), nullptr, nullptr);
          EXPECT_TRUE(close(gx2, gx_ref));
        }
        count_compared(keys::batch_norm_fwd_train), count_compared(keys::batch_norm_fwd_eval), count_compared(keys::batch_norm_bwd);
      }
    }
  }
  expect_compared({&keys::batch_norm_fwd_train, &keys::batch_norm_fwd_eval, &keys::batch_norm_bwd});
}

namespace {
// Plain (N, C, H, W) data as channel-blocked (N, C/B, H, W, B), and back (B = 0: a copy).
std::vector<float> blocked(const std::vector<float>& x, int64_t N, int64_t C, int64_t HW, int64_t B) {
  if (B == 0) return x;
  std::vector<float> y(x.size());
  for (int64_t nc = 0; nc < N * C; ++nc)
    for (int64_t i = 0; i < HW; ++i) y[plane_at(C, B, nc, i, HW)] = x[nc * HW + i];
  return y;
}
}  // namespace

TEST(KernelVariants, Pooling) {
  // N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, (OH, OW computed), count_include_pad
  struct Cfg {
    int64_t N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW;
    bool ceil, include_pad;
  };
  const std::vector<Cfg> cfgs = {
      {2, 3, 8, 8, 2, 2, 2, 2, 0, 0, 1, 1, false, true},      // 2x2 stride 2 (the fast path)
      {2, 3, 7, 9, 2, 2, 2, 2, 0, 0, 1, 1, false, true},      // odd sizes: last row/col unread
      {2, 3, 7, 9, 2, 2, 2, 2, 0, 0, 1, 1, true, true},       // ceil_mode
      {1, 2, 9, 9, 3, 3, 2, 2, 1, 1, 1, 1, false, false},     // 3x3/2 padded (ResNet stem)
      {1, 2, 9, 9, 3, 3, 2, 2, 1, 1, 1, 1, false, true},      // count_include_pad
      {2, 2, 10, 10, 3, 2, 1, 3, 1, 1, 2, 1, false, true},    // dilation (max only)
      {64, 32, 16, 16, 2, 2, 2, 2, 0, 0, 1, 1, false, true},  // big enough for threads
      {2, 3, 6, 70, 2, 2, 2, 2, 0, 0, 1, 1, false, true},     // rows of 35 windows: 16 + 16 + 3
      {2, 16, 8, 10, 2, 2, 2, 2, 0, 0, 1, 1, false, true},    // 16 channels: blocked layouts too
      {2, 16, 9, 9, 3, 3, 2, 2, 1, 1, 1, 1, false, true},     // ... with a window the 2x2 path does not take
      {2, 3, 5, 71, 3, 3, 1, 1, 1, 1, 1, 1, false, true},     // 3x3/1 (GoogLeNet): vector rows of 16 + tail
      {2, 3, 6, 75, 3, 3, 2, 2, 1, 1, 1, 1, true, false},     // 3x3/2 ceil_mode on wide rows: 16 + 16 + 6
      {2, 16, 7, 7, 3, 3, 1, 1, 1, 1, 1, 1, true, true},      // GoogLeNet's branch pool, blocked
      {1, 32, 11, 11, 3, 3, 2, 2, 0, 0, 1, 1, true, true},    // GoogLeNet's 3x3/2 ceil_mode, blocked
      {2, 16, 6, 6, 2, 2, 2, 2, 0, 0, 1, 1, false, true},     // DenseNet's 2x2 average transition, blocked
      {1, 16, 5, 5, 3, 3, 3, 3, 1, 1, 2, 2, false, true},     // dilation and stride 3, blocked (max only)
      {1, 2, 4, 4, 1, 1, 3, 3, 0, 0, 1, 1, true, true},       // 1x1 window, strided, ceil_mode
  };
  auto out = [](int64_t in, int64_t k, int64_t s, int64_t p, int64_t d, bool ceil) {
    const int64_t num = in + 2 * p - d * (k - 1) - 1 + (ceil ? s - 1 : 0);
    int64_t o = num / s + 1;
    if (ceil && (o - 1) * s >= in + p) --o;
    return o;
  };
  const auto rmf = reference(keys::max_pool2d_fwd);
  const auto rmb = reference(keys::max_pool2d_bwd);
  const auto raf = reference(keys::avg_pool2d_fwd);
  const auto rab = reference(keys::avg_pool2d_bwd);
  for (size_t ci = 0; ci < cfgs.size(); ++ci) {
    const Cfg& c = cfgs[ci];
    Pool2dGeom g{c.N, c.C, c.H, c.W, c.KH, c.KW, c.SH, c.SW, c.PH, c.PW, c.DH, c.DW, 0, 0, c.include_pad};
    g.OH = out(c.H, c.KH, c.SH, c.PH, c.DH, c.ceil);
    g.OW = out(c.W, c.KW, c.SW, c.PW, c.DW, c.ceil);
    const int64_t nx = g.N * g.C * g.H * g.W, ny = g.N * g.C * g.OH * g.OW;
    auto x = rnd(nx, 500 + ci), gy = rnd(ny, 600 + ci);
    // Ties (the first maximum wins) and NaN (it wins, and propagates).
    x[1] = x[0];
    if (nx > 20) x[20] = std::numeric_limits<float>::quiet_NaN();
    if (nx > 200) x[200] = x[199] = x[150];
    for (int64_t B : {0, 8, 16}) {
      if (B && c.C % B) continue;
      g.B = B;  // pooling takes channel-blocked layouts too
      const auto bx = blocked(x, g.N, g.C, g.H * g.W, B), bgy = blocked(gy, g.N, g.C, g.OH * g.OW, B);
      for (const auto& v : fast_variants(keys::max_pool2d_fwd)) {
        const auto vb = partner(keys::max_pool2d_bwd, v.backend);
        if (!vb.fn) continue;
        SCOPED_TRACE("max backend " + v.backend + " config " + std::to_string(ci) + " block " + std::to_string(B));
        std::vector<float> y_ref(ny), y(ny), gx_ref(nx), gx(nx, 1e30f);
        std::vector<int64_t> am_ref(ny), am(ny);
        rmf(g, bx.data(), y_ref.data(), am_ref.data());
        v.fn(g, bx.data(), y.data(), am.data());
        EXPECT_TRUE(close_nan(y, y_ref));
        EXPECT_EQ(am, am_ref);
        std::vector<float> y_noidx(ny);
        v.fn(g, bx.data(), y_noidx.data(), nullptr);  // inference: no indices
        EXPECT_TRUE(close_nan(y_noidx, y_ref));
        rmb(g, bgy.data(), am_ref.data(), gx_ref.data());
        vb.fn(g, bgy.data(), am_ref.data(), gx.data());
        EXPECT_TRUE(close(gx, gx_ref));
        count_compared(keys::max_pool2d_fwd), count_compared(keys::max_pool2d_bwd);
      }
      if (c.DH != 1 || c.DW != 1) continue;  // avg pooling has no dilation
      auto ax = bx;
      for (auto& e : ax)
        if (std::isnan(e)) e = 0.5f;
      for (const auto& v : fast_variants(keys::avg_pool2d_fwd)) {
        const auto vb = partner(keys::avg_pool2d_bwd, v.backend);
        if (!vb.fn) continue;
        SCOPED_TRACE("avg backend " + v.backend + " config " + std::to_string(ci) + " block " + std::to_string(B));
        std::vector<float> y_ref(ny), y(ny), gx_ref(nx), gx(nx, 1e30f);
        raf(g, ax.data(), y_ref.data());
        v.fn(g, ax.data(), y.data());
        EXPECT_TRUE(close(y, y_ref, 0, 0));  // the same sums in the same order: bit-identical
        rab(g, bgy.data(), gx_ref.data());
        vb.fn(g, bgy.data(), gx.data());
        EXPECT_TRUE(close(gx, gx_ref, 0, 0));
        count_compared(keys::avg_pool2d_fwd), count_compared(keys::avg_pool2d_bwd);
      }
    }
  }
  // Adaptive pooling: overlapping windows, global (ResNet's head), and 7x7 from 14x14.
  const std::vector<AdaptivePool2dGeom> ag = {
      {2, 3, 7, 5, 3, 2}, {128, 64, 8, 8, 1, 1}, {4, 8, 14, 14, 7, 7}, {2, 32, 7, 7, 1, 1}, {2, 16, 9, 5, 4, 3}};
  const auto raaf = reference(keys::adaptive_avg_pool2d_fwd);
  const auto raab = reference(keys::adaptive_avg_pool2d_bwd);
  const auto ramf = reference(keys::adaptive_max_pool2d_fwd);
  const auto ramb = reference(keys::adaptive_max_pool2d_bwd);
  for (size_t gi = 0; gi < ag.size(); ++gi) {
    AdaptivePool2dGeom g = ag[gi];
    const int64_t nx = g.N * g.C * g.H * g.W, ny = g.N * g.C * g.OH * g.OW;
    auto x = rnd(nx, 700 + gi), gy = rnd(ny, 800 + gi);
    for (int64_t B : {0, 8, 16}) {
      if (B && g.C % B) continue;
      g.B = B;  // average pooling takes channel-blocked layouts
      const auto bx = blocked(x, g.N, g.C, g.H * g.W, B), bgy = blocked(gy, g.N, g.C, g.OH * g.OW, B);
      for (const auto& v : fast_variants(keys::adaptive_avg_pool2d_fwd)) {
        const auto vb = partner(keys::adaptive_avg_pool2d_bwd, v.backend);
        if (!vb.fn) continue;
        SCOPED_TRACE("adaptive avg backend " + v.backend + " geom " + std::to_string(gi) + " block " +
                     std::to_string(B));
        std::vector<float> y_ref(ny), y(ny), gx_ref(nx), gx(nx);
        raaf(g, bx.data(), y_ref.data());
        v.fn(g, bx.data(), y.data());
        EXPECT_TRUE(close(y, y_ref, 0, 0));
        raab(g, bgy.data(), gx_ref.data());
        vb.fn(g, bgy.data(), gx.data());
        EXPECT_TRUE(close(gx, gx_ref, 0, 0));
        count_compared(keys::adaptive_avg_pool2d_fwd), count_compared(keys::adaptive_avg_pool2d_bwd);
      }
    }
    g.B = 0;  // adaptive max pooling is plain only
    for (const auto& v : fast_variants(keys::adaptive_max_pool2d_fwd)) {
      const auto vb = partner(keys::adaptive_max_pool2d_bwd, v.backend);
      if (!vb.fn) continue;
      SCOPED_TRACE("adaptive max backend " + v.backend + " geom " + std::to_string(gi));
      std::vector<float> y_ref(ny), y(ny), gx_ref(nx), gx(nx);
      std::vector<int64_t> am_ref(ny), am(ny);
      ramf(g, x.data(), y_ref.data(), am_ref.data());
      v.fn(g, x.data(), y.data(), am.data());
      EXPECT_TRUE(close(y, y_ref));
      EXPECT_EQ(am, am_ref);
      ramb(g, gy.data(), am_ref.data(), gx_ref.data());
      vb.fn(g, gy.data(), am_ref.data(), gx.data());
      EXPECT_TRUE(close(gx, gx_ref));
      count_compared(keys::adaptive_max_pool2d_fwd), count_compared(keys::adaptive_max_pool2d_bwd);
    }
  }
  expect_compared({&keys::max_pool2d_fwd, &keys::max_pool2d_bwd, &keys::avg_pool2d_fwd, &keys::avg_pool2d_bwd, &keys::adaptive_avg_pool2d_fwd, &keys::adaptive_avg_pool2d_bwd, &keys::adaptive_max_pool2d_fwd, &keys::adaptive_max_pool2d_bwd});
}

TEST(KernelVariants, Convert) {
  const DType all[] = {DType::float32, DType::bfloat16, DType::float16, DType::int64,
                       DType::int32,   DType::uint8,    DType::bool_};
  for (const auto& v : fast_variants(keys::convert)) {
    for (const DType from : all)
      for (const DType to : all) {
        if (from == to) continue;
        for (int64_t n : kLengths) {
          SCOPED_TRACE(std::string("convert ") + dtype_name(from) + " -> " + dtype_name(to) + " backend " + v.backend +
                       " n=" + std::to_string(n));
          // Source values: float32 data with NaN, inf and rounding ties, converted to `from`
          // by the reference (so every source dtype gets its own valid bit patterns).
          auto f = rnd(n, n + 17, 300.f);
          if (n > 4) f[1] = NAN, f[2] = INFINITY, f[3] = 1.00390625f, f[4] = -0.f;
          for (auto& e : f)
            if (!is_floating(from) && !std::isfinite(e)) e = 7.f;
          if (from == DType::uint8 || to == DType::uint8)
            for (auto& e : f) e = std::abs(e) < 255.f ? std::abs(e) : 3.f;  // uint8's range
          std::vector<char> x(static_cast<size_t>(n * dtype_size(from))), y_ref(n * dtype_size(to)), y(y_ref.size(), 9);
          if (from == DType::float32)
            std::memcpy(x.data(), f.data(), x.size());
          else
            ref::convert(n, DType::float32, f.data(), from, x.data());
          reference(keys::convert)(n, from, x.data(), to, y_ref.data());
          v.fn(n, from, x.data(), to, y.data());
          EXPECT_EQ(std::memcmp(y.data(), y_ref.data(), y.size()), 0);
          count_compared(keys::convert);
        }
      }
  }
  expect_compared({&keys::convert});
}

// The fused optimizer updates over a group of tensors of very different sizes (the cpu
// kernel splits the concatenated group over the threads, across tensor boundaries):
// bit-identical to the reference for every option.
TEST(KernelVariants, OptimizerSteps) {
  const std::vector<int64_t> sizes = {1, 7, 300001, 16, 65536 + 5, 3};
  auto group = [&](uint64_t seed, float scale) {
    std::vector<std::vector<float>> v;
    for (size_t t = 0; t < sizes.size(); ++t) v.push_back(rnd(sizes[t], seed + t, scale));
    return v;
  };
  auto ptrs = [](std::vector<std::vector<float>>& v) {
    std::vector<float*> p;
    for (auto& e : v) p.push_back(e.data());
    return p;
  };
  const auto count = static_cast<int64_t>(sizes.size());
  for (const auto& var : fast_variants(keys::sgd_step))
    for (int opt = 0; opt < 8; ++opt) {
      SCOPED_TRACE("sgd backend " + var.backend + " options " + std::to_string(opt));
      SgdArgs a{-0.05f, (opt & 1) ? 5e-4f : 0.f, (opt & 2) ? 0.9f : 0.f, (opt & 4) ? 1.f : 0.75f,
                (opt & 1) != 0, (opt & 2) != 0, (opt & 6) == 6};
      auto w_ref = group(10, 1.f), g = group(20, 1.f), b_ref = group(30, 1.f);
      auto w = w_ref, b = b_ref;
      std::vector<const float*> gp;
      for (auto& e : g) gp.push_back(e.data());
      const std::vector<uint8_t> first = {1, 0, 1, 0, 0, 1};
      reference(keys::sgd_step)(count, sizes.data(), ptrs(w_ref).data(), gp.data(), ptrs(b_ref).data(), first.data(), a);
      var.fn(count, sizes.data(), ptrs(w).data(), gp.data(), ptrs(b).data(), first.data(), a);
      EXPECT_EQ(w, w_ref);
      EXPECT_EQ(b, b_ref);
      count_compared(keys::sgd_step);
    }
  for (const auto& var : fast_variants(keys::adam_step))
    for (int opt = 0; opt < 4; ++opt) {
      SCOPED_TRACE("adam backend " + var.backend + " options " + std::to_string(opt));
      AdamArgs a{0.9f, 0.999f, 0.1f, 0.001f, 1e-8f, 0.01f, 1.f - 1e-3f * 0.01f, (opt & 1) != 0, true, (opt & 2) != 0};
      auto w_ref = group(40, 1.f), g = group(50, 1.f), m_ref = group(60, 0.1f), v_ref = group(70, 0.01f),
           vm_ref = group(80, 0.01f);
      for (auto* vv : {&v_ref, &vm_ref})
        for (auto& e : *vv)
          for (auto& x : e) x = std::abs(x);  // second moments are non-negative
      auto w = w_ref, m = m_ref, v = v_ref, vm = vm_ref;
      std::vector<const float*> gp;
      for (auto& e : g) gp.push_back(e.data());
      std::vector<float> neg_step, bc2;
      for (int64_t t = 0; t < count; ++t) neg_step.push_back(-1e-3f * (t + 1)), bc2.push_back(0.03f * (t + 1));
      reference(keys::adam_step)(count, sizes.data(), ptrs(w_ref).data(), gp.data(), ptrs(m_ref).data(),
                                 ptrs(v_ref).data(), ptrs(vm_ref).data(), neg_step.data(), bc2.data(), a);
      var.fn(count, sizes.data(), ptrs(w).data(), gp.data(), ptrs(m).data(), ptrs(v).data(), ptrs(vm).data(),
             neg_step.data(), bc2.data(), a);
      EXPECT_EQ(w, w_ref);
      EXPECT_EQ(m, m_ref);
      EXPECT_EQ(v, v_ref);
      EXPECT_EQ(vm, vm_ref);
      count_compared(keys::adam_step);
    }
  expect_compared({&keys::sgd_step, &keys::adam_step});
}

// The vector operations with a CPU kernel: sum_squares within rounding of the summation
// order, axpby and affine within one rounding (the AVX2/AVX-512 clones fuse a * y + b * x
// into FMAs), the dropout mask bit-identical whatever the thread count.
TEST(KernelVariants, VectorOps) {
  for (int64_t n : kLengths) {
    auto x = rnd(n, n + 31, 3.f), y0 = rnd(n, n + 32);
    for (const auto& v : fast_variants(keys::sum_squares)) {
      double r = 0, s = 0;
      reference(keys::sum_squares)(n, x.data(), &r);
      v.fn(n, x.data(), &s);
      EXPECT_NEAR(s, r, 1e-12 * r + 1e-30) << v.backend << " n=" << n;
      count_compared(keys::sum_squares);
    }
    for (const auto& v : fast_variants(keys::sum_squares_many)) {
      // Three tensors: x, its first half, and an empty one.
      const int64_t ns[] = {n, n / 2, 0};
      const float* xs[] = {x.data(), x.data(), x.data()};
      double r[3] = {-1, -1, -1}, s[3] = {-2, -2, -2};
      reference(keys::sum_squares_many)(3, ns, xs, r);
      v.fn(3, ns, xs, s);
      for (int t = 0; t < 3; ++t) EXPECT_NEAR(s[t], r[t], 1e-12 * r[t] + 1e-30) << v.backend << " n=" << ns[t];
      EXPECT_EQ(s[2], 0.0);
      count_compared(keys::sum_squares_many);
    }
    for (const auto& v : fast_variants(keys::axpby)) {
      auto yr = y0, y = y0;
      reference(keys::axpby)(n, 0.999f, yr.data(), 0.001f, x.data());
      v.fn(n, 0.999f, y.data(), 0.001f, x.data());
      EXPECT_TRUE(close(y, yr, 1e-6, 1e-7)) << v.backend << " n=" << n;
      count_compared(keys::axpby);
    }
    for (const auto& v : fast_variants(keys::affine)) {
      std::vector<float> yr(n), y(n);
      reference(keys::affine)(n, 0.9f, x.data(), 0.01f, yr.data());
      v.fn(n, 0.9f, x.data(), 0.01f, y.data());
      EXPECT_TRUE(close(y, yr, 1e-6, 1e-7)) << v.backend << " n=" << n;
      count_compared(keys::affine);
    }
    for (const auto& v : fast_variants(keys::dropout_mask))
      for (int64_t group : {int64_t{1}, int64_t{49}}) {
        std::vector<float> mr(n), m(n);
        reference(keys::dropout_mask)(n, group, 0.3f, 12345, 1.f / 0.7f, mr.data());
        v.fn(n, group, 0.3f, 12345, 1.f / 0.7f, m.data());
        EXPECT_EQ(m, mr) << v.backend << " n=" << n << " group " << group;
        count_compared(keys::dropout_mask);
      }
  }
  expect_compared({&keys::sum_squares, &keys::sum_squares_many, &keys::axpby, &keys::affine, &keys::dropout_mask});
}

TEST(KernelVariants, Softmax) {
  const std::vector<SoftmaxGeom> geoms = {{1, 1, 1}, {4, 10, 1}, {3, 7, 5}, {128, 1000, 1}, {2, 16, 1024}};
  struct Pair {
    const char* name;
    Kernel<SoftmaxFwdFn<float>>& fk;
    Kernel<SoftmaxBwdFn<float>>& bk;
  };
  const Pair pairs[] = {{"softmax", keys::softmax_fwd, keys::softmax_bwd},
                        {"log_softmax", keys::log_softmax_fwd, keys::log_softmax_bwd}};
  for (const auto& [name, fk, bk] : pairs) {
    const auto rf = reference(fk);
    const auto rb = reference(bk);
    for (const auto& v : fast_variants(fk)) {
      const auto vb = partner(bk, v.backend);
      if (!vb.fn) continue;
      for (size_t gi = 0; gi < geoms.size(); ++gi) {
        SCOPED_TRACE(std::string(name) + " backend " + v.backend + " geom " + std::to_string(gi));
        const auto& g = geoms[gi];
        const int64_t n = g.outer * g.D * g.inner;
        auto x = rnd(n, 900 + gi, 20.f), gy = rnd(n, 950 + gi);
        std::vector<float> y_ref(n), y(n), gx_ref(n), gx(n);
        rf(g, x.data(), y_ref.data());
        v.fn(g, x.data(), y.data());
        EXPECT_TRUE(close(y, y_ref, 1e-4, 1e-6));
        rb(g, y_ref.data(), gy.data(), gx_ref.data());
        vb.fn(g, y_ref.data(), gy.data(), gx.data());
        EXPECT_TRUE(close(gx, gx_ref, 1e-4, 1e-6));
        count_compared(fk), count_compared(bk);
      }
    }
  }
  expect_compared({&keys::softmax_fwd, &keys::softmax_bwd, &keys::log_softmax_fwd, &keys::log_softmax_bwd});
}

TEST(KernelVariants, CrossEntropy) {
  const std::vector<std::pair<int64_t, int64_t>> sizes = {{1, 1}, {4, 10}, {128, 10}, {300, 1000}};
  const auto rf = reference(keys::cross_entropy_fwd);
  const auto rb = reference(keys::cross_entropy_bwd);
  for (const auto& v : fast_variants(keys::cross_entropy_fwd)) {
    const auto vb = partner(keys::cross_entropy_bwd, v.backend);
    if (!vb.fn) continue;
    for (const auto& [N, K] : sizes)
      for (Reduction r : {Reduction::None, Reduction::Mean, Reduction::Sum})
        for (float eps : {0.f, 0.1f}) {
          SCOPED_TRACE("backend " + v.backend + " N=" + std::to_string(N) + " K=" + std::to_string(K) + " reduction " +
                       std::to_string(static_cast<int>(r)) + " eps " + std::to_string(eps));
          auto x = rnd(N * K, N + K, 10.f);
          std::vector<int64_t> t(N);
          for (int64_t i = 0; i < N; ++i) t[i] = (i * 7) % K;
          const int64_t nl = r == Reduction::None ? N : 1;
          std::vector<float> l_ref(nl), l(nl), lse_ref(N), lse(N), gy = rnd(nl, 77), gx_ref(N * K), gx(N * K);
          rf(N, K, x.data(), t.data(), eps, r, l_ref.data(), lse_ref.data());
          v.fn(N, K, x.data(), t.data(), eps, r, l.data(), lse.data());
          EXPECT_TRUE(close(l, l_ref));
          EXPECT_TRUE(close(lse, lse_ref));
          rb(N, K, x.data(), t.data(), eps, lse_ref.data(), r, gy.data(), gx_ref.data());
          vb.fn(N, K, x.data(), t.data(), eps, lse_ref.data(), r, gy.data(), gx.data());
          EXPECT_TRUE(close(gx, gx_ref, 1e-4, 1e-6));
          count_compared(keys::cross_entropy_fwd), count_compared(keys::cross_entropy_bwd);
        }
  }
  expect_compared({&keys::cross_entropy_fwd, &keys::cross_entropy_bwd});
}
