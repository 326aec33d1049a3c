// Augmentation: the deterministic building blocks against small cases worked out by hand
// (identities, a quarter and a half turn of a 3x3 image, shifts, scaling, ColorJitter's
// blends), the random transforms' parameter ranges, and the spec grammar with its errors.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

#include "convnet/core/error.h"
#include "convnet/data/transforms.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::data;
using convnet::testing::expect_error;

namespace {

using V = std::vector<float>;

V iota(size_t n, float start = 1.f) {
  V v(n);
  std::iota(v.begin(), v.end(), start);
  return v;
}

void expect_near(const V& a, const V& b, float tol = 1e-6f) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], tol) << "element " << i;
}

}  // namespace

TEST(Transforms, FlipByHandAndTwiceIsIdentity) {
  V img = iota(12);  // (2, 2, 3)
  hflip(img.data(), 2, 2, 3);
  EXPECT_EQ(img, (V{3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10}));
  hflip(img.data(), 2, 2, 3);
  EXPECT_EQ(img, iota(12));
}

TEST(Transforms, PadCrop) {
  V img = iota(9);  // 1 x 3 x 3: rows 1 2 3 / 4 5 6 / 7 8 9
  pad_crop(img.data(), 1, 3, 3, 0, 0, 0);
  EXPECT_EQ(img, iota(9));
  pad_crop(img.data(), 1, 3, 3, 2, 2, 2);  // centred window of the padded image
  EXPECT_EQ(img, iota(9));
  pad_crop(img.data(), 1, 3, 3, 1, 0, 0);  // top-left window: the image moves down-right
  EXPECT_EQ(img, (V{0, 0, 0, 0, 1, 2, 0, 4, 5}));
  img = iota(9);
  pad_crop(img.data(), 1, 3, 3, 2, 4, 1);  // reads rows +2, columns -1
  EXPECT_EQ(img, (V{0, 7, 8, 0, 0, 0, 0, 0, 0}));
  expect_error([&] { pad_crop(img.data(), 1, 3, 3, 1, 3, 0); }, {"pad_crop", "(3, 0)", "[0, 2]"});
}

TEST(Transforms, AffineByHand) {
  const V img = iota(9);  // 1 2 3 / 4 5 6 / 7 8 9
  V a = img;
  affine(a.data(), 1, 3, 3, 0, 0, 0, 1);
  EXPECT_EQ(a, img);  // rotation by 0
  a = img;
  affine(a.data(), 1, 3, 3, 180, 0, 0, 1);
  expect_near(a, V{9, 8, 7, 6, 5, 4, 3, 2, 1});
  a = img;
  affine(a.data(), 1, 3, 3, 90, 0, 0, 1);  // counter-clockwise, as torch.rot90(x, 1, (-2, -1))
  expect_near(a, V{3, 6, 9, 2, 5, 8, 1, 4, 7});
  a = img;
  affine(a.data(), 1, 3, 3, -90, 0, 0, 1);
  expect_near(a, V{7, 4, 1, 8, 5, 2, 9, 6, 3});
  a = img;
  affine(a.data(), 1, 3, 3, 360, 0, 0, 1);
  expect_near(a, img, 1e-5f);
  // Shift right by 1 and up by 1: zero fill where nothing comes in.
  a = img;
  affine(a.data(), 1, 3, 3, 0, 1, -1, 1);
  expect_near(a, V{0, 4, 5, 0, 7, 8, 0, 0, 0});
  // Half a pixel to the right: bilinear averages neighbours; column 0 takes half of a zero.
  a = img;
  affine(a.data(), 1, 3, 3, 0, 0.5, 0, 1);
  expect_near(a, V{0.5f, 1.5f, 2.5f, 2, 4.5f, 5.5f, 3.5f, 7.5f, 8.5f});
  // Scale 2 about the centre (1, 1): output (0, 0) reads (0.5, 0.5) = mean(1, 2, 4, 5) = 3.
  a = img;
  affine(a.data(), 1, 3, 3, 0, 0, 0, 2);
  expect_near(a, V{3, 3.5f, 4, 4.5f, 5, 5.5f, 6, 6.5f, 7});
  // Two channels are warped alike.
  V two = iota(18);
  affine(two.data(), 2, 3, 3, 180, 0, 0, 1);
  expect_near(two, V{9, 8, 7, 6, 5, 4, 3, 2, 1, 18, 17, 16, 15, 14, 13, 12, 11, 10});
  // 45 degrees of a constant 5x5 image: the centre keeps its value; corner (0, 0), 2 sqrt 2
  // from the centre (2, 2), reads (2, 2 - 2 sqrt 2) ~ (2, -0.83): weight 0.83 on row -1
  // (outside, 0) and 3 - 2 sqrt 2 on row 0.
  V k(25, 1.f);
  affine(k.data(), 1, 5, 5, 45, 0, 0, 1);
  EXPECT_NEAR(k[12], 1.f, 1e-6);
  EXPECT_NEAR(k[0], 3 - 2 * std::sqrt(2.0), 1e-6);
  EXPECT_NEAR(k[2], 1.f, 1e-6);  // (0, 2) reads (2 + sqrt 2, 2 - sqrt 2): inside
}

