// Every registered variant of the elementwise, activation, batch-norm, pooling, softmax and
// cross-entropy kernels against the reference kernel of the same key, forward and backward,
// over a grid of configurations (tiny to large enough for the threaded paths, odd sizes,
// NaN and ties where the semantics say something about them). As Conv2dVariants and
// GemmVariants do for conv2d and GEMM: a new backend registering one of these keys is
// tested here without a line of new test code.
#include <cmath>
#include <functional>
#include <limits>

#include "kernels/activation.h"
#include "kernels/batch_norm.h"
#include "kernels/elementwise.h"
#include "kernels/loss.h"
#include "kernels/pool2d.h"
#include "kernels/registry.h"
#include "kernels/softmax.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::kernels;
using convnet::testing::all_close;
using convnet::testing::random_doubles;

namespace {

std::vector<float> rnd(size_t n, uint64_t seed, float scale = 1.f) {
  auto d = random_doubles(n, seed);
  std::vector<float> f(n);
  for (size_t i = 0; i < n; ++i) f[i] = static_cast<float>(d[i]) * scale;
  return f;
}

::testing::AssertionResult close(const std::vector<float>& a, const std::vector<float>& e, double rtol = 1e-4,
                                 double atol = 1e-4) {
  return all_close(std::vector<double>(a.begin(), a.end()), std::vector<double>(e.begin(), e.end()), rtol, atol);
}

// Bitwise-equal NaN positions, values close elsewhere.
::testing::AssertionResult close_nan(const std::vector<float>& a, const std::vector<float>& e) {
  std::vector<float> a2 = a, e2 = e;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) != std::isnan(e[i]))
      return ::testing::AssertionFailure() << "NaN mismatch at " << i << ": " << a[i] << " vs " << e[i];
    if (std::isnan(a[i])) a2[i] = e2[i] = 0;
  }
  return close(a2, e2);
}

// The variant of `key` with the same backend as `v`, else the reference (a backend may
// register only some keys of a family, the registry then falls back to ref).
Variant same_backend(const std::string& key, const Variant& v) {
  for (const auto& w : variants(key))
    if (w.backend == v.backend) return w;
  for (const auto& w : variants(key))
    if (w.backend == "ref") return w;
  ADD_FAILURE() << "no ref kernel for " << key;
  return {};
}

// Sizes around the threading grain and the 16-element chunk alignment.
const std::vector<int64_t> kLengths = {1, 7, 16, 17, 1000, 32768, 65536 + 5, 300001};

}  // namespace

TEST(KernelVariants, Activations) {
  const char* names[] = {"relu", "leaky_relu", "relu6", "tanh", "sigmoid"};
  for (const char* name : names) {
    const std::string fk = std::string(name) + "_fwd", bk = std::string(name) + "_bwd";
    for (const auto& v : variants(fk)) {
      if (v.backend == "ref") continue;
      const Variant vb = same_backend(bk, v);
      for (int64_t n : kLengths) {
        SCOPED_TRACE(std::string(name) + " backend " + v.backend + " n=" + std::to_string(n));
        auto x = rnd(n, n + 1, 8.f);  // [-8, 8): both kinks of relu6, saturating tanh/sigmoid
        if (n > 3) x[1] = 0.f, x[2] = 6.f, x[3] = std::numeric_limits<float>::quiet_NaN();
        auto gy = rnd(n, n + 2);
        const float a = 0.1f;
        // The reference of each key is the ref-backend variant (get() may give a fast one).
        auto rf = cast<ActFwdFn<float>>(same_backend(fk, Variant{"ref", 0, nullptr}));
        auto rb = cast<ActBwdFn<float>>(same_backend(bk, Variant{"ref", 0, nullptr}));
        std::vector<float> y_ref(n), gx_ref(n), y(n, 1e30f), gx(n, 1e30f);
        rf(n, a, x.data(), y_ref.data());
        rb(n, a, x.data(), y_ref.data(), gy.data(), gx_ref.data());
        cast<ActFwdFn<float>>(v)(n, a, x.data(), y.data());
        cast<ActBwdFn<float>>(vb)(n, a, x.data(), y_ref.data(), gy.data(), gx.data());
        EXPECT_TRUE(close_nan(y, y_ref));
        EXPECT_TRUE(close_nan(gx, gx_ref));
      }
    }
  }
}

