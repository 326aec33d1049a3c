// batch_norm: hand-computed cases, finite-difference gradient checks of the reference
// kernels in double precision (training and eval, affine on/off, 2-D to 4-D inputs), the
// float op against the double kernels, running statistics, and error messages.
#include <gtest/gtest.h>

#include <cmath>

#include "convnet/ops/batch_norm.h"
#include "kernels/batch_norm.h"
#include "util/test_util.h"

using namespace convnet;
using convnet::testing::all_close;
using convnet::testing::dot;
using convnet::testing::expect_error;
using convnet::testing::numeric_grad;
using convnet::testing::random_doubles;

namespace {
Tensor to_tensor(const Shape& s, const std::vector<double>& v) {
  return Tensor::from_vector(s, std::vector<float>(v.begin(), v.end()));
}
std::vector<double> to_doubles(const Tensor& t) {
  return std::vector<double>(t.data(), t.data() + t.numel());
}
}  // namespace

// ---- hand-computed values ---------------------------------------------------------------

TEST(BatchNorm, TrainingUsesBiasedBatchVarianceAndUpdatesRunningStatsUnbiased) {
  // One channel holding 1 and 3: mean 2, biased variance 1, unbiased variance 2.
  const Tensor x = Tensor::from_vector({2, 1}, {1, 3});
  Tensor rm = Tensor::zeros({1}), rv = Tensor::ones({1});
  const Tensor y = ops::batch_norm(x, rm, rv, Tensor(), Tensor(), /*training=*/true);
  const float s = 1.f / std::sqrt(1.f + 1e-5f);
  EXPECT_TRUE(all_close(y, Tensor::from_vector({2, 1}, {-s, s}), 1e-6, 1e-7));
  EXPECT_FLOAT_EQ(rm.item(), 0.9f * 0 + 0.1f * 2);  // (1 - momentum) * running + momentum * mean
  EXPECT_FLOAT_EQ(rv.item(), 0.9f * 1 + 0.1f * 2);  // ... * unbiased variance
}

TEST(BatchNorm, EvalUsesRunningStatsAndLeavesThemAlone) {
  // (x - 1) / sqrt(4) * 3 + 1 per element of channel 0; channel 1: (x - 0) / sqrt(1) * 1 + 0.
  const Tensor x = Tensor::from_vector({1, 2, 1, 2}, {2, 5, -1, 4});
  Tensor rm = Tensor::from_vector({2}, {1, 0}), rv = Tensor::from_vector({2}, {4, 1});
  const Tensor w = Tensor::from_vector({2}, {3, 1}), b = Tensor::from_vector({2}, {1, 0});
  const Tensor y = ops::batch_norm(x, rm, rv, w, b, /*training=*/false, 0.1, /*eps=*/0.0);
  EXPECT_TRUE(all_close(y, Tensor::from_vector({1, 2, 1, 2}, {2.5f, 7, -1, 4})));
  EXPECT_TRUE(all_close(rm, Tensor::from_vector({2}, {1, 0}), 0, 0));
  EXPECT_TRUE(all_close(rv, Tensor::from_vector({2}, {4, 1}), 0, 0));
}

TEST(BatchNorm, WithoutRunningStatsAlwaysUsesBatchStats) {
  const Tensor x = to_tensor({3, 2, 4}, random_doubles(24, 1));
  const Tensor train = ops::batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), true);
  const Tensor eval = ops::batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), false);
  EXPECT_TRUE(all_close(eval, train, 0, 0));
  // Normalized per channel: mean 0, biased variance 1 (up to eps).
  for (int64_t c = 0; c < 2; ++c) {
    double s = 0, ss = 0;
    for (int64_t n = 0; n < 3; ++n)
      for (int64_t i = 0; i < 4; ++i) s += eval.at({n, c, i}), ss += eval.at({n, c, i}) * eval.at({n, c, i});
    EXPECT_NEAR(s / 12, 0, 1e-6);
    EXPECT_NEAR(ss / 12, 1, 1e-4);
  }
}