TEST(Transforms, ColorAdjustmentsByHand) {
  V b = {0.2f, 0.6f, 0.9f};
  adjust_brightness(b.data(), 1, 1, 3, 2.0);
  expect_near(b, V{0.4f, 1.f, 1.f});  // clamped at 1
  // Contrast on one channel: blend with the image mean (0.5).
  V c = {0.f, 1.f, 0.25f, 0.75f};
  adjust_contrast(c.data(), 1, 2, 2, 0.5);
  expect_near(c, V{0.25f, 0.75f, 0.375f, 0.625f});
  // RGB: the mean is of the grayscale image; one pixel (1, 0, 0): gray 0.2989.
  V r = {1.f, 0.f, 0.f};
  adjust_contrast(r.data(), 3, 1, 1, 0.0);
  expect_near(r, V{0.2989f, 0.2989f, 0.2989f});
  // Saturation 0 = grayscale in every channel, 1 = identity, 2 = pushed away from gray.
  const V s = {0.8f, 0.2f, 0.4f, 0.2f, 0.f, 0.2f};  // two pixels: R = {0.8, 0.2}, G = {0.4, 0.2}, B = {0, 0.2}
  V s1 = s;
  adjust_saturation(s1.data(), 3, 1, 2, 1.0);
  expect_near(s1, s);
  const float g0 = 0.2989f * 0.8f + 0.587f * 0.4f;  // pixel 0's gray; pixel 1 is gray 0.2 already
  const float g1 = 0.2989f * 0.2f + 0.587f * 0.2f + 0.114f * 0.2f;
  V s0 = s;
  adjust_saturation(s0.data(), 3, 1, 2, 0.0);
  expect_near(s0, V{g0, g1, g0, g1, g0, g1});
  V s2 = s;
  adjust_saturation(s2.data(), 3, 1, 2, 2.0);
  expect_near(s2,
              V{std::clamp(1.6f - g0, 0.f, 1.f), 0.4f - g1, std::clamp(0.8f - g0, 0.f, 1.f), 0.4f - g1, 0.f, 0.4f - g1},
              1e-5f);
  V s3 = s;
  expect_error([&] { adjust_saturation(s3.data(), 1, 1, 6, 0.5); }, {"adjust_saturation", "3 channels, got 1"});
}

TEST(Transforms, ErasingBoxBoundsAndFill) {
  Generator gen(5);
  int none = 0;
  for (int t = 0; t < 2000; ++t) {
    const int64_t H = 10 + t % 23, W = 8 + t % 17;
    const Box b = random_erasing_box(H, W, gen);
    if (b.height == 0) {
      ++none;
      continue;
    }
    ASSERT_GE(b.top, 0);
    ASSERT_GE(b.left, 0);
    ASSERT_LT(b.height, H);
    ASSERT_LT(b.width, W);
    ASSERT_LE(b.top + b.height, H);
    ASSERT_LE(b.left + b.width, W);
    // h w = area in [0.02, 0.33] H W up to the rounding of h and w: with |h - h'|, |w - w'|
    // <= 1/2 and h' w' = area, |h w - area| <= (h' + w') / 2 + 1/4 <= (h + w + 1) / 2 + 1/4.
    const double hw = static_cast<double>(b.height * b.width), area = static_cast<double>(H * W);
    const double tol = (b.height + b.width + 1) / 2.0 + 0.25 + 1e-9;
    EXPECT_LE(hw, 0.33 * area + tol);
    EXPECT_GE(hw, 0.02 * area - tol);
    // aspect h / w within [0.3, 3.3] up to the same rounding
    EXPECT_LE((b.height - 0.5) / (b.width + 0.5), 3.3);
    EXPECT_GE((b.height + 0.5) / std::max(b.width - 0.5, 0.5), 0.3);
  }
  EXPECT_LT(none, 100);  // a box almost always fits in 10 tries
  V img(2 * 4 * 5, 1.f);
  erase(img.data(), 2, 4, 5, Box{1, 2, 2, 3}, 0.f);
  for (int c = 0; c < 2; ++c)
    for (int y = 0; y < 4; ++y)
      for (int x = 0; x < 5; ++x)
        EXPECT_EQ(img[(c * 4 + y) * 5 + x], (y >= 1 && y < 3 && x >= 2) ? 0.f : 1.f) << c << y << x;
  expect_error([&] { erase(img.data(), 2, 4, 5, Box{3, 0, 2, 1}, 0.f); }, {"erase", "outside the 4x5 image"});
}