TEST(KernelVariants, ElementwiseAndSum) {
  const Variant ref{"ref", 0, nullptr};
  for (const char* key : {"add", "sub", "mul"})
    for (const auto& v : variants(key)) {
      if (v.backend == "ref") continue;
      for (int64_t n : kLengths) {
        SCOPED_TRACE(std::string(key) + " backend " + v.backend + " n=" + std::to_string(n));
        auto a = rnd(n, 3 * n), b = rnd(n, 3 * n + 1);
        std::vector<float> y_ref(n), y(n, 1e30f);
        cast<BinaryFn<float>>(same_backend(key, ref))(n, a.data(), b.data(), y_ref.data());
        cast<BinaryFn<float>>(v)(n, a.data(), b.data(), y.data());
        EXPECT_TRUE(close(y, y_ref, 0, 0));
        // In place (y == a), as autograd accumulates gradients.
        cast<BinaryFn<float>>(v)(n, a.data(), b.data(), a.data());
        EXPECT_TRUE(close(a, y_ref, 0, 0));
      }
    }
  for (const auto& v : variants("scale")) {
    for (int64_t n : kLengths) {
      auto x = rnd(n, n + 5);
      std::vector<float> y_ref(n), y(n);
      cast<ScaleFn<float>>(same_backend("scale", ref))(n, -1.5f, x.data(), y_ref.data());
      cast<ScaleFn<float>>(v)(n, -1.5f, x.data(), y.data());
      EXPECT_TRUE(close(y, y_ref, 0, 0)) << v.backend << " n=" << n;
    }
  }
  for (const auto& v : variants("sum")) {
    for (int64_t n : kLengths) {
      auto x = rnd(n, n + 6);
      float s_ref = 0, s = 0;
      cast<SumFn<float>>(same_backend("sum", ref))(n, x.data(), &s_ref);
      cast<SumFn<float>>(v)(n, x.data(), &s);
      EXPECT_NEAR(s, s_ref, 1e-5 * std::sqrt(static_cast<double>(n)) + 1e-6) << v.backend << " n=" << n;
    }
  }
}

TEST(KernelVariants, Concat) {
  const Variant ref{"ref", 0, nullptr};
  struct Case {
    int64_t outer, inner;
    std::vector<int64_t> sizes;
  };
  const std::vector<Case> cases = {{1, 1, {1}}, {3, 5, {2, 1, 4}}, {64, 196, {32, 64, 16}}, {2, 4096, {7, 9}}};
  for (const auto& v : variants("concat_fwd")) {
    const Variant vb = same_backend("concat_bwd", v);
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
      cast<ConcatFwdFn<float>>(same_backend("concat_fwd", ref))(c.outer, c.inner, count, c.sizes.data(), ptrs.data(),
                                                                y_ref.data());
      cast<ConcatFwdFn<float>>(v)(c.outer, c.inner, count, c.sizes.data(), ptrs.data(), y.data());
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
      cast<ConcatBwdFn<float>>(same_backend("concat_bwd", ref))(c.outer, c.inner, count, c.sizes.data(), y.data(),
                                                                gr.data());
      cast<ConcatBwdFn<float>>(vb)(c.outer, c.inner, count, c.sizes.data(), y.data(), gp.data());
      for (int64_t i = 0; i < count; ++i) EXPECT_TRUE(close(g[i], g_ref[i], 0, 0)) << v.backend << " input " << i;
    }
  }
}