// ---- gradient checks ----------------------------------------------------------------------

struct BnCase {
  Shape x;
  bool training, affine;
};

TEST(BatchNorm, GradCheck) {
  std::vector<BnCase> cases;
  for (const Shape& s :
       {Shape{4, 3}, Shape{2, 5}, Shape{3, 2, 5}, Shape{2, 3, 3, 4}, Shape{2, 2, 1, 1}, Shape{1, 2, 3, 2}})
    for (bool training : {true, false})
      for (bool affine : {true, false}) cases.push_back({s, training, affine});
  uint64_t seed = 1000;
  for (const auto& c : cases) {
    SCOPED_TRACE(shape_str(c.x) + (c.training ? " training" : " eval") + (c.affine ? " affine" : " no affine"));
    kernels::BatchNormGeom g{c.x[0], c.x[1], 1};
    for (size_t d = 2; d < c.x.size(); ++d) g.S *= c.x[d];
    const auto n = static_cast<size_t>(shape_numel(c.x)), C = static_cast<size_t>(g.C);
    const double eps = 1e-5;
    std::vector<double> x = random_doubles(n, seed += 10), r = random_doubles(n, seed + 1);
    for (size_t i = 0; i < n; ++i) x[i] = 2 * x[i] + 0.5;  // mean and variance away from (0, 1)
    std::vector<double> w = random_doubles(C, seed + 2), b = random_doubles(C, seed + 3);
    for (auto& v : w) v += 1.5;
    std::vector<double> rmean = random_doubles(C, seed + 4), rvar = random_doubles(C, seed + 5);
    for (auto& v : rvar) v = 0.5 + std::abs(v);

    // L(x, w, b) = sum(y * r) with the double reference kernels.
    auto forward = [&](const std::vector<double>& xv, const std::vector<double>& wv, const std::vector<double>& bv) {
      std::vector<double> y(n), mean(C), var(C);
      const double* pw = c.affine ? wv.data() : nullptr;
      const double* pb = c.affine ? bv.data() : nullptr;
      if (c.training)
        kernels::ref::batch_norm_fwd_train<double>(g, xv.data(), pw, pb, eps, y.data(), mean.data(), var.data());
      else
        kernels::ref::batch_norm_fwd_eval<double>(g, xv.data(), rmean.data(), rvar.data(), pw, pb, eps, y.data());
      return std::make_pair(y, std::make_pair(mean, var));
    };
    const auto [y, stats] = forward(x, w, b);
    const auto& mean = c.training ? stats.first : rmean;
    const auto& var = c.training ? stats.second : rvar;
    std::vector<double> gx(n), gw(C), gb(C);
    kernels::ref::batch_norm_bwd<double>(g, x.data(), r.data(), mean.data(), var.data(), c.affine ? w.data() : nullptr,
                                         eps, c.training, gx.data(), gw.data(), gb.data());
    // Finite differences in double: the loss is smooth, h = 1e-6 leaves errors ~1e-9.
    EXPECT_TRUE(all_close(
        gx, numeric_grad([&](const std::vector<double>& v) { return dot(forward(v, w, b).first, r); }, x), 1e-5, 1e-7))
        << "grad_x";
    if (c.affine) {
      EXPECT_TRUE(
          all_close(gw, numeric_grad([&](const std::vector<double>& v) { return dot(forward(x, v, b).first, r); }, w),
                    1e-5, 1e-7))
          << "grad_weight";
      EXPECT_TRUE(
          all_close(gb, numeric_grad([&](const std::vector<double>& v) { return dot(forward(x, w, v).first, r); }, b),
                    1e-5, 1e-7))
          << "grad_bias";
    }

    // The float op: same values and gradients through the registry and autograd.
    Tensor xt = to_tensor(c.x, x).requires_grad_();
    Tensor wt = c.affine ? to_tensor({g.C}, w).requires_grad_() : Tensor();
    Tensor bt = c.affine ? to_tensor({g.C}, b).requires_grad_() : Tensor();
    Tensor rm = to_tensor({g.C}, rmean), rv = to_tensor({g.C}, rvar);
    Tensor yt = ops::batch_norm(xt, rm, rv, wt, bt, c.training);
    EXPECT_TRUE(all_close(to_doubles(yt), y, 1e-5, 1e-5)) << "forward";
    yt.backward(to_tensor(c.x, r));
    EXPECT_TRUE(all_close(to_doubles(xt.grad()), gx, 1e-4, 1e-5)) << "op grad_x";
    if (c.affine) {
      EXPECT_TRUE(all_close(to_doubles(wt.grad()), gw, 1e-4, 1e-5)) << "op grad_weight";
      EXPECT_TRUE(all_close(to_doubles(bt.grad()), gb, 1e-4, 1e-5)) << "op grad_bias";
    }
  }
}

