// pool2d: hand-computed cases, finite-difference gradient checks of the reference kernels
// in double precision, the float op against the double kernels, and error messages.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "convnet/core/rng.h"
#include "convnet/ops/output_size.h"
#include "convnet/ops/pool2d.h"
#include "kernels/pool2d.h"
#include "util/test_util.h"

using namespace convnet;
using convnet::testing::all_close;
using convnet::testing::dot;
using convnet::testing::expect_error;
using convnet::testing::numeric_grad;
using convnet::testing::random_doubles;

namespace {

// Distinct values spread over [-1, 1) in random order: gaps of 2/n >> the finite-difference
// step, so no perturbation can change which element of a window is the maximum.
std::vector<double> distinct_values(size_t n, uint64_t seed) {
  std::vector<double> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = -1.0 + 2.0 * (static_cast<double>(i) + 0.5) / static_cast<double>(n);
  Generator gen(seed);
  for (size_t i = n; i > 1; --i) std::swap(v[i - 1], v[gen.randint(i)]);
  return v;
}

Tensor to_tensor(const Shape& s, const std::vector<double>& v) {
  return Tensor::from_vector(s, std::vector<float>(v.begin(), v.end()));
}
std::vector<double> to_doubles(const Tensor& t) {
  return std::vector<double>(t.data(), t.data() + t.numel());
}
Tensor iota(const Shape& s, float start = 0, float step = 1) {
  std::vector<float> v(shape_numel(s));
  for (size_t i = 0; i < v.size(); ++i) v[i] = start + step * static_cast<float>(i);
  return Tensor::from_vector(s, v);
}

// The geometry as the op documents it (stride 0 = kernel), computed independently here.
kernels::Pool2dGeom geom(const Shape& x, const Pool2dArgs& a) {
  kernels::Pool2dGeom g{};
  g.N = x[0], g.C = x[1], g.H = x[2], g.W = x[3];
  g.KH = a.kernel[0], g.KW = a.kernel[1];
  g.SH = a.stride[0] ? a.stride[0] : a.kernel[0];
  g.SW = a.stride[1] ? a.stride[1] : a.kernel[1];
  g.PH = a.padding[0], g.PW = a.padding[1], g.DH = a.dilation[0], g.DW = a.dilation[1];
  g.count_include_pad = a.count_include_pad;
  g.OH = conv_output_size(g.H, g.KH, g.SH, g.PH, g.PH, g.DH, a.ceil_mode);
  g.OW = conv_output_size(g.W, g.KW, g.SW, g.PW, g.PW, g.DW, a.ceil_mode);
  return g;
}

Pool2dArgs args(std::array<int64_t, 2> k, std::array<int64_t, 2> s, std::array<int64_t, 2> p,
                std::array<int64_t, 2> d = {1, 1}, bool ceil = false, bool cip = true) {
  Pool2dArgs a;
  a.kernel = k, a.stride = s, a.padding = p, a.dilation = d, a.ceil_mode = ceil, a.count_include_pad = cip;
  return a;
}

struct PoolCase {
  const char* name;
  Shape x;
  Pool2dArgs a;
};

const std::vector<PoolCase>& max_cases() {
  static const std::vector<PoolCase> cases = {
      {"k2_default_stride_batch1", {1, 2, 4, 6}, args({2, 2}, {0, 0}, {0, 0})},
      {"k3_s2_p1", {2, 2, 7, 6}, args({3, 3}, {2, 2}, {1, 1})},
      {"k3_s3", {2, 1, 9, 8}, args({3, 3}, {3, 3}, {0, 0})},
      {"s1_overlap", {1, 2, 5, 5}, args({3, 3}, {1, 1}, {1, 1})},
      {"nonsquare", {2, 2, 7, 5}, args({3, 2}, {2, 1}, {1, 0})},
      {"dilation2", {1, 2, 9, 9}, args({3, 3}, {2, 2}, {1, 1}, {2, 2})},
      {"dilation_nonsquare", {1, 1, 8, 11}, args({2, 3}, {1, 2}, {1, 1}, {2, 3})},
      {"ceil", {2, 1, 8, 8}, args({3, 3}, {2, 2}, {0, 0}, {1, 1}, true)},
      {"ceil_pad", {1, 2, 7, 6}, args({3, 3}, {2, 2}, {1, 1}, {1, 1}, true)},
      {"ceil_s3_nonsquare", {1, 2, 10, 7}, args({2, 3}, {3, 3}, {1, 1}, {1, 1}, true)},
  };
  return cases;
}

const std::vector<PoolCase>& avg_cases() {
  static const std::vector<PoolCase> cases = {
      {"k2_default_stride_batch1", {1, 2, 4, 6}, args({2, 2}, {0, 0}, {0, 0})},
      {"k3_s2_p1", {2, 2, 7, 6}, args({3, 3}, {2, 2}, {1, 1})},
      {"k3_s2_p1_exclude_pad", {2, 2, 7, 6}, args({3, 3}, {2, 2}, {1, 1}, {1, 1}, false, false)},
      {"k3_s3", {2, 1, 9, 8}, args({3, 3}, {3, 3}, {0, 0})},
      {"nonsquare", {2, 2, 7, 5}, args({3, 2}, {2, 1}, {1, 1})},
      {"nonsquare_exclude_pad", {2, 2, 7, 5}, args({3, 2}, {2, 1}, {1, 1}, {1, 1}, false, false)},
      {"ceil", {2, 1, 8, 8}, args({3, 3}, {2, 2}, {0, 0}, {1, 1}, true)},
      {"ceil_pad", {1, 2, 7, 6}, args({3, 3}, {2, 2}, {1, 1}, {1, 1}, true)},
      {"ceil_pad_exclude_pad", {1, 2, 7, 6}, args({3, 3}, {2, 2}, {1, 1}, {1, 1}, true, false)},
      {"ceil_s3_nonsquare_exclude_pad", {1, 2, 10, 7}, args({2, 3}, {3, 3}, {1, 1}, {1, 1}, true, false)},
  };
  return cases;
}

// Checks the analytic gradient of L = sum(y * r) from `bwd` against central differences of
// `fwd` (both double), then the float op's forward and backward against the double kernels.
void check_grad(const std::string& name, const Shape& xs, const Shape& ys,
                const std::function<void(const double*, double*)>& fwd,
                const std::function<void(const double*, const double*, double*)>& bwd,
                const std::function<Tensor(const Tensor&)>& op, uint64_t seed) {
  SCOPED_TRACE(name);
  const auto nx = static_cast<size_t>(shape_numel(xs)), ny = static_cast<size_t>(shape_numel(ys));
  const std::vector<double> x = distinct_values(nx, seed), r = random_doubles(ny, seed + 1);
  auto loss = [&](const std::vector<double>& xv) {
    std::vector<double> y(ny);
    fwd(xv.data(), y.data());
    return dot(y, r);
  };
  std::vector<double> y(ny), gx(nx);
  fwd(x.data(), y.data());
  bwd(x.data(), r.data(), gx.data());
  EXPECT_TRUE(all_close(gx, numeric_grad(loss, x), 1e-6, 1e-8));

  Tensor xt = to_tensor(xs, x).requires_grad_();
  Tensor yt = op(xt);
  ASSERT_EQ(yt.shape(), ys);
  EXPECT_TRUE(all_close(to_doubles(yt), y, 1e-6, 1e-6));
  yt.backward(to_tensor(ys, r));
  EXPECT_TRUE(all_close(to_doubles(xt.grad()), gx, 1e-5, 1e-6));
}

}  // namespace

