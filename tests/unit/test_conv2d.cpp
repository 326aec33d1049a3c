// conv2d: finite-difference gradient checks of the reference kernels (double), every
// registered variant against the reference over a configuration grid, and the errors.
#include <cmath>

#include "convnet/core/error.h"
#include "convnet/core/rng.h"
#include "convnet/ops/conv2d.h"
#include "convnet/ops/output_size.h"
#include "kernels/conv2d.h"
#include "kernels/registry.h"
#include "util/test_util.h"
#include "util/variants.h"

using namespace convnet;
using namespace convnet::testing;
using kernels::Conv2dGeom;

namespace {

// N, C, H, W, OC, KH, KW, SH, SW, PH(top), PW(left), pad_bottom, pad_right, DH, DW, G
struct Cfg {
  int64_t N, C, H, W, OC, KH, KW, SH, SW, PT, PL, PB, PR, DH, DW, G;
};

Conv2dGeom geom(const Cfg& c) {
  Conv2dGeom g{c.N, c.C, c.H, c.W, c.OC, c.KH, c.KW, c.SH, c.SW, c.PT, c.PL, c.DH, c.DW, c.G, 0, 0};
  g.OH = conv_output_size(c.H, c.KH, c.SH, c.PT, c.PB, c.DH);
  g.OW = conv_output_size(c.W, c.KW, c.SW, c.PL, c.PR, c.DW);
  return g;
}

const std::vector<Cfg> kGrid = {
    {2, 3, 5, 5, 2, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1},  // plain
    {1, 2, 6, 5, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},  // stride 2, padding 1, batch 1
    {2, 2, 7, 7, 2, 3, 2, 3, 3, 2, 1, 2, 1, 1, 1, 1},  // stride 3, non-square kernel
    {1, 2, 5, 6, 2, 4, 4, 1, 1, 1, 1, 2, 2, 1, 1, 1},  // "same" with an even kernel (asymmetric)
    {2, 2, 7, 7, 2, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1},  // dilation 2
    {2, 4, 5, 5, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2},  // groups 2
    {1, 3, 5, 5, 6, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 3},  // depthwise, multiplier 2
    {2, 3, 4, 6, 2, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},  // 1x1
    {2, 3, 5, 5, 2, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 1},  // 1x1 stride 2
};

// Variants are also checked on larger shapes where the fast path matters.
const std::vector<Cfg> kBigGrid = {
    {8, 16, 14, 14, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
    {5, 8, 13, 11, 12, 5, 5, 2, 2, 2, 2, 2, 2, 1, 1, 1},
    {4, 16, 9, 9, 16, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 16},
    {3, 12, 8, 8, 24, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 4},
    {6, 6, 10, 7, 9, 3, 3, 3, 2, 1, 0, 1, 0, 1, 1, 3},
};

}  // namespace

TEST(Conv2dGradcheck, ReferenceBackwardMatchesFiniteDifferences) {
  for (size_t ci = 0; ci < kGrid.size(); ++ci) {
    SCOPED_TRACE("config " + std::to_string(ci));
    const Conv2dGeom g = geom(kGrid[ci]);
    ASSERT_GT(g.OH, 0);
    const size_t nx = g.N * g.C * g.H * g.W, nw = g.OC * (g.C / g.G) * g.KH * g.KW, ny = g.N * g.OC * g.OH * g.OW;
    auto x = random_doubles(nx, 1 + ci), w = random_doubles(nw, 100 + ci), b = random_doubles(g.OC, 200 + ci);
    auto r = random_doubles(ny, 300 + ci);  // L = sum(y * r)
    auto loss = [&](const std::vector<double>& xx, const std::vector<double>& ww, const std::vector<double>& bb) {
      std::vector<double> y(ny);
      kernels::ref::conv2d_fwd<double>(g, xx.data(), ww.data(), bb.data(), y.data());
      return dot(y, r);
    };
    std::vector<double> gx(nx), gw(nw), gb(g.OC);
    kernels::ref::conv2d_bwd_data<double>(g, r.data(), w.data(), gx.data());
    kernels::ref::conv2d_bwd_weight<double>(g, x.data(), r.data(), gw.data(), gb.data());
    EXPECT_TRUE(all_close(gx, numeric_grad([&](const std::vector<double>& v) { return loss(v, w, b); }, x), 1e-6, 1e-7));
    EXPECT_TRUE(all_close(gw, numeric_grad([&](const std::vector<double>& v) { return loss(x, v, b); }, w), 1e-6, 1e-7));
    EXPECT_TRUE(all_close(gb, numeric_grad([&](const std::vector<double>& v) { return loss(x, w, v); }, b), 1e-6, 1e-7));
  }
}

TEST(Conv2dVariants, EveryRegisteredKernelMatchesReference) {
  // Each non-reference forward kernel with the backward kernels of its own backend (no
  // fallback: a backend without its backward kernels fails here).
  const auto fwd = convnet::testing::fast_variants(kernels::keys::conv2d_fwd);
  std::vector<kernels::Variant<kernels::Conv2dBwdDataFn<float>>> bwd_d;
  std::vector<kernels::Variant<kernels::Conv2dBwdWeightFn<float>>> bwd_w;
  for (const auto& v : fwd) {
    bwd_d.push_back(convnet::testing::partner(kernels::keys::conv2d_bwd_data, v.backend));
    bwd_w.push_back(convnet::testing::partner(kernels::keys::conv2d_bwd_weight, v.backend));
    ASSERT_TRUE(bwd_d.back().fn && bwd_w.back().fn) << v.backend;
  }
  std::vector<Cfg> grid = kGrid;
  grid.insert(grid.end(), kBigGrid.begin(), kBigGrid.end());
  for (size_t ci = 0; ci < grid.size(); ++ci) {
    const Conv2dGeom g = geom(grid[ci]);
    const size_t nx = g.N * g.C * g.H * g.W, nw = g.OC * (g.C / g.G) * g.KH * g.KW, ny = g.N * g.OC * g.OH * g.OW;
    auto x = to_float(random_doubles(nx, 1 + ci)), w = to_float(random_doubles(nw, 2 + ci));
    auto b = to_float(random_doubles(g.OC, 3 + ci)), gy = to_float(random_doubles(ny, 4 + ci));
    std::vector<float> y_ref(ny), gx_ref(nx), gw_ref(nw), gb_ref(g.OC);
    kernels::ref::conv2d_fwd<float>(g, x.data(), w.data(), b.data(), y_ref.data());
    kernels::ref::conv2d_bwd_data<float>(g, gy.data(), w.data(), gx_ref.data());
    kernels::ref::conv2d_bwd_weight<float>(g, x.data(), gy.data(), gw_ref.data(), gb_ref.data());
    auto close = [](const std::vector<float>& a, const std::vector<float>& e) {
      return all_close(std::vector<double>(a.begin(), a.end()), std::vector<double>(e.begin(), e.end()), 1e-4, 1e-4);
    };
    for (size_t vi = 0; vi < fwd.size(); ++vi) {
      SCOPED_TRACE("config " + std::to_string(ci) + " backend " + fwd[vi].backend);
      std::vector<float> y(ny, NAN), gx(nx, NAN), gw(nw, NAN), gb(g.OC, NAN);
      fwd[vi].fn(g, x.data(), w.data(), b.data(), y.data());
      bwd_d[vi].fn(g, gy.data(), w.data(), gx.data());
      bwd_w[vi].fn(g, x.data(), gy.data(), gw.data(), gb.data());
      EXPECT_TRUE(close(y, y_ref));
      EXPECT_TRUE(close(gx, gx_ref));
      EXPECT_TRUE(close(gw, gw_ref));
      EXPECT_TRUE(close(gb, gb_ref));
      // Without bias the output must equal the biased one minus the bias.
      std::vector<float> y_nb(ny);
      fwd[vi].fn(g, x.data(), w.data(), nullptr, y_nb.data());
      for (size_t i = 0; i < ny; ++i) y_nb[i] += b[(i / (g.OH * g.OW)) % g.OC];
      EXPECT_TRUE(close(y_nb, y_ref));
      for (const kernels::KernelBase* k : std::initializer_list<const kernels::KernelBase*>{&kernels::keys::conv2d_fwd, &kernels::keys::conv2d_bwd_data, &kernels::keys::conv2d_bwd_weight}) convnet::testing::count_compared(*k);
    }
  }
  convnet::testing::expect_compared({&kernels::keys::conv2d_fwd, &kernels::keys::conv2d_bwd_data, &kernels::keys::conv2d_bwd_weight});
}

TEST(Conv2dShapes, OutputSizeRuleAndSamePadding) {
  Generator gen(1);
  Tensor x = Tensor::randn({2, 3, 10, 7}, gen);
  // o = floor((i + 2p - d(k-1) - 1)/s) + 1
  EXPECT_EQ(ops::conv2d(x, Tensor::randn({4, 3, 3, 3}, gen), Tensor(), {}).shape(), (Shape{2, 4, 8, 5}));
  Conv2dArgs a;
  a.stride = {3, 2};
  a.padding = Padding(2, 1);
  a.dilation = {2, 1};
  EXPECT_EQ(ops::conv2d(x, Tensor::randn({4, 3, 3, 3}, gen), Tensor(), a).shape(),
            (Shape{2, 4, (10 + 4 - 4 - 1) / 3 + 1, (7 + 2 - 2 - 1) / 2 + 1}));
  Conv2dArgs same;
  same.padding = Padding("same");
  EXPECT_EQ(ops::conv2d(x, Tensor::randn({4, 3, 4, 2}, gen), Tensor(), same).shape(), (Shape{2, 4, 10, 7}));
  Conv2dArgs valid;
  valid.padding = Padding("valid");
  EXPECT_EQ(ops::conv2d(x, Tensor::randn({4, 3, 3, 3}, gen), Tensor(), valid).shape(), (Shape{2, 4, 8, 5}));
}

TEST(Conv2dErrors, MessagesNameLayerAndShapes) {
  Generator gen(2);
  Tensor x = Tensor::randn({2, 3, 8, 8}, gen);
  expect_error([&] { ops::conv2d(x, Tensor::randn({4, 2, 3, 3}, gen), Tensor(), {}, "features.0 (Conv2d)"); },
               {"features.0 (Conv2d)", "(2, 3, 8, 8)", "(4, 2, 3, 3)", "expected input with 2 channels"});
  Conv2dArgs g2;
  g2.groups = 2;
  expect_error([&] { ops::conv2d(x, Tensor::randn({4, 1, 3, 3}, gen), Tensor(), g2, "conv"); },
               {"conv", "groups=2", "(2, 3, 8, 8)", "(4, 1, 3, 3)"});
  expect_error([&] { ops::conv2d(Tensor::randn({1, 3, 3, 3}, gen), Tensor::randn({2, 3, 5, 5}, gen), Tensor(), {}, "c1"); },
               {"c1", "larger than the padded input 3x3", "(1, 3, 3, 3)", "(2, 3, 5, 5)"});
  expect_error([&] { ops::conv2d(Tensor::randn({3, 8, 8}, gen), Tensor::randn({2, 3, 3, 3}, gen), Tensor(), {}, "c2"); },
               {"c2", "4-D input", "(3, 8, 8)"});
  expect_error([&] { ops::conv2d(x, Tensor::randn({4, 3, 3, 3}, gen), Tensor::randn({3}, gen), {}, "c3"); },
               {"c3", "bias of shape (3)", "(4, 3, 3, 3)"});
  Conv2dArgs strided_same;
  strided_same.stride = {2, 2};
  strided_same.padding = Padding("same");
  expect_error([&] { ops::conv2d(x, Tensor::randn({4, 3, 3, 3}, gen), Tensor(), strided_same, "c4"); },
               {"c4", "padding=\"same\" is not supported for strided"});
  expect_error([] { Padding p("full"); }, {"\"same\" or \"valid\"", "full"});
}