TEST(KernelVariants, BatchNorm) {
  const Variant ref{"ref", 0, nullptr};
  // N, C, S: BatchNorm1d (S = 1), one channel, RGB, odd sizes, resnet-sized.
  const std::vector<BatchNormGeom> geoms = {{2, 1, 1},  {4, 3, 1},    {5, 3, 7},      {3, 16, 33},
                                            {8, 5, 64}, {64, 16, 64}, {16, 64, 1024}, {128, 10, 1}};
  for (const auto& v : variants("batch_norm_fwd_train")) {
    if (v.backend == "ref") continue;
    const Variant ve = same_backend("batch_norm_fwd_eval", v), vb = same_backend("batch_norm_bwd", v);
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
        cast<BatchNormFwdTrainFn<float>>(same_backend("batch_norm_fwd_train", ref))(
            g, x.data(), pw, pb, 1e-5, y_ref.data(), m_ref.data(), v_ref.data());
        cast<BatchNormFwdTrainFn<float>>(v)(g, x.data(), pw, pb, 1e-5, y.data(), m.data(), var.data());
        EXPECT_TRUE(close(y, y_ref));
        EXPECT_TRUE(close(m, m_ref));
        EXPECT_TRUE(close(var, v_ref));
        // Eval with given statistics.
        cast<BatchNormFwdEvalFn<float>>(same_backend("batch_norm_fwd_eval", ref))(
            g, x.data(), m_ref.data(), v_ref.data(), pw, pb, 1e-5, y_ref.data());
        cast<BatchNormFwdEvalFn<float>>(ve)(g, x.data(), m_ref.data(), v_ref.data(), pw, pb, 1e-5, y.data());
        EXPECT_TRUE(close(y, y_ref));
        for (bool batch_stats : {true, false}) {
          SCOPED_TRACE(batch_stats ? "batch statistics" : "given statistics");
          std::vector<float> gx_ref(n), gw_ref(g.C), gb_ref(g.C), gx(n), gw(g.C), gb(g.C);
          cast<BatchNormBwdFn<float>>(same_backend("batch_norm_bwd", ref))(g, x.data(), gy.data(), m_ref.data(),
                                                                           v_ref.data(), pw, 1e-5, batch_stats,
                                                                           gx_ref.data(), gw_ref.data(), gb_ref.data());
          cast<BatchNormBwdFn<float>>(vb)(g, x.data(), gy.data(), m_ref.data(), v_ref.data(), pw, 1e-5, batch_stats,
                                          gx.data(), gw.data(), gb.data());
          EXPECT_TRUE(close(gx, gx_ref));
          EXPECT_TRUE(close(gw, gw_ref));
          EXPECT_TRUE(close(gb, gb_ref));
          // Only the input gradient wanted (frozen affine parameters).
          std::vector<float> gx2(n);
          cast<BatchNormBwdFn<float>>(vb)(g, x.data(), gy.data(), m_ref.data(), v_ref.data(), pw, 1e-5, batch_stats,
                                          gx2.data(), nullptr, nullptr);
          EXPECT_TRUE(close(gx2, gx_ref));
        }
      }
    }
  }
}