// ---- hand-computed values ---------------------------------------------------------------

TEST(Pool2d, MaxAndAvgOf4x4By2x2) {
  const Tensor x = iota({1, 1, 4, 4});  // rows 0..3, 4..7, 8..11, 12..15
  EXPECT_TRUE(
      all_close(ops::max_pool2d(x, args({2, 2}, {0, 0}, {0, 0})), Tensor::from_vector({1, 1, 2, 2}, {5, 7, 13, 15})));
  EXPECT_TRUE(all_close(ops::avg_pool2d(x, args({2, 2}, {0, 0}, {0, 0})),
                        Tensor::from_vector({1, 1, 2, 2}, {2.5f, 4.5f, 10.5f, 12.5f})));
}

TEST(Pool2d, MaxPaddingIsMinusInfinity) {
  // All values negative: a zero padding would win at the borders, -inf never does.
  const Tensor x = iota({1, 1, 3, 3}, -1, -1);  // -1 .. -9
  EXPECT_TRUE(all_close(ops::max_pool2d(x, args({3, 3}, {1, 1}, {1, 1})),
                        Tensor::from_vector({1, 1, 3, 3}, {-1, -1, -2, -1, -1, -2, -4, -4, -5})));
}

TEST(Pool2d, MaxTiesGradientGoesToFirstMaximum) {
  Tensor x = Tensor::ones({1, 1, 2, 4}).requires_grad_();
  Tensor y = ops::max_pool2d(x, args({2, 2}, {0, 0}, {0, 0}));
  y.backward(Tensor::from_vector({1, 1, 1, 2}, {3, 5}));
  EXPECT_TRUE(all_close(x.grad(), Tensor::from_vector({1, 1, 2, 4}, {3, 0, 5, 0, 0, 0, 0, 0})));
}

