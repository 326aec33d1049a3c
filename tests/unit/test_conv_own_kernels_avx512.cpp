// Our own AVX-512-only convolution kernels (kernels/cpu/conv2d_pointwise.cpp, conv2d_rows.cpp):
// each against its reference twin over a grid of geometries, layouts, post-ops and thread
// counts; the twins against the definition; the shapes each kernel takes; and the oneDNN
// forward kernel handing them their shapes, with no weight packing and no system allocation
// in the steady state. On a CPU without AVX-512 only the twins' tests run.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>

#include "kernels/conv2d.h"
#include "kernels/layout.h"
#include "kernels/registry.h"
#include "util/own_conv.h"
#include "util/test_util.h"
#include "util/variants.h"

using namespace convnet;
using namespace convnet::testing;

namespace {

// The pointwise kernel's shapes (kernels/cpu/conv2d_pointwise.cpp), 1x1 stride 1: MobileNetV2's
// 32 -> 144 on 8x8 (tiles of 8 pixels by 3 panels, split between threads), 24 channels in
// (plain or blocks of 8 only) and 40 out (a partial panel), one panel of 16 or of 8 (tiles of
// 12 and 8 pixels by one panel), 2 panels in tiles of 12 pixels, 15 pixels per image (tiles of
// 7 and 8) over two images, 4 pixels by 3 panels, one pixel by 4 and by 3 panels (the sums in
// two chains), 9 pixels by 2 panels, three images of 8 pixels, and 121 pixels (more than the
// kernel is handed, still computed).
struct PwCfg {
  int64_t N, C, H, W, OC;
  kernels::Conv2dGeom geom() const { return {N, C, H, W, OC, 1, 1, 1, 1, 0, 0, 1, 1, 1, H, W}; }
};
const std::vector<PwCfg> kPwGrid = {
    {1, 32, 8, 8, 144}, {1, 24, 8, 8, 40},  {1, 16, 4, 6, 16}, {1, 16, 5, 1, 8},
    {1, 32, 3, 4, 32},  {2, 48, 3, 5, 32},  {1, 64, 2, 2, 96}, {1, 96, 1, 1, 64},
    {1, 160, 1, 1, 40}, {1, 16, 3, 3, 128}, {3, 16, 2, 4, 64}, {1, 8, 11, 11, 48},
};

bool have_pointwise() {
  return kernels::cpu::pointwise_supports(kPwGrid[0].geom(), 16, 16);
}

}  // namespace

// The pointwise kernel's twin (kernels/ref/conv2d_pointwise.cpp) against the definition
// (plain tensors: any CPU).
TEST(OwnConv, PointwiseTwinIsTheConvolution) {
  expect_twin_is_the_convolution(kPwGrid, &kernels::ref::conv2d_fwd_pointwise, 450);
}

// The pointwise convolution (kernels/cpu/conv2d_pointwise.cpp) against its reference twin in
// every layout.
TEST(OwnConv, PointwiseConv2dMatchesReference) {
  if (!have_pointwise()) GTEST_SKIP() << "this CPU has no AVX-512: no pointwise kernel";
  EXPECT_GT(
      expect_matches_twin_in_every_layout(kPwGrid, 450, &kernels::cpu::pointwise_supports,
                                          &kernels::cpu::conv2d_fwd_pointwise, &kernels::ref::conv2d_fwd_pointwise),
      700);
}

TEST(OwnConv, PointwiseTakesOnlyItsShapes) {
  using kernels::cpu::pointwise_pays;
  using kernels::cpu::pointwise_supports;
  const kernels::Conv2dGeom mb{1, 24, 8, 8, 144, 1, 1, 1, 1, 0, 0, 1, 1, 1, 8, 8};
  if (!pointwise_supports(mb, 0, 16)) GTEST_SKIP() << "this CPU has no AVX-512: no pointwise kernel";
  EXPECT_FALSE(pointwise_supports(mb, 16, 16));  // 24 channels in blocks of 16
  EXPECT_FALSE(pointwise_supports(mb, 24, 16));  // channels-last
  kernels::Conv2dGeom grouped = mb;
  grouped.G = 2;
  EXPECT_FALSE(pointwise_supports(grouped, 8, 16));
  EXPECT_FALSE(pointwise_supports({1, 16, 8, 8, 16, 1, 1, 2, 2, 0, 0, 1, 1, 1, 4, 4}, 16, 16));    // strided
  EXPECT_FALSE(pointwise_supports({1, 16, 8, 8, 16, 1, 1, 1, 1, 1, 1, 1, 1, 1, 10, 10}, 16, 16));  // padded
  EXPECT_FALSE(pointwise_supports({1, 16, 8, 8, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 8, 8}, 16, 16));    // 3x3
  if (std::getenv("CONVNET_POINTWISE")) return;  // the rest is the default policy
  // Up to 64 pixels (MobileNetV2 at batch 1 on 32x32 images: 1.1-1.6x oneDNN), of one image or
  // of images of 8 pixels or more (a tile holds one image's pixels).
  EXPECT_TRUE(pointwise_pays(mb, 0, 16));
  EXPECT_TRUE(pointwise_pays({1, 320, 1, 1, 1280, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1}, 16, 16));
  EXPECT_TRUE(pointwise_pays({4, 64, 4, 4, 64, 1, 1, 1, 1, 0, 0, 1, 1, 1, 4, 4}, 16, 16));
  EXPECT_FALSE(pointwise_pays({1, 16, 16, 16, 96, 1, 1, 1, 1, 0, 0, 1, 1, 1, 16, 16}, 16, 16));  // 256 pixels
  EXPECT_FALSE(pointwise_pays({8, 64, 2, 2, 64, 1, 1, 1, 1, 0, 0, 1, 1, 1, 2, 2}, 16, 16));      // 8 images of 4
}