TEST(KernelVariants, Pooling) {
  const Variant ref{"ref", 0, nullptr};
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
      {2, 16, 9, 9, 3, 3, 2, 2, 1, 1, 1, 1, false, true},     // ... with a window the fast path does not take
  };
  auto out = [](int64_t in, int64_t k, int64_t s, int64_t p, int64_t d, bool ceil) {
    const int64_t num = in + 2 * p - d * (k - 1) - 1 + (ceil ? s - 1 : 0);
    int64_t o = num / s + 1;
    if (ceil && (o - 1) * s >= in + p) --o;
    return o;
  };
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
    for (const auto& v : variants("max_pool2d_fwd"))
      for (int64_t B : {0, 8, 16}) {
        if (v.backend == "ref" || (B && c.C % B)) continue;
        g.B = B;  // max pooling takes channel-blocked layouts too
        SCOPED_TRACE("max backend " + v.backend + " config " + std::to_string(ci) + " block " + std::to_string(B));
        std::vector<float> y_ref(ny), y(ny), gx_ref(nx), gx(nx, 1e30f);
        std::vector<int64_t> am_ref(ny), am(ny);
        cast<MaxPool2dFwdFn<float>>(same_backend("max_pool2d_fwd", ref))(g, x.data(), y_ref.data(), am_ref.data());
        cast<MaxPool2dFwdFn<float>>(v)(g, x.data(), y.data(), am.data());
        EXPECT_TRUE(close_nan(y, y_ref));
        EXPECT_EQ(am, am_ref);
        std::vector<float> y_noidx(ny);
        cast<MaxPool2dFwdFn<float>>(v)(g, x.data(), y_noidx.data(), nullptr);  // inference: no indices
        EXPECT_TRUE(close_nan(y_noidx, y_ref));
        cast<MaxPool2dBwdFn<float>>(same_backend("max_pool2d_bwd", ref))(g, gy.data(), am_ref.data(), gx_ref.data());
        cast<MaxPool2dBwdFn<float>>(same_backend("max_pool2d_bwd", v))(g, gy.data(), am_ref.data(), gx.data());
        EXPECT_TRUE(close(gx, gx_ref));
      }
    g.B = 0;
    if (c.DH != 1 || c.DW != 1) continue;  // avg pooling has no dilation
    for (auto& e : x)
      if (std::isnan(e)) e = 0.5f;
    for (const auto& v : variants("avg_pool2d_fwd")) {
      if (v.backend == "ref") continue;
      SCOPED_TRACE("avg backend " + v.backend + " config " + std::to_string(ci));
      std::vector<float> y_ref(ny), y(ny), gx_ref(nx), gx(nx, 1e30f);
      cast<AvgPool2dFwdFn<float>>(same_backend("avg_pool2d_fwd", ref))(g, x.data(), y_ref.data());
      cast<AvgPool2dFwdFn<float>>(v)(g, x.data(), y.data());
      EXPECT_TRUE(close(y, y_ref));
      cast<AvgPool2dBwdFn<float>>(same_backend("avg_pool2d_bwd", ref))(g, gy.data(), gx_ref.data());
      cast<AvgPool2dBwdFn<float>>(same_backend("avg_pool2d_bwd", v))(g, gy.data(), gx.data());
      EXPECT_TRUE(close(gx, gx_ref));
    }
  }
  // Adaptive pooling, global and with overlapping windows.
  const std::vector<AdaptivePool2dGeom> ag = {{2, 3, 7, 5, 3, 2}, {128, 64, 8, 8, 1, 1}, {4, 8, 14, 14, 7, 7}};
  for (size_t gi = 0; gi < ag.size(); ++gi) {
    const auto& g = ag[gi];
    const int64_t nx = g.N * g.C * g.H * g.W, ny = g.N * g.C * g.OH * g.OW;
    auto x = rnd(nx, 700 + gi), gy = rnd(ny, 800 + gi);
    for (const auto& v : variants("adaptive_avg_pool2d_fwd")) {
      if (v.backend == "ref") continue;
      SCOPED_TRACE("adaptive avg backend " + v.backend + " geom " + std::to_string(gi));
      std::vector<float> y_ref(ny), y(ny), gx_ref(nx), gx(nx);
      cast<AdaptiveAvgPool2dFwdFn<float>>(same_backend("adaptive_avg_pool2d_fwd", ref))(g, x.data(), y_ref.data());
      cast<AdaptiveAvgPool2dFwdFn<float>>(v)(g, x.data(), y.data());
      EXPECT_TRUE(close(y, y_ref));
      cast<AdaptiveAvgPool2dBwdFn<float>>(same_backend("adaptive_avg_pool2d_bwd", ref))(g, gy.data(), gx_ref.data());
      cast<AdaptiveAvgPool2dBwdFn<float>>(same_backend("adaptive_avg_pool2d_bwd", v))(g, gy.data(), gx.data());
      EXPECT_TRUE(close(gx, gx_ref));
    }
    for (const auto& v : variants("adaptive_max_pool2d_fwd")) {
      if (v.backend == "ref") continue;
      SCOPED_TRACE("adaptive max backend " + v.backend + " geom " + std::to_string(gi));
      std::vector<float> y_ref(ny), y(ny), gx_ref(nx), gx(nx);
      std::vector<int64_t> am_ref(ny), am(ny);
      cast<AdaptiveMaxPool2dFwdFn<float>>(same_backend("adaptive_max_pool2d_fwd", ref))(g, x.data(), y_ref.data(),
                                                                                        am_ref.data());
      cast<AdaptiveMaxPool2dFwdFn<float>>(v)(g, x.data(), y.data(), am.data());
      EXPECT_TRUE(close(y, y_ref));
      EXPECT_EQ(am, am_ref);
      cast<AdaptiveMaxPool2dBwdFn<float>>(same_backend("adaptive_max_pool2d_bwd", ref))(g, gy.data(), am_ref.data(),
                                                                                        gx_ref.data());
      cast<AdaptiveMaxPool2dBwdFn<float>>(same_backend("adaptive_max_pool2d_bwd", v))(g, gy.data(), am_ref.data(),
                                                                                      gx.data());
      EXPECT_TRUE(close(gx, gx_ref));
    }
  }
}