TEST(Pool2d, AvgCountIncludePad) {
  const Tensor x = Tensor::ones({1, 1, 3, 3});
  // Corner windows hold 4 of 9 elements, edge windows 6 of 9.
  EXPECT_TRUE(all_close(
      ops::avg_pool2d(x, args({3, 3}, {1, 1}, {1, 1})),
      Tensor::from_vector({1, 1, 3, 3}, {4.f / 9, 6.f / 9, 4.f / 9, 6.f / 9, 1, 6.f / 9, 4.f / 9, 6.f / 9, 4.f / 9})));
  EXPECT_TRUE(
      all_close(ops::avg_pool2d(x, args({3, 3}, {1, 1}, {1, 1}, {1, 1}, false, false)), Tensor::ones({1, 1, 3, 3})));
}

TEST(Pool2d, CeilModeAddsClippedLastWindow) {
  const Tensor x = iota({1, 1, 5, 5});
  // floor((5-2)/2)+1 = 2 windows per axis; ceil_mode adds a third holding only row/column 4,
  // and its average divides by 1 (the window is clipped at the border, there is no padding).
  Tensor y = ops::avg_pool2d(x, args({2, 2}, {2, 2}, {0, 0}, {1, 1}, true));
  EXPECT_EQ(y.shape(), (Shape{1, 1, 3, 3}));
  EXPECT_FLOAT_EQ(y.at({0, 0, 2, 2}), 24.f);
  EXPECT_FLOAT_EQ(y.at({0, 0, 0, 2}), (4.f + 9.f) / 2);
  EXPECT_EQ(ops::max_pool2d(x, args({2, 2}, {2, 2}, {0, 0})).shape(), (Shape{1, 1, 2, 2}));
  EXPECT_FLOAT_EQ(ops::max_pool2d(x, args({2, 2}, {2, 2}, {0, 0}, {1, 1}, true)).at({0, 0, 2, 1}), 23.f);
}

TEST(Pool2d, DilatedMaxSkipsElements) {
  // 1x5 row 0 4 1 3 2 with a 1x2 kernel of dilation 2, stride 1: max(x0,x2), max(x1,x3), max(x2,x4).
  const Tensor x = Tensor::from_vector({1, 1, 1, 5}, {0, 4, 1, 3, 2});
  EXPECT_TRUE(all_close(ops::max_pool2d(x, args({1, 2}, {1, 1}, {0, 0}, {1, 2})),
                        Tensor::from_vector({1, 1, 1, 3}, {1, 4, 2})));
}

TEST(Pool2d, AdaptiveWindowsOverlapWhenSizesDoNotDivide) {
  // 7 -> 3: windows [0,3), [2,5), [4,7) (start floor(i*7/3), end ceil((i+1)*7/3)).
  const Tensor x = iota({1, 1, 7, 1});
  EXPECT_TRUE(all_close(ops::adaptive_avg_pool2d(x, {3, 1}), Tensor::from_vector({1, 1, 3, 1}, {1, 3, 5})));
  EXPECT_TRUE(all_close(ops::adaptive_max_pool2d(x, {3, 1}), Tensor::from_vector({1, 1, 3, 1}, {2, 4, 6})));
  // 2 -> 3: windows [0,1), [0,2), [1,2).
  const Tensor z = Tensor::from_vector({1, 1, 1, 2}, {1, 3});
  EXPECT_TRUE(all_close(ops::adaptive_avg_pool2d(z, {1, 3}), Tensor::from_vector({1, 1, 1, 3}, {1, 2, 3})));
}

TEST(Pool2d, GlobalPoolsReduceEachPlane) {
  const Tensor x = iota({2, 3, 2, 3});  // plane p holds 6p .. 6p+5
  Tensor avg = ops::global_avg_pool2d(x), mx = ops::global_max_pool2d(x);
  ASSERT_EQ(avg.shape(), (Shape{2, 3, 1, 1}));
  ASSERT_EQ(mx.shape(), (Shape{2, 3, 1, 1}));
  for (int64_t p = 0; p < 6; ++p) {
    EXPECT_FLOAT_EQ(avg.data()[p], 6.f * p + 2.5f);
    EXPECT_FLOAT_EQ(mx.data()[p], 6.f * p + 5);
  }
}