// The oneDNN forward kernel hands MobileNetV2's 24 -> 144 layer to the pointwise kernel, and
// the answer is the reference's; the packed weights follow a change of the weight (its
// version), and later calls pack nothing and allocate nothing.
TEST(OwnConv, OnednnForwardGoesPointwiseWhereItPays) {
  const auto fast = convnet::testing::fast_variants(kernels::keys::conv2d_fwd_blocked);
  auto it = std::find_if(fast.begin(), fast.end(), [](const auto& v) { return v.backend == "onednn"; });
  if (it == fast.end()) GTEST_SKIP() << "no oneDNN conv2d here";
  kernels::Conv2dGeom g{1, 24, 8, 8, 144, 1, 1, 1, 1, 0, 0, 1, 1, 1, 8, 8};
  g.w_id = 0x5eed0004;
  g.w_version = 1;
  const int32_t B = 16;
  if (!kernels::cpu::pointwise_pays(g, 0, B)) GTEST_SKIP() << "the pointwise kernel is off or unsupported here";
  const int64_t nx = g.C * g.H * g.W, ny = g.OC * g.OH * g.OW, nw = g.OC * g.C;
  const auto x = to_float(random_doubles(nx, 491));
  auto w = to_float(random_doubles(nw, 492));
  const auto b = to_float(random_doubles(g.OC, 493));
  std::vector<float> y(ny), py(ny), y_ref(ny);
  for (int version = 1; version <= 2; ++version) {
    SCOPED_TRACE("weight version " + std::to_string(version));
    if (version == 2) {
      for (float& v : w) v *= -0.5f;
      g.w_version = 2;
    }
    it->fn(g, x.data(), 0, w.data(), b.data(), y.data(), B);
    expect_steady_calls([&] { it->fn(g, x.data(), 0, w.data(), b.data(), y.data(), B); }, false);
    kernels::to_plain_layout(y.data(), py.data(), 1, g.OC, g.OH * g.OW, B);
    kernels::ref::conv2d_fwd<float>(g, x.data(), w.data(), b.data(), y_ref.data());
    EXPECT_TRUE(close_to(py, y_ref, 1e-5));
  }
}

namespace {

// The rows kernel's shapes (kernels/cpu/conv2d_rows.cpp): LeNet-5's first layer (two vectors
// of 16 pixels per 28-pixel row, 6 channels in one tile), rows of 7 (one partial vector), 33
// (three vectors, 17 channels in tiles of 5 and 6) and 50 pixels (four vectors), stride 2
// down the height, dilation, padding wider than the kernel's reach (pixels with no tap
// inside the row), a 1x1 and an 11-wide kernel, and 3 images large enough for the threads.
struct RwCfg {
  int64_t N, C, H, W, OC, KH, KW, SH, PH, PW, DH, DW;
  kernels::Conv2dGeom geom() const {
    const int64_t OH = (H + 2 * PH - DH * (KH - 1) - 1) / SH + 1, OW = W + 2 * PW - DW * (KW - 1);
    return {N, C, H, W, OC, KH, KW, SH, 1, PH, PW, DH, DW, 1, OH, OW};
  }
};
const std::vector<RwCfg> kRwGrid = {
    {1, 1, 28, 28, 6, 5, 5, 1, 2, 2, 1, 1}, {2, 3, 9, 7, 5, 3, 3, 1, 1, 1, 1, 1},
    {1, 4, 5, 33, 17, 3, 3, 1, 1, 1, 1, 1}, {1, 2, 6, 50, 9, 3, 3, 2, 1, 1, 1, 1},
    {1, 3, 8, 12, 4, 3, 3, 1, 2, 2, 2, 2},  {1, 1, 5, 6, 3, 3, 3, 1, 0, 4, 1, 1},
    {1, 2, 4, 9, 8, 1, 1, 1, 0, 0, 1, 1},   {1, 1, 6, 20, 2, 3, 11, 1, 1, 5, 1, 1},
    {3, 1, 28, 28, 6, 5, 5, 1, 2, 2, 1, 1},
};

}  // namespace

// The rows kernel's twin (kernels/ref/conv2d_rows.cpp) against the definition (plain tensors:
// any CPU).
TEST(OwnConv, RowsTwinIsTheConvolution) {
  expect_twin_is_the_convolution(kRwGrid, &kernels::ref::conv2d_fwd_rows, 550);
}