TEST(BatchNorm, FrozenInputStillGivesParameterGradients) {
  const Tensor x = to_tensor({4, 2}, random_doubles(8, 5));
  Tensor w = Tensor::ones({2}).requires_grad_(), b = Tensor::zeros({2}).requires_grad_();
  const Tensor y = ops::batch_norm(x, Tensor(), Tensor(), w, b, true);
  y.backward(Tensor::ones({4, 2}));
  // dL/db = sum gy = 4; dL/dw = sum xhat = 0.
  EXPECT_TRUE(all_close(b.grad(), Tensor::full({2}, 4.f)));
  EXPECT_TRUE(all_close(w.grad(), Tensor::zeros({2}), 0, 1e-5));
}

// ---- errors -----------------------------------------------------------------------------

TEST(BatchNorm, ErrorsNameLayerAndShapes) {
  const Tensor x = Tensor::zeros({2, 4, 5, 5});
  const Tensor c3 = Tensor::ones({3}), c4 = Tensor::ones({4});
  expect_error([&] { ops::batch_norm(x, c4, c4, c3, c4, true, 0.1, 1e-5, "features.1 (BatchNorm2d)"); },
               {"features.1 (BatchNorm2d)", "(2, 4, 5, 5)", "weight", "(3)"});
  expect_error([&] { ops::batch_norm(x, c4, c4, c4, c3, true); }, {"batch_norm", "(2, 4, 5, 5)", "bias", "(3)"});
  expect_error([&] { ops::batch_norm(x, c3, c4, c4, c4, false); },
               {"batch_norm", "(2, 4, 5, 5)", "running_mean", "(3)"});
  expect_error([&] { ops::batch_norm(x, c4, c3, Tensor(), Tensor(), false); },
               {"batch_norm", "(2, 4, 5, 5)", "running_var", "(3)"});
  expect_error([&] { ops::batch_norm(x, c4, Tensor::ones({1, 4}), c4, c4, true); }, {"running_var", "(1, 4)"});
  expect_error([&] { ops::batch_norm(x, c4, Tensor(), c4, c4, true); }, {"batch_norm", "running_mean", "running_var"});
  expect_error([] { ops::batch_norm(Tensor::zeros({4}), Tensor(), Tensor(), Tensor(), Tensor(), true); },
               {"batch_norm", "(4)"});
  // One value per channel: no batch variance (PyTorch's message).
  expect_error(
      [&] {
        ops::batch_norm(Tensor::zeros({1, 3}), Tensor::zeros({3}), Tensor::ones({3}), c3, c3, true, 0.1, 1e-5, "bn1");
      },
      {"bn1", "Expected more than 1 value per channel when training", "(1, 3)"});
  expect_error(
      [] {
        ops::batch_norm(Tensor::zeros({1, 3, 1, 1}), Tensor(), Tensor(), Tensor(), Tensor(), false);
      },
      {"Expected more than 1 value per channel when training", "(1, 3, 1, 1)"});
  // Eval with running statistics needs no batch statistics: one value per channel is fine.
  EXPECT_NO_THROW(ops::batch_norm(Tensor::zeros({1, 3, 1, 1}), Tensor::zeros({3}), Tensor::ones({3}), c3, c3, false));
}
