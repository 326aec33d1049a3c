// dropout / dropout2d: random masks cannot be compared with PyTorch, so these tests check
// the properties that define inverted dropout. Seeds are fixed, and the statistical bounds
// are several standard deviations wide, yet far narrower than the error of a wrong p.
#include <gtest/gtest.h>

#include <cmath>

#include "convnet/core/rng.h"
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
