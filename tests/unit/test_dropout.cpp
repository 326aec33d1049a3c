// dropout / dropout2d: random masks cannot be compared with PyTorch, so these tests check
// the properties that define inverted dropout. Seeds are fixed, and the statistical bounds
// are several standard deviations wide, yet far narrower than the error of a wrong p.
#include <gtest/gtest.h>

#include <cmath>

#include "convnet/core/rng.h"
#include "convnet/nn/layers.h"
#include "convnet/ops/dropout.h"
#include "util/test_util.h"

using namespace convnet;
using convnet::testing::all_close;
using convnet::testing::expect_error;

namespace {
// Values in [0.5, 1.5): never zero, so a zero output means "dropped".
Tensor nonzero_input(const Shape& s, uint64_t seed) {
  Generator gen(seed);
  return Tensor::rand(s, gen, 0.5f, 1.5f);
}
float scale_of(double p) {
  return static_cast<float>(1.0 / (1.0 - p));
}
}  // namespace

TEST(Dropout, EvalAndZeroPAreIdentity) {
  Generator gen(1);
  const Tensor x = nonzero_input({4, 5, 6}, 2);
  EXPECT_TRUE(all_close(ops::dropout(x, 0.5, /*training=*/false, gen), x, 0, 0));
  EXPECT_TRUE(all_close(ops::dropout(x, 0.0, /*training=*/true, gen), x, 0, 0));
  EXPECT_TRUE(all_close(ops::dropout2d(x, 0.5, /*training=*/false, gen), x, 0, 0));
  EXPECT_TRUE(all_close(ops::dropout2d(x, 0.0, /*training=*/true, gen), x, 0, 0));
}

TEST(Dropout, KeptFractionIsOneMinusP) {
  // n = 100000 Bernoulli draws: the kept fraction's standard deviation is at most 0.0016,
  // so a 0.01 bound is > 6 sigma; mixing up p and 1-p (0.6 off) or any p error > 0.01 fails.
  const int64_t n = 100000;
  for (double p : {0.1, 0.3, 0.75}) {
    SCOPED_TRACE("p = " + std::to_string(p));
    Generator gen(42);
    const Tensor x = nonzero_input({10, 100, 10, 10}, 7);
    const Tensor y = ops::dropout(x, p, true, gen);
    int64_t kept = 0;
    for (int64_t i = 0; i < n; ++i) kept += y.data()[i] != 0.f;
    EXPECT_NEAR(static_cast<double>(kept) / n, 1 - p, 0.01);
  }
}

TEST(Dropout, SurvivorsScaledByOneOverOneMinusP) {
  for (double p : {0.2, 0.5, 0.9}) {
    SCOPED_TRACE("p = " + std::to_string(p));
    Generator gen(3);
    const Tensor x = nonzero_input({2000}, 4);
    const Tensor y = ops::dropout(x, p, true, gen);
    int64_t zeros = 0;
    for (int64_t i = 0; i < x.numel(); ++i) {
      if (y.data()[i] == 0.f) {
        ++zeros;
        continue;
      }
      EXPECT_FLOAT_EQ(y.data()[i], x.data()[i] * scale_of(p)) << "element " << i;
    }
    EXPECT_GT(zeros, 0);
    EXPECT_LT(zeros, x.numel());
  }
}

TEST(Dropout, GradientIsTheSameMaskTimesScale) {
  const double p = 0.4;
  for (bool two_d : {false, true}) {
    SCOPED_TRACE(two_d ? "dropout2d" : "dropout");
    Generator gen(5);
    Tensor x = nonzero_input({3, 8, 5, 4}, 6).requires_grad_();
    const Tensor y = two_d ? ops::dropout2d(x, p, true, gen) : ops::dropout(x, p, true, gen);
    Generator ggen(8);
    const Tensor g = Tensor::randn(x.shape(), ggen);
    y.backward(g);
    ASSERT_TRUE(x.grad().defined());
    for (int64_t i = 0; i < x.numel(); ++i) {
      const float mask = y.data()[i] == 0.f ? 0.f : scale_of(p);
      EXPECT_FLOAT_EQ(x.grad().data()[i], g.data()[i] * mask) << "element " << i;
    }
  }
}

TEST(Dropout, Dropout2dMasksWholeChannels) {
  // 100 x 100 = 10000 channel draws: standard deviation of the dropped fraction <= 0.005.
  const double p = 0.3;
  for (const Shape& s : {Shape{100, 100, 3, 2}, Shape{100, 100, 5}}) {
    SCOPED_TRACE(shape_str(s));
    Generator gen(9);
    const Tensor x = nonzero_input(s, 10);
    const Tensor y = ops::dropout2d(x, p, true, gen);
    const int64_t planes = s[0] * s[1], plane = x.numel() / planes;
    int64_t dropped = 0;
    for (int64_t k = 0; k < planes; ++k) {
      const bool zero = y.data()[k * plane] == 0.f;
      dropped += zero;
      for (int64_t i = 0; i < plane; ++i) {
        const int64_t j = k * plane + i;
        if (zero)
          ASSERT_EQ(y.data()[j], 0.f) << "channel " << k << " partly dropped";
        else
          ASSERT_FLOAT_EQ(y.data()[j], x.data()[j] * scale_of(p)) << "channel " << k;
      }
    }
    EXPECT_NEAR(static_cast<double>(dropped) / planes, p, 0.03);
  }
}

