// MixUp / CutMix: the Beta sampler's moments, soft targets that sum to 1 and mix the right
// pair, images mixed with the same pair and weight, CutMix's lambda equal to the pasted area.
#include <cmath>
#include <set>

#include "convnet/core/error.h"
#include "convnet/data/mixup.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::data;
using convnet::testing::expect_error;

namespace {

// A batch where image i is the constant 10 (i + 1) and its label is i % K.
Tensor constant_batch(int64_t N, int64_t C, int64_t H, int64_t W) {
  Tensor x = Tensor::empty({N, C, H, W});
  const int64_t S = C * H * W;
  for (int64_t i = 0; i < N; ++i)
    for (int64_t k = 0; k < S; ++k) x.data()[i * S + k] = 10.f * static_cast<float>(i + 1);
  return x;
}

void expect_is_permutation(const std::vector<int64_t>& p, int64_t N) {
  ASSERT_EQ(static_cast<int64_t>(p.size()), N);
  EXPECT_EQ(std::set<int64_t>(p.begin(), p.end()).size(), static_cast<size_t>(N));
  for (int64_t v : p) EXPECT_TRUE(v >= 0 && v < N);
}

}  // namespace

TEST(Mixup, BetaMoments) {
  // Beta(a, b): mean a / (a + b), variance a b / ((a + b)^2 (a + b + 1)).
  for (auto [a, b] : std::vector<std::pair<double, double>>{{0.2, 0.2}, {1, 1}, {2, 5}, {0.5, 3}}) {
    Generator gen(11);
    const int n = 40000;
    double s = 0, s2 = 0;
    for (int i = 0; i < n; ++i) {
      const double v = sample_beta(a, b, gen);
      ASSERT_TRUE(v >= 0 && v <= 1) << v;
      s += v;
      s2 += v * v;
    }
    const double mean = s / n, var = s2 / n - mean * mean;
    const double m = a / (a + b), vv = a * b / ((a + b) * (a + b) * (a + b + 1));
    EXPECT_NEAR(mean, m, 4 * std::sqrt(vv / n)) << "Beta(" << a << ", " << b << ")";
    EXPECT_NEAR(var, vv, 0.05 * vv) << "Beta(" << a << ", " << b << ")";
  }
  Generator gen(0);
  expect_error([&] { sample_beta(0, 1, gen); }, {"sample_beta", "positive", "(0, 1)"});
}

TEST(Mixup, MixedOneHotByHand) {
  const Tensor t = mixed_one_hot({2, 0, 2}, {1, 0, 2}, 0.75, 3);
  EXPECT_EQ(t.to_vector(), (std::vector<float>{0.25f, 0, 0.75f, 0.75f, 0, 0.25f, 0, 0, 1.f}));
  expect_error([] { mixed_one_hot({0, 3}, {1, 0}, 0.5, 3); }, {"label 3", "3 classes"});
}

TEST(Mixup, MixupMixesImagesAndTargetsWithTheSamePair) {
  const int64_t N = 6, K = 4;
  std::vector<int64_t> y;
  for (int64_t i = 0; i < N; ++i) y.push_back(i % K);
  for (uint64_t seed = 0; seed < 20; ++seed) {
    Tensor x = constant_batch(N, 2, 3, 3);
    Generator gen(seed);
    MixInfo info;
    const Tensor t = mixup(x, y, K, 0.4, gen, &info);
    ASSERT_EQ(t.shape(), (Shape{N, K}));
    expect_is_permutation(info.perm, N);
    EXPECT_FALSE(info.cutmix);
    ASSERT_TRUE(info.lambda >= 0 && info.lambda <= 1);
    const auto lam = static_cast<float>(info.lambda);
    for (int64_t i = 0; i < N; ++i) {
      const int64_t j = info.perm[i];
      float row = 0;
      for (int64_t k = 0; k < K; ++k) row += t.at({i, k});
      EXPECT_NEAR(row, 1.f, 1e-6);
      // own label lambda, partner's label 1 - lambda (both when they coincide)
      const float own = y[i] == y[j] ? 1.f : lam, other = y[i] == y[j] ? 1.f : 1 - lam;
      EXPECT_NEAR(t.at({i, y[i]}), own, 1e-6);
      EXPECT_NEAR(t.at({i, y[j]}), other, 1e-6);
      const float want = lam * 10.f * static_cast<float>(i + 1) + (1 - lam) * 10.f * static_cast<float>(j + 1);
      EXPECT_NEAR(x.at({i, 1, 2, 0}), want, 1e-4);
      EXPECT_NEAR(x.at({i, 0, 0, 0}), want, 1e-4);
    }
  }
}

TEST(Mixup, CutmixLambdaIsTheKeptArea) {
  const int64_t N = 5, C = 2, H = 8, W = 12, K = 5;
  const std::vector<int64_t> y = {0, 1, 2, 3, 4};
  int partial = 0;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    Tensor x = constant_batch(N, C, H, W);
    Generator gen(seed);
    MixInfo info;
    const Tensor t = cutmix(x, y, K, 1.0, gen, &info);
    EXPECT_TRUE(info.cutmix);
    expect_is_permutation(info.perm, N);
    for (int64_t i = 0; i < N; ++i) {
      const int64_t j = info.perm[i];
      if (j == i) continue;  // pasting itself changes nothing
      // Count the pixels that came from the partner, and check they form the box.
      int64_t pasted = 0;
      for (int64_t c = 0; c < C; ++c)
        for (int64_t r = 0; r < H; ++r)
          for (int64_t q = 0; q < W; ++q) {
            const bool in_box =
                r >= info.top && r < info.top + info.height && q >= info.left && q < info.left + info.width;
            const float v = x.at({i, c, r, q});
            EXPECT_EQ(v, 10.f * static_cast<float>((in_box ? j : i) + 1));
            pasted += v == 10.f * static_cast<float>(j + 1);
          }
      const double kept = 1 - static_cast<double>(pasted / C) / static_cast<double>(H * W);
      EXPECT_NEAR(info.lambda, kept, 1e-12);
      EXPECT_NEAR(t.at({i, y[i]}), kept, 1e-6);
      EXPECT_NEAR(t.at({i, y[j]}), 1 - kept, 1e-6);
      partial += pasted > 0 && pasted < C * H * W;
    }
  }
  EXPECT_GT(partial, 20);  // boxes are generally partial, so the test exercises the area
}

TEST(Mixup, MixBatchChoosesAndChecks) {
  const std::vector<int64_t> y = {0, 1, 0, 1};
  int cut = 0;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    Tensor x = constant_batch(4, 1, 4, 4);
    Generator gen(seed);
    MixInfo info;
    mix_batch(x, y, 2, 0.5, 0.5, gen, &info);
    cut += info.cutmix;
  }
  EXPECT_GT(cut, 70);
  EXPECT_LT(cut, 130);
  Tensor x = constant_batch(4, 1, 4, 4);
  Generator gen(0);
  EXPECT_FALSE(mix_batch(x, y, 2, 0, 0, gen).defined());
  expect_error([&] { mixup(x, {0, 1}, 2, 0.5, gen); }, {"mixup", "4 images but 2 labels"});
  expect_error([&] { cutmix(x, y, 2, 0, gen); }, {"cutmix", "alpha must be positive"});
}