TEST(KernelVariants, Softmax) {
  const Variant ref{"ref", 0, nullptr};
  const std::vector<SoftmaxGeom> geoms = {{1, 1, 1}, {4, 10, 1}, {3, 7, 5}, {128, 1000, 1}, {2, 16, 1024}};
  for (const char* name : {"softmax", "log_softmax"}) {
    const std::string fk = std::string(name) + "_fwd", bk = std::string(name) + "_bwd";
    for (const auto& v : variants(fk)) {
      if (v.backend == "ref") continue;
      for (size_t gi = 0; gi < geoms.size(); ++gi) {
        SCOPED_TRACE(std::string(name) + " backend " + v.backend + " geom " + std::to_string(gi));
        const auto& g = geoms[gi];
        const int64_t n = g.outer * g.D * g.inner;
        auto x = rnd(n, 900 + gi, 20.f), gy = rnd(n, 950 + gi);
        std::vector<float> y_ref(n), y(n), gx_ref(n), gx(n);
        cast<SoftmaxFwdFn<float>>(same_backend(fk, ref))(g, x.data(), y_ref.data());
        cast<SoftmaxFwdFn<float>>(v)(g, x.data(), y.data());
        EXPECT_TRUE(close(y, y_ref, 1e-4, 1e-6));
        cast<SoftmaxBwdFn<float>>(same_backend(bk, ref))(g, y_ref.data(), gy.data(), gx_ref.data());
        cast<SoftmaxBwdFn<float>>(same_backend(bk, v))(g, y_ref.data(), gy.data(), gx.data());
        EXPECT_TRUE(close(gx, gx_ref, 1e-4, 1e-6));
      }
    }
  }
}

TEST(KernelVariants, CrossEntropy) {
  const Variant ref{"ref", 0, nullptr};
  const std::vector<std::pair<int64_t, int64_t>> sizes = {{1, 1}, {4, 10}, {128, 10}, {300, 1000}};
  for (const auto& v : variants("cross_entropy_fwd")) {
    if (v.backend == "ref") continue;
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
          cast<CrossEntropyFwdFn<float>>(same_backend("cross_entropy_fwd", ref))(N, K, x.data(), t.data(), eps, r,
                                                                                 l_ref.data(), lse_ref.data());
          cast<CrossEntropyFwdFn<float>>(v)(N, K, x.data(), t.data(), eps, r, l.data(), lse.data());
          EXPECT_TRUE(close(l, l_ref));
          EXPECT_TRUE(close(lse, lse_ref));
          cast<CrossEntropyBwdFn<float>>(same_backend("cross_entropy_bwd", ref))(
              N, K, x.data(), t.data(), eps, lse_ref.data(), r, gy.data(), gx_ref.data());
          cast<CrossEntropyBwdFn<float>>(same_backend("cross_entropy_bwd", v))(N, K, x.data(), t.data(), eps,
                                                                               lse_ref.data(), r, gy.data(), gx.data());
          EXPECT_TRUE(close(gx, gx_ref, 1e-4, 1e-6));
        }
  }
}

TEST(KernelVariants, FastVariantsAreRegistered) {
  // The point of the fast backends: make sure a refactoring does not silently drop them.
  for (const char* key :
       {"relu_fwd", "relu_bwd", "add", "batch_norm_fwd_train", "batch_norm_bwd", "max_pool2d_fwd", "max_pool2d_bwd",
        "softmax_fwd", "cross_entropy_fwd", "conv2d_fwd", "conv2d_bwd_data", "conv2d_bwd_weight"}) {
    bool fast = false;
    for (const auto& v : variants(key)) fast |= v.backend != "ref";
    EXPECT_TRUE(fast) << key;
  }
}