TEST(Dropout, SameSeedSameMask) {
  const Tensor x = nonzero_input({4, 6, 5, 5}, 11);
  for (bool two_d : {false, true}) {
    SCOPED_TRACE(two_d ? "dropout2d" : "dropout");
    auto run = [&](uint64_t seed) {
      Generator gen(seed);
      return two_d ? ops::dropout2d(x, 0.5, true, gen) : ops::dropout(x, 0.5, true, gen);
    };
    EXPECT_TRUE(all_close(run(123), run(123), 0, 0));
    EXPECT_FALSE(all_close(run(123), run(124), 0, 0));
    // The generator advances: two calls in a row draw different masks.
    Generator gen(123);
    const Tensor a = ops::dropout(x, 0.5, true, gen), b = ops::dropout(x, 0.5, true, gen);
    EXPECT_FALSE(all_close(a, b, 0, 0));
  }
}

TEST(Dropout, POneGivesZerosAndZeroGradient) {
  for (bool two_d : {false, true}) {
    SCOPED_TRACE(two_d ? "dropout2d" : "dropout");
    Generator gen(12);
    Tensor x = nonzero_input({2, 3, 4, 4}, 13).requires_grad_();
    const Tensor y = two_d ? ops::dropout2d(x, 1.0, true, gen) : ops::dropout(x, 1.0, true, gen);
    EXPECT_TRUE(all_close(y, Tensor::zeros(x.shape()), 0, 0));
    y.backward(Tensor::ones(x.shape()));
    EXPECT_TRUE(all_close(x.grad(), Tensor::zeros(x.shape()), 0, 0));
  }
}

TEST(Dropout, Errors) {
  Generator gen(14);
  const Tensor x = Tensor::ones({2, 3, 4, 4});
  expect_error([&] { ops::dropout(x, 1.5, true, gen); }, {"dropout", "between 0 and 1", "p = 1.5"});
  expect_error([&] { ops::dropout(x, -0.1, false, gen); }, {"dropout", "p = -0.1"});
  expect_error([&] { ops::dropout2d(x, 2.0, true, gen); }, {"dropout2d", "p = 2"});
  expect_error([&] { ops::dropout2d(Tensor::ones({2, 3}), 0.5, true, gen); }, {"dropout2d", "(N, C, H, W)", "(2, 3)"});
}

// Stochastic depth ("row"): whole samples dropped with probability p, the others scaled by
// 1/(1-p); "batch": the whole batch kept or dropped together; identity in eval.
TEST(StochasticDepth, RowModeDropsWholeSamples) {
  // 4000 sample draws: the dropped fraction's standard deviation is below 0.008, so 0.04 is
  // 5 sigma; p and 1-p (0.4 apart) cannot be mixed up.
  const double p = 0.3;
  Generator gen(21);
  Tensor x = nonzero_input({4000, 2, 3, 2}, 22).requires_grad_();
  const Tensor y = ops::stochastic_depth(x, p, "row", true, gen);
  const int64_t row = 12;
  int64_t dropped = 0;
  for (int64_t n = 0; n < 4000; ++n) {
    const bool zero = y.data()[n * row] == 0.f;
    dropped += zero;
    for (int64_t i = 0; i < row; ++i) {
      const int64_t j = n * row + i;
      ASSERT_FLOAT_EQ(y.data()[j], zero ? 0.f : x.data()[j] * scale_of(p)) << "sample " << n << " element " << i;
    }
  }
  EXPECT_NEAR(static_cast<double>(dropped) / 4000, p, 0.04);
  // The gradient is the same mask.
  y.backward(Tensor::ones(x.shape()));
  for (int64_t j = 0; j < x.numel(); ++j)
    ASSERT_FLOAT_EQ(x.grad().data()[j], y.data()[j] == 0.f ? 0.f : scale_of(p)) << "element " << j;
}

TEST(StochasticDepth, BatchModeKeepsOrDropsEverything) {
  const Tensor x = nonzero_input({3, 4, 5}, 23);
  int dropped = 0;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    Generator gen(seed);
    const Tensor y = ops::stochastic_depth(x, 0.5, "batch", true, gen);
    const bool zero = y.data()[0] == 0.f;
    dropped += zero;
    if (zero) {
      EXPECT_TRUE(all_close(y, Tensor::zeros(x.shape()), 0, 0));
    } else {
      for (int64_t k = 0; k < x.numel(); ++k) ASSERT_FLOAT_EQ(y.data()[k], 2.f * x.data()[k]);
    }
  }
  EXPECT_GT(dropped, 60);  // binomial(200, 0.5): mean 100, sd 7
  EXPECT_LT(dropped, 140);
}

TEST(StochasticDepth, EvalAndZeroPReturnTheInputItself) {
  Generator gen(24);
  const Tensor x = nonzero_input({2, 3, 4, 4}, 25);
  EXPECT_EQ(ops::stochastic_depth(x, 0.5, "row", false, gen).data(), x.data());
  EXPECT_EQ(ops::stochastic_depth(x, 0.0, "row", true, gen).data(), x.data());
  nn::StochasticDepth m(0.2);
  m.eval();
  EXPECT_EQ(m(x).data(), x.data());
}

TEST(StochasticDepth, Errors) {
  Generator gen(26);
  const Tensor x = Tensor::ones({2, 3});
  expect_error([&] { ops::stochastic_depth(x, 1.5, "row", true, gen); }, {"stochastic_depth", "p = 1.5"});
  expect_error([&] { ops::stochastic_depth(x, 0.5, "column", true, gen); }, {"stochastic_depth", "'column'"});
  expect_error([&] { ops::stochastic_depth(Tensor::scalar(1.f), 0.5, "row", true, gen); },
               {"stochastic_depth", "batch dimension"});
  expect_error([] { nn::StochasticDepth(-0.5); }, {"StochasticDepth", "-0.5"});
}