TEST(Augment, ParseDescribeAndErrors) {
  const auto a = Augment::parse(" crop:4, flip ,rotate:15,affine:0.1:0.9:1.1,jitter:0.4:0.3,erasing:0.25");
  EXPECT_EQ(a->describe(), "crop:4,flip:0.5,rotate:15,affine:0.1:0.9:1.1,jitter:0.4:0.3:0,erasing:0.25");
  EXPECT_EQ(Augment::parse(a->describe())->describe(), a->describe());
  EXPECT_EQ(Augment::parse("affine:0.2")->describe(), "affine:0.2:1:1");
  EXPECT_TRUE(Augment::parse("")->empty());
  EXPECT_TRUE(Augment::parse("none")->empty());
  EXPECT_EQ(Augment::parse("none")->describe(), "none");
  expect_error([] { Augment::parse("crop"); }, {"bad item 'crop'", "crop takes 1 parameter, got 0", "flip[:P]"});
  expect_error([] { Augment::parse("flip,blur:3"); }, {"bad item 'blur:3'", "unknown transform 'blur'"});
  expect_error([] { Augment::parse("flip:2"); }, {"'flip:2'", "probability 2 is outside [0, 1]"});
  expect_error([] { Augment::parse("crop:x"); }, {"'crop:x'", "'x' is not a number"});
  expect_error([] { Augment::parse("crop:1.5"); }, {"'crop:1.5'", "non-negative integer"});
  expect_error([] { Augment::parse("affine:0.1:1.2:0.8"); }, {"0 < S0 <= S1"});
  expect_error([] { Augment::parse("flip,,crop:2"); }, {"bad item ''", "empty item"});
  expect_error([] { Augment::parse("jitter:1:1:1:1"); }, {"jitter takes 1 to 3 parameters, got 4"});
}

TEST(Augment, RandomCropIsAPaddedWindowAndCoversAllOffsets) {
  const auto aug = Augment::parse("crop:2");
  const V img = iota(16);  // 1 x 4 x 4
  std::set<std::pair<int, int>> seen;
  for (uint64_t s = 0; s < 300; ++s) {
    V a = img;
    Generator gen(s);
    aug->apply(a.data(), 1, 4, 4, gen);
    bool matched = false;
    for (int t = 0; t <= 4 && !matched; ++t)
      for (int l = 0; l <= 4 && !matched; ++l) {
        V b = img;
        pad_crop(b.data(), 1, 4, 4, 2, t, l);
        if (b == a) {
          matched = true;
          seen.insert({t, l});
        }
      }
    ASSERT_TRUE(matched) << "seed " << s;
  }
  EXPECT_EQ(seen.size(), 25u);  // every offset in [0, 4]^2 occurs
}

TEST(Augment, FlipProbabilityAndSeededDraws) {
  const V img = iota(6);
  V a = img;
  Generator g(1);
  Augment::parse("flip:1")->apply(a.data(), 1, 2, 3, g);
  EXPECT_EQ(a, (V{3, 2, 1, 6, 5, 4}));
  a = img;
  Augment::parse("flip:0")->apply(a.data(), 1, 2, 3, g);
  EXPECT_EQ(a, img);
  int flipped = 0;
  const auto half = Augment::parse("flip");
  for (uint64_t s = 0; s < 1000; ++s) {
    a = img;
    Generator gen(s);
    half->apply(a.data(), 1, 2, 3, gen);
    flipped += a != img;
  }
  EXPECT_GT(flipped, 400);
  EXPECT_LT(flipped, 600);
  // Everything comes from the generator: the same seed, the same result.
  const auto all = Augment::parse("crop:3,flip,rotate:30,affine:0.2:0.8:1.2,jitter:0.5:0.5:0.5,erasing:1");
  V x(3 * 8 * 8), y;
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 37) % 101) / 100.f;
  y = x;
  V x0 = x;
  Generator g1(9), g2(9);
  all->apply(x.data(), 3, 8, 8, g1);
  all->apply(y.data(), 3, 8, 8, g2);
  EXPECT_EQ(x, y);
  EXPECT_NE(x, x0);
  for (float v : x) {
    EXPECT_GE(v, 0.f);
    EXPECT_LE(v, 1.f);
  }
  // One channel: jitter's saturation is skipped rather than an error.
  V m(16, 0.5f);
  Generator g3(2);
  Augment::parse("jitter:0.5:0.5:0.5")->apply(m.data(), 1, 4, 4, g3);
}

TEST(Augment, RotateAndErasingRanges) {
  // rotate:D with D = 0 is the identity; erasing:1 always blanks a box with value 0.
  const V img = iota(25, 0.5f);
  V a = img;
  Generator g(3);
  Augment::parse("rotate:0")->apply(a.data(), 1, 5, 5, g);
  EXPECT_EQ(a, img);
  V ones(3 * 20 * 20, 1.f);
  int erased_any = 0;
  for (uint64_t s = 0; s < 50; ++s) {
    V b = ones;
    Generator gen(s);
    Augment::parse("erasing:1")->apply(b.data(), 3, 20, 20, gen);
    const auto zeros = std::count(b.begin(), b.end(), 0.f);
    EXPECT_EQ(zeros % 3, 0);  // every channel alike
    EXPECT_LE(zeros / 3, static_cast<long>(0.33 * 400 + 25));
    erased_any += zeros > 0;
  }
  EXPECT_GE(erased_any, 45);
}