TEST(Pool2d, NoGraphWithoutGrad) {
  const Tensor x = iota({1, 1, 4, 4});
  EXPECT_FALSE(ops::max_pool2d(x, Pool2dArgs{}).requires_grad());
  EXPECT_FALSE(ops::adaptive_max_pool2d(x, {2, 2}).requires_grad());
}

// ---- gradient checks ----------------------------------------------------------------------

TEST(Pool2d, MaxGradCheck) {
  uint64_t seed = 10;
  for (const auto& c : max_cases()) {
    const kernels::Pool2dGeom g = geom(c.x, c.a);
    const Shape ys{g.N, g.C, g.OH, g.OW};
    std::vector<int64_t> am(static_cast<size_t>(shape_numel(ys)));
    check_grad(
        std::string("max_pool2d ") + c.name, c.x, ys,
        [&](const double* x, double* y) { kernels::ref::max_pool2d_fwd<double>(g, x, y, am.data()); },
        [&](const double* x, const double* gy, double* gx) {
          std::vector<double> y(am.size());
          kernels::ref::max_pool2d_fwd<double>(g, x, y.data(), am.data());
          kernels::ref::max_pool2d_bwd<double>(g, gy, am.data(), gx);
        },
        [&](const Tensor& x) { return ops::max_pool2d(x, c.a); }, seed += 2);
  }
}

TEST(Pool2d, AvgGradCheck) {
  uint64_t seed = 100;
  for (const auto& c : avg_cases()) {
    const kernels::Pool2dGeom g = geom(c.x, c.a);
    check_grad(
        std::string("avg_pool2d ") + c.name, c.x, {g.N, g.C, g.OH, g.OW},
        [&](const double* x, double* y) { kernels::ref::avg_pool2d_fwd<double>(g, x, y); },
        [&](const double*, const double* gy, double* gx) { kernels::ref::avg_pool2d_bwd<double>(g, gy, gx); },
        [&](const Tensor& x) { return ops::avg_pool2d(x, c.a); }, seed += 2);
  }
}

TEST(Pool2d, AdaptiveGradCheck) {
  struct Case {
    Shape x;
    std::array<int64_t, 2> out;
  };
  const std::vector<Case> cases = {{{2, 2, 7, 5}, {3, 2}},
                                   {{1, 3, 7, 5}, {1, 1}},
                                   {{1, 2, 6, 6}, {3, 3}},
                                   {{2, 1, 5, 7}, {4, 6}},
                                   {{1, 2, 3, 2}, {5, 4}}};
  uint64_t seed = 200;
  for (const auto& c : cases) {
    const kernels::AdaptivePool2dGeom g{c.x[0], c.x[1], c.x[2], c.x[3], c.out[0], c.out[1]};
    const Shape ys{g.N, g.C, g.OH, g.OW};
    const std::string cfg = shape_str(c.x) + " -> " + std::to_string(c.out[0]) + "x" + std::to_string(c.out[1]);
    check_grad(
        "adaptive_avg_pool2d " + cfg, c.x, ys,
        [&](const double* x, double* y) { kernels::ref::adaptive_avg_pool2d_fwd<double>(g, x, y); },
        [&](const double*, const double* gy, double* gx) { kernels::ref::adaptive_avg_pool2d_bwd<double>(g, gy, gx); },
        [&](const Tensor& x) { return ops::adaptive_avg_pool2d(x, c.out); }, seed += 2);
    std::vector<int64_t> am(static_cast<size_t>(shape_numel(ys)));
    check_grad(
        "adaptive_max_pool2d " + cfg, c.x, ys,
        [&](const double* x, double* y) { kernels::ref::adaptive_max_pool2d_fwd<double>(g, x, y, am.data()); },
        [&](const double* x, const double* gy, double* gx) {
          std::vector<double> y(am.size());
          kernels::ref::adaptive_max_pool2d_fwd<double>(g, x, y.data(), am.data());
          kernels::ref::adaptive_max_pool2d_bwd<double>(g, gy, am.data(), gx);
        },
        [&](const Tensor& x) { return ops::adaptive_max_pool2d(x, c.out); }, seed += 2);
    if (c.out == std::array<int64_t, 2>{1, 1}) {
      check_grad(
          "global_avg_pool2d " + cfg, c.x, ys,
          [&](const double* x, double* y) { kernels::ref::adaptive_avg_pool2d_fwd<double>(g, x, y); },
          [&](const double*, const double* gy, double* gx) {
            kernels::ref::adaptive_avg_pool2d_bwd<double>(g, gy, gx);
          },
          [&](const Tensor& x) { return ops::global_avg_pool2d(x); }, seed += 2);
      check_grad(
          "global_max_pool2d " + cfg, c.x, ys,
          [&](const double* x, double* y) { kernels::ref::adaptive_max_pool2d_fwd<double>(g, x, y, am.data()); },
          [&](const double* x, const double* gy, double* gx) {
            std::vector<double> y(am.size());
            kernels::ref::adaptive_max_pool2d_fwd<double>(g, x, y.data(), am.data());
            kernels::ref::adaptive_max_pool2d_bwd<double>(g, gy, am.data(), gx);
          },
          [&](const Tensor& x) { return ops::global_max_pool2d(x); }, seed += 2);
    }
  }
}