// The rows convolution (kernels/cpu/conv2d_rows.cpp) against its twin (the same sums in the
// same order: agreement to 1e-5), with and without bias, every post-op, on 1 and 3 threads.
TEST(OwnConv, RowsConv2dMatchesReference) {
  if (!kernels::cpu::rows_supports(kRwGrid[0].geom(), 0, 0)) GTEST_SKIP() << "this CPU has no AVX-512: no rows kernel";
  int cases = 0;
  for (size_t ci = 0; ci < kRwGrid.size(); ++ci) {
    const kernels::Conv2dGeom g = kRwGrid[ci].geom();
    ASSERT_TRUE(kernels::cpu::rows_supports(g, 0, 0)) << "config " << ci;
    const int64_t ny = g.N * g.OC * g.OH * g.OW;
    const auto [x, w, b, res] = conv_operands(g, 550, ci);
    for (bool bias : {true, false})
      for (const auto& [name, post] : kConvPosts) {
        SCOPED_TRACE("config " + std::to_string(ci) + " post " + name + (bias ? " bias" : ""));
        kernels::Conv2dGeom pg = g;
        pg.post = post;
        std::vector<float> y_ref = res;
        kernels::ref::conv2d_fwd_rows(pg, x.data(), w.data(), bias ? b.data() : nullptr, y_ref.data());
        for (int threads : {1, 3}) {
          SCOPED_TRACE(std::to_string(threads) + " threads");
          std::vector<float> y = post.sum ? res : std::vector<float>(ny, NAN);
          on_threads(threads, [&] {
            kernels::cpu::conv2d_fwd_rows(pg, x.data(), w.data(), bias ? b.data() : nullptr, y.data());
          });
          EXPECT_TRUE(close_to(y, y_ref, 1e-5));
          ++cases;
        }
      }
  }
  EXPECT_EQ(cases, static_cast<int>(kRwGrid.size() * 2 * kConvPosts.size() * 2));
}

TEST(OwnConv, RowsTakesOnlyItsShapes) {
  using kernels::cpu::rows_pays;
  using kernels::cpu::rows_supports;
  const kernels::Conv2dGeom lenet{128, 1, 28, 28, 6, 5, 5, 1, 1, 2, 2, 1, 1, 1, 28, 28};
  if (!rows_supports(lenet, 0, 0)) GTEST_SKIP() << "this CPU has no AVX-512: no rows kernel";
  EXPECT_FALSE(rows_supports(lenet, 16, 0));  // plain only
  EXPECT_FALSE(rows_supports(lenet, 0, 16));
  EXPECT_FALSE(rows_supports({1, 1, 28, 28, 6, 5, 5, 1, 2, 2, 2, 1, 1, 1, 28, 14}, 0, 0));    // strided along the width
  EXPECT_FALSE(rows_supports({1, 1, 70, 70, 6, 5, 5, 1, 1, 2, 2, 1, 1, 1, 70, 70}, 0, 0));    // rows over 64 pixels
  EXPECT_FALSE(rows_supports({1, 1, 28, 28, 6, 13, 13, 1, 1, 6, 6, 1, 1, 1, 28, 28}, 0, 0));  // 13 wide
  if (std::getenv("CONVNET_ROWS")) return;  // the rest is the default policy
  // A first layer, up to 4 input channels (LeNet-5's 1 -> 6: 2.9x oneDNN at batch 1, 1.6x at 128).
  EXPECT_TRUE(rows_pays(lenet, 0, 0));
  EXPECT_FALSE(rows_pays({1, 6, 14, 14, 16, 5, 5, 1, 1, 0, 0, 1, 1, 1, 10, 10}, 0, 0));  // 6 in
}

// The oneDNN forward kernel hands LeNet-5's first layer to the rows kernel, and the answer is
// the reference's; later calls pack nothing and allocate nothing.
TEST(OwnConv, OnednnForwardGoesRowsWhereItPays) {
  const auto fast = convnet::testing::fast_variants(kernels::keys::conv2d_fwd_blocked);
  auto it = std::find_if(fast.begin(), fast.end(), [](const auto& v) { return v.backend == "onednn"; });
  if (it == fast.end()) GTEST_SKIP() << "no oneDNN conv2d here";
  const kernels::Conv2dGeom g = kRwGrid[0].geom();
  if (!kernels::cpu::rows_pays(g, 0, 0)) GTEST_SKIP() << "the rows kernel is off or unsupported here";
  const auto [x, w, b, res] = conv_operands(g, 591, 0);
  std::vector<float> y(g.OC * g.OH * g.OW), y_ref(y.size());
  it->fn(g, x.data(), 0, w.data(), b.data(), y.data(), 0);
  expect_steady_calls([&] { it->fn(g, x.data(), 0, w.data(), b.data(), y.data(), 0); }, false);
  kernels::ref::conv2d_fwd<float>(g, x.data(), w.data(), b.data(), y_ref.data());
  EXPECT_TRUE(close_to(y, y_ref, 1e-5));
}