// ---- errors -----------------------------------------------------------------------------

TEST(Pool2d, ErrorsNameLayerAndShapes) {
  const Tensor x = Tensor::zeros({2, 3, 5, 5});
  expect_error([] { ops::max_pool2d(Tensor::zeros({3, 5, 5}), Pool2dArgs{}); }, {"max_pool2d", "4-D", "(3, 5, 5)"});
  expect_error(
      [] {
        ops::avg_pool2d(Tensor::zeros({3, 5, 5}), Pool2dArgs{}, "features.3 (AvgPool2d)");
      },
      {"features.3 (AvgPool2d)", "(3, 5, 5)"});
  expect_error(
      [&] {
        ops::max_pool2d(x, args({3, 3}, {1, 1}, {2, 1}), "features.2 (MaxPool2d)");
      },
      {"features.2 (MaxPool2d)", "padding (2, 1)", "half of kernel_size (3, 3)"});
  expect_error([&] { ops::avg_pool2d(x, args({2, 4}, {1, 1}, {0, 3})); }, {"avg_pool2d", "padding (0, 3)", "(2, 4)"});
  expect_error([&] { ops::max_pool2d(x, args({0, 2}, {1, 1}, {0, 0})); }, {"max_pool2d", "kernel_size", "(0, 2)"});
  expect_error([&] { ops::max_pool2d(x, args({2, 2}, {-1, 1}, {0, 0})); }, {"max_pool2d", "stride", "(-1, 1)"});
  expect_error([&] { ops::max_pool2d(x, args({2, 2}, {1, 1}, {0, 0}, {0, 1})); }, {"max_pool2d", "dilation", "(0, 1)"});
  expect_error([&] { ops::max_pool2d(x, args({2, 2}, {1, 1}, {-1, 0})); }, {"max_pool2d", "padding", "(-1, 0)"});
  expect_error(
      [&] {
        ops::avg_pool2d(x, args({2, 2}, {1, 1}, {0, 0}, {2, 2}));
      },
      {"avg_pool2d", "dilation", "max pooling only", "(2, 2)"});
  expect_error(
      [] {
        ops::max_pool2d(Tensor::zeros({1, 2, 2, 6}), args({3, 3}, {1, 1}, {0, 0}));
      },
      {"max_pool2d", "too small", "(1, 2, 2, 6)", "kernel_size (3, 3)"});
  expect_error(
      [] {
        ops::max_pool2d(Tensor::zeros({1, 2, 5, 5}), args({3, 3}, {1, 1}, {0, 0}, {3, 3}));
      },
      {"max_pool2d", "too small", "(1, 2, 5, 5)", "dilation (3, 3)"});
  expect_error(
      [&] {
        ops::adaptive_avg_pool2d(x, {0, 2});
      },
      {"adaptive_avg_pool2d", "output_size", "(0, 2)", "(2, 3, 5, 5)"});
  expect_error([&] { ops::adaptive_max_pool2d(x, {2, -1}, "head.pool"); }, {"head.pool", "(2, -1)", "(2, 3, 5, 5)"});
  expect_error([] { ops::global_avg_pool2d(Tensor::zeros({2, 3})); }, {"global_avg_pool2d", "4-D", "(2, 3)"});
  expect_error([] { ops::global_max_pool2d(Tensor::zeros({2, 3, 0, 4})); }, {"global_max_pool2d", "(2, 3, 0, 4)"});
}
