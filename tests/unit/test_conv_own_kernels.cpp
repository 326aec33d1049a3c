// Our own convolution kernels on the CPU (kernels/cpu/conv2d_winograd.cpp,
// conv2d_few_pixels.cpp, conv2d_direct.cpp; the AVX-512-only ones in
// test_conv_own_kernels_avx512.cpp): each against its reference twin in kernels/ref/
// over a grid of geometries, layouts, post-ops and thread counts; each twin against the
// reference convolution (the definition); the shapes each kernel takes; and the oneDNN
// forward kernel handing them their shapes, with no weight packing and no system allocation
// in the steady state.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>

#include "convnet/core/profiler.h"
#include "convnet/core/storage.h"
#include "kernels/conv2d.h"
#include "kernels/cpu/parallel.h"
#include "kernels/layout.h"
#include "kernels/registry.h"
#include "util/own_conv.h"
#include "util/test_util.h"
#include "util/variants.h"

using namespace convnet;
using namespace convnet::testing;

namespace {

// The Winograd tests' shapes (3x3, stride 1): odd and even output sizes (partial tiles), every
// padding up to 2 and unequal ones, enough tiles for several chunks, a GEMM panel of 8
// columns, and more than 64 inputs (the GEMMs on OpenBLAS).
struct WinoCfg {
  int64_t N, C, H, W, OC, PH, PW;
  kernels::Conv2dGeom geom() const {
    return {N, C, H, W, OC, 3, 3, 1, 1, PH, PW, 1, 1, 1, H + 2 * PH - 2, W + 2 * PW - 2};
  }
};
const std::vector<WinoCfg> kWinoGrid = {
    {1, 16, 5, 5, 16, 1, 1}, {2, 16, 7, 6, 32, 1, 1}, {3, 32, 4, 9, 16, 0, 0},   {2, 16, 6, 6, 16, 2, 2},
    {1, 32, 8, 8, 48, 1, 0}, {2, 16, 3, 3, 16, 1, 1}, {4, 16, 33, 31, 16, 1, 1},  // 4 x 17 x 16 tiles: chunks
    {2, 16, 5, 7, 24, 1, 1},  // 24 outputs: a GEMM panel of 8 columns
    {1, 80, 6, 6, 32, 1, 1},  // more than 64 inputs: the GEMMs on OpenBLAS
};

bool have_winograd() {
  return kernels::cpu::winograd_supports({1, 8, 4, 4, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 4, 4}, 8, 8);
}

// The reference twin's forward on plain tensors: res is y before the call (read by a sum).
std::vector<float> wino_twin(const kernels::Conv2dGeom& g, const std::vector<float>& x, const std::vector<float>& w,
                             const float* b, const std::vector<float>& res) {
  std::vector<float> y = res;
  kernels::ref::conv2d_fwd_winograd(g, x.data(), w.data(), b, y.data());
  return y;
}

}  // namespace

// The Winograd kernels' reference twin (kernels/ref/conv2d_winograd.cpp) against the
// definition: the direct reference convolution and its post-ops, forward and backward-data,
// over the grid below (plain tensors: it runs on any CPU).
TEST(OwnConv, WinogradTwinIsTheConvolution) {
  int cases = 0;
  for (size_t ci = 0; ci < kWinoGrid.size(); ++ci) {
    const kernels::Conv2dGeom g = kWinoGrid[ci].geom();
    const int64_t nx = g.N * g.C * g.H * g.W, ny = g.N * g.OC * g.OH * g.OW, nw = g.OC * g.C * 9;
    const auto x = to_float(random_doubles(nx, 50 + ci)), w = to_float(random_doubles(nw, 60 + ci));
    const auto b = to_float(random_doubles(g.OC, 70 + ci)), res = to_float(random_doubles(ny, 80 + ci));
    for (const auto& [name, post] : kConvPosts) {
      SCOPED_TRACE("config " + std::to_string(ci) + " post " + name);
      std::vector<float> y_def(ny);
      kernels::ref::conv2d_fwd<float>(g, x.data(), w.data(), b.data(), y_def.data());
      kernels::apply_post_ops(post, res.data(), y_def.data(), ny);
      kernels::Conv2dGeom pg = g;
      pg.post = post;
      EXPECT_TRUE(close_to(wino_twin(pg, x, w, b.data(), res), y_def));
      ++cases;
    }
    std::vector<float> gx_def(nx), gx(nx, NAN);
    kernels::ref::conv2d_bwd_data<float>(g, res.data(), w.data(), gx_def.data());
    kernels::ref::conv2d_bwd_data_winograd(g, res.data(), w.data(), gx.data());
    EXPECT_TRUE(close_to(gx, gx_def)) << "backward-data, config " << ci;
  }
  EXPECT_EQ(cases, static_cast<int>(kWinoGrid.size() * kConvPosts.size()));
}

// Winograd's F(2x2, 3x3) forward (kernels/cpu/conv2d_winograd.cpp) against its reference twin
// (the same algorithm: agreement to 1e-5): blocks of 8 and 16, odd and even output sizes
// (partial tiles), every padding up to 2 and unequal ones, with and without bias, every
// post-op, and enough tiles for several chunks on several threads.
TEST(OwnConv, WinogradConv2dMatchesReference) {
  if (!have_winograd()) GTEST_SKIP() << "this CPU has no AVX2: no Winograd kernel";
  // (One thread: chunks of tiles in turn. Three: chunks side by side where there are many
  // tiles, and the threads sharing each step of one chunk where there are few.)
  const int cases = expect_matches_twin_in_every_layout(
      kWinoGrid, 50, &kernels::cpu::winograd_supports,
      [](const kernels::Conv2dGeom& g, const float* x, int32_t xb, const float* w, const float* b, float* y, int32_t) {
        kernels::cpu::conv2d_fwd_winograd(g, x, xb, w, b, y);
      },
      &kernels::ref::conv2d_fwd_winograd, {{8, 8}, {16, 16}});
  EXPECT_GT(cases, 200);
}

// The backward-data pass by the same kernel (the adjoint convolution: kernels turned by 180
// degrees, channels swapped, padding 2 - P) against its reference twin, on the same grid.
TEST(OwnConv, WinogradConv2dBackwardDataMatchesReference) {
  if (!have_winograd()) GTEST_SKIP() << "this CPU has no AVX2: no Winograd kernel";
  int cases = 0;
  for (int32_t B : {8, 16})
    for (size_t ci = 0; ci < kWinoGrid.size(); ++ci) {
      if (kWinoGrid[ci].C % B || kWinoGrid[ci].OC % B) continue;
      const kernels::Conv2dGeom g = kWinoGrid[ci].geom();
      ASSERT_TRUE(kernels::cpu::winograd_supports(kernels::winograd_bwd_data_geom(g), B, B));
      const int64_t nx = g.N * g.C * g.H * g.W, ny = g.N * g.OC * g.OH * g.OW, nw = g.OC * g.C * 9;
      const auto gy = to_float(random_doubles(ny, 150 + ci)), w = to_float(random_doubles(nw, 160 + ci));
      std::vector<float> gx_ref(nx), bgy(ny);
      kernels::ref::conv2d_bwd_data_winograd(g, gy.data(), w.data(), gx_ref.data());
      kernels::to_blocked_layout(gy.data(), bgy.data(), g.N, g.OC, g.OH * g.OW, B);
      for (int threads : {1, 3}) {
        SCOPED_TRACE("block " + std::to_string(B) + " config " + std::to_string(ci) + ", " + std::to_string(threads) +
                     " threads");
        std::vector<float> gx(nx, NAN), pgx(nx);
        on_threads(threads, [&] { kernels::cpu::conv2d_bwd_data_winograd(g, bgy.data(), B, w.data(), gx.data()); });
        kernels::to_plain_layout(gx.data(), pgx.data(), g.N, g.C, g.H * g.W, B);
        EXPECT_TRUE(close_to(pgx, gx_ref, 1e-5));
        ++cases;
      }
    }
  EXPECT_GT(cases, 20);
}

TEST(OwnConv, WinogradTakesOnlyItsShapes) {
  using kernels::cpu::winograd_supports;
  const kernels::Conv2dGeom ok{2, 64, 8, 8, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 8, 8};
  if (!winograd_supports(ok, 8, 8)) GTEST_SKIP() << "this CPU has no AVX2: no Winograd kernel";
  EXPECT_TRUE(winograd_supports(ok, 16, 16));
  EXPECT_FALSE(winograd_supports(ok, 0, 0));    // plain
  EXPECT_FALSE(winograd_supports(ok, 8, 16));   // two layouts
  EXPECT_FALSE(winograd_supports(ok, 64, 64));  // channels-last
  auto with = [&](auto change) {
    kernels::Conv2dGeom g = ok;
    change(g);
    return winograd_supports(g, 8, 8);
  };
  EXPECT_FALSE(with([](auto& g) { g.SH = g.SW = 2, g.OH = g.OW = 4; }));
  EXPECT_FALSE(with([](auto& g) { g.DH = g.DW = 2, g.OH = g.OW = 6; }));
  EXPECT_FALSE(with([](auto& g) { g.G = 2; }));
  EXPECT_FALSE(with([](auto& g) { g.KH = g.KW = 5, g.PH = g.PW = 2; }));
  EXPECT_FALSE(with([](auto& g) { g.C = 12; }));
  EXPECT_FALSE(with([](auto& g) { g.PH = g.PW = 3, g.OH = g.OW = 12; }));  // its adjoint would pad by -1
  // Thin calls stay on the direct kernel: a few tiles, or few channels.
  EXPECT_TRUE(kernels::cpu::winograd_pays({64, 64, 8, 8, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 8, 8}, 8, 8, 2) ||
              std::getenv("CONVNET_WINOGRAD"));
  EXPECT_EQ(kernels::cpu::winograd_pays({64, 64, 8, 8, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 8, 8}, 16, 16, 2),
            std::getenv("CONVNET_WINOGRAD") && std::string(std::getenv("CONVNET_WINOGRAD")) == "1")
      << "blocks of 16 (AVX-512) take it only when asked";
  // Up to 64 input channels (our GEMM tile) from 32 channels and 4 MFLOP per thread:
  // ResNet-20's 32- and 64-channel layers at batch 1 (4.7 MFLOP) on one thread, not on two,
  // not a 32-channel one on an 8x8 map (1.2 MFLOP), nor 16 channels.
  const bool on = !std::getenv("CONVNET_WINOGRAD") || std::string(std::getenv("CONVNET_WINOGRAD")) != "0";
  EXPECT_EQ(kernels::cpu::winograd_pays({1, 32, 16, 16, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 16, 16}, 8, 8, 1), on);
  EXPECT_FALSE(kernels::cpu::winograd_pays({1, 32, 16, 16, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 16, 16}, 8, 8, 2));
  EXPECT_EQ(kernels::cpu::winograd_pays({1, 64, 8, 8, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 8, 8}, 8, 8, 1), on);
  EXPECT_EQ(kernels::cpu::winograd_pays({8, 32, 16, 16, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 16, 16}, 8, 8, 2), on);
  EXPECT_FALSE(kernels::cpu::winograd_pays({1, 32, 8, 8, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 8, 8}, 8, 8, 1));
  EXPECT_FALSE(kernels::cpu::winograd_pays({64, 16, 8, 8, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 8, 8}, 8, 8, 2));
  // Over 64 (OpenBLAS's GEMMs): 16 MFLOP per thread, 32 where the threads share one chunk.
  EXPECT_FALSE(kernels::cpu::winograd_pays({1, 128, 8, 8, 128, 3, 3, 1, 1, 1, 1, 1, 1, 1, 8, 8}, 8, 8, 2));
  EXPECT_EQ(kernels::cpu::winograd_pays({1, 256, 14, 14, 256, 3, 3, 1, 1, 1, 1, 1, 1, 1, 14, 14}, 8, 8, 2), on);
}

// The oneDNN forward kernel hands a shape where Winograd pays to it, and the answer is the
// reference's; the packed weights follow a change of the weight (its version).
TEST(OwnConv, OnednnForwardGoesWinogradWhereItPays) {
  const auto fast = convnet::testing::fast_variants(kernels::keys::conv2d_fwd_blocked);
  auto it = std::find_if(fast.begin(), fast.end(), [](const auto& v) { return v.backend == "onednn"; });
  if (it == fast.end()) GTEST_SKIP() << "no oneDNN conv2d here";
  kernels::Conv2dGeom g{16, 64, 12, 12, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 12, 12};
  g.w_id = 0x5eed0001;
  g.w_version = 1;
  const int32_t B = 8;
  if (!kernels::cpu::winograd_pays(g, B, B, 2)) GTEST_SKIP() << "Winograd is off or unsupported here";
  const int64_t nx = g.N * g.C * g.H * g.W, ny = g.N * g.OC * g.OH * g.OW, nw = g.OC * g.C * 9;
  const auto x = to_float(random_doubles(nx, 91));
  auto w = to_float(random_doubles(nw, 92));
  const auto b = to_float(random_doubles(g.OC, 93));
  std::vector<float> bx(nx), y(ny), py(ny), y_ref(ny);
  kernels::to_blocked_layout(x.data(), bx.data(), g.N, g.C, g.H * g.W, B);
  for (int version = 1; version <= 2; ++version) {
    SCOPED_TRACE("weight version " + std::to_string(version));
    if (version == 2) {
      for (float& v : w) v *= -0.5f;  // a changed weight, a new version: repacked
      g.w_version = 2;
    }
    it->fn(g, bx.data(), B, w.data(), b.data(), y.data(), B);
    expect_steady_calls([&] { it->fn(g, bx.data(), B, w.data(), b.data(), y.data(), B); });
    kernels::to_plain_layout(y.data(), py.data(), g.N, g.OC, g.OH * g.OW, B);
    kernels::ref::conv2d_fwd<float>(g, x.data(), w.data(), b.data(), y_ref.data());
    EXPECT_TRUE(close_to(py, y_ref));
    // The backward-data pass of the same shape goes the same way (the shape is symmetric).
    ASSERT_TRUE(kernels::cpu::winograd_pays(kernels::winograd_bwd_data_geom(g), B, B, 2));
    const auto bd = convnet::testing::partner(kernels::keys::conv2d_bwd_data_blocked, "onednn");
    const auto gy = to_float(random_doubles(ny, 94 + version));
    std::vector<float> bgy(ny), gx(nx), pgx(nx), gx_ref(nx);
    kernels::to_blocked_layout(gy.data(), bgy.data(), g.N, g.OC, g.OH * g.OW, B);
    bd.fn(g, bgy.data(), B, w.data(), gx.data(), B);
    kernels::to_plain_layout(gx.data(), pgx.data(), g.N, g.C, g.H * g.W, B);
    kernels::ref::conv2d_bwd_data<float>(g, gy.data(), w.data(), gx_ref.data());
    EXPECT_TRUE(close_to(pgx, gx_ref));
  }
}

namespace {

// The few-pixels kernel's shapes (kernels/cpu/conv2d_few_pixels.cpp): 1 to 20 output pixels
// (one to four register tiles of up to 6 rows), 1x1 kernels and 3x3 / 5x5 ones with padding
// (on a 1x1 map a 3x3 kernel reads its centre tap only: the other taps are skipped), strides,
// dilation, output channels that leave a partial 16-channel panel, more than one image, and
// layers large enough to be split between threads.
// (extra: one more row and column of padding at the bottom and right.)
struct FpCfg {
  int64_t N, C, H, W, OC, K, S, P, D, extra = 0;
  kernels::Conv2dGeom geom() const {
    const int64_t span = D * (K - 1) + 1;
    const int64_t OH = (H + 2 * P + extra - span) / S + 1, OW = (W + 2 * P + extra - span) / S + 1;
    return {N, C, H, W, OC, K, K, S, S, P, P, D, D, 1, OH, OW};
  }
};
const std::vector<FpCfg> kFpGrid = {
    {1, 64, 1, 1, 48, 1, 1, 0, 1},
    {1, 96, 1, 1, 40, 1, 1, 0, 1},  // one pixel; a panel of 8
    {2, 32, 1, 1, 64, 1, 1, 0, 1},
    {3, 16, 1, 1, 16, 1, 1, 0, 1},  // 2 and 3 pixels (images)
    {1, 32, 2, 2, 32, 1, 1, 0, 1},
    {1, 16, 4, 5, 24, 1, 1, 0, 1},  // 4 and 20 pixels
    {1, 32, 1, 1, 32, 3, 1, 1, 1},
    {2, 16, 2, 2, 32, 3, 1, 1, 1},  // 3x3: taps in the padding
    {1, 16, 4, 4, 16, 3, 1, 1, 1},
    {1, 16, 5, 5, 8, 5, 2, 2, 1},  // 16 pixels; 5x5 stride 2
    {1, 16, 5, 5, 16, 3, 1, 2, 2},
    {1, 24, 3, 3, 16, 1, 2, 0, 1},  // dilation 2; 1x1 stride 2
    // Enough work for the threads to split the panels (64 KFLOP each): one pixel, and 12
    // pixels in two groups with 3 panels, the last partial.
    {1, 512, 1, 1, 400, 1, 1, 0, 1},
    {3, 64, 2, 2, 40, 3, 1, 1, 1},
};

bool have_few_pixels() {
  return kernels::cpu::few_pixels_supports({1, 8, 1, 1, 8, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1}, 8, 8);
}

}  // namespace

// The few-pixels kernel's reference twin (kernels/ref/conv2d_few_pixels.cpp) against the
// definition: the direct reference convolution and its post-ops, over the grid above (plain
// tensors: it runs on any CPU).
TEST(OwnConv, FewPixelsTwinIsTheConvolution) {
  expect_twin_is_the_convolution(kFpGrid, &kernels::ref::conv2d_fwd_few_pixels, 250);
}

// The few-pixels convolution (kernels/cpu/conv2d_few_pixels.cpp) against its reference twin in
// every layout (the threads split the 16-channel panels).
TEST(OwnConv, FewPixelsConv2dMatchesReference) {
  if (!have_few_pixels()) GTEST_SKIP() << "this CPU has no AVX2: no few-pixels kernel";
  EXPECT_GT(
      expect_matches_twin_in_every_layout(kFpGrid, 250, &kernels::cpu::few_pixels_supports,
                                          &kernels::cpu::conv2d_fwd_few_pixels, &kernels::ref::conv2d_fwd_few_pixels),
      800);
}

TEST(OwnConv, FewPixelsTakesOnlyItsShapes) {
  using kernels::cpu::few_pixels_pays;
  using kernels::cpu::few_pixels_supports;
  const kernels::Conv2dGeom one{1, 320, 1, 1, 1280, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1};
  if (!few_pixels_supports(one, 8, 8)) GTEST_SKIP() << "this CPU has no AVX2: no few-pixels kernel";
  EXPECT_TRUE(few_pixels_supports(one, 0, 16));
  EXPECT_FALSE(few_pixels_supports(one, 64, 64));  // channels-last
  kernels::Conv2dGeom grouped = one;
  grouped.G = 2;
  EXPECT_FALSE(few_pixels_supports(grouped, 8, 8));
  EXPECT_FALSE(few_pixels_supports({1, 12, 1, 1, 16, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1}, 8, 8));  // 12 in blocks of 8
  if (std::getenv("CONVNET_FEW_PIXELS")) return;  // the rest is the default policy
  // One pixel: always. A 1x1 kernel on more pixels: oneDNN's (1x1 on 2x2 maps ran 0.7-0.8x).
  // A larger kernel on up to 16 pixels when its weights are over 2 MB (VGG's 512-channel 3x3
  // layers on 2x2 and 4x4 maps: 1.2-1.6x), not 128 channels (0.84x on 2 threads).
  // (On a CPU with AVX-512 the pointwise kernel takes the 1x1 one-pixel layers.)
  EXPECT_EQ(few_pixels_pays(one, 8, 8), !kernels::cpu::pointwise_pays(one, 8, 8));
  EXPECT_TRUE(few_pixels_pays({1, 320, 1, 1, 1280, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}, 8, 8));
  EXPECT_FALSE(few_pixels_pays({1, 96, 2, 2, 576, 1, 1, 1, 1, 0, 0, 1, 1, 1, 2, 2}, 8, 8));
  EXPECT_TRUE(few_pixels_pays({1, 512, 4, 4, 512, 3, 3, 1, 1, 1, 1, 1, 1, 1, 4, 4}, 8, 8));
  EXPECT_FALSE(few_pixels_pays({1, 512, 8, 8, 512, 3, 3, 1, 1, 1, 1, 1, 1, 1, 8, 8}, 8, 8));
  EXPECT_FALSE(few_pixels_pays({1, 128, 2, 2, 128, 3, 3, 1, 1, 1, 1, 1, 1, 1, 2, 2}, 8, 8));
}

// The oneDNN forward kernel hands a one-pixel layer (3x3 on a 1x1 map) to the few-pixels
// kernel, and the answer is the reference's; the packed weights follow a change of the weight (its version), and
// later calls pack nothing and allocate nothing from the system.
TEST(OwnConv, OnednnForwardGoesFewPixelsWhereItPays) {
  const auto fast = convnet::testing::fast_variants(kernels::keys::conv2d_fwd_blocked);
  auto it = std::find_if(fast.begin(), fast.end(), [](const auto& v) { return v.backend == "onednn"; });
  if (it == fast.end()) GTEST_SKIP() << "no oneDNN conv2d here";
  kernels::Conv2dGeom g{1, 128, 1, 1, 200, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  g.w_id = 0x5eed0002;
  g.w_version = 1;
  const int32_t B = 8;
  if (!kernels::cpu::few_pixels_pays(g, B, B)) GTEST_SKIP() << "the few-pixels kernel is off or unsupported here";
  const int64_t nx = g.C, ny = g.OC, nw = g.OC * g.C * 9;
  const auto x = to_float(random_doubles(nx, 291));
  auto w = to_float(random_doubles(nw, 292));
  const auto b = to_float(random_doubles(g.OC, 293));
  std::vector<float> y(ny), y_ref(ny);
  for (int version = 1; version <= 2; ++version) {
    SCOPED_TRACE("weight version " + std::to_string(version));
    if (version == 2) {
      for (float& v : w) v *= -0.5f;
      g.w_version = 2;
    }
    it->fn(g, x.data(), B, w.data(), b.data(), y.data(), B);  // 1x1 map: blocked = plain
    expect_steady_calls([&] { it->fn(g, x.data(), B, w.data(), b.data(), y.data(), B); });
    kernels::ref::conv2d_fwd<float>(g, x.data(), w.data(), b.data(), y_ref.data());
    EXPECT_TRUE(close_to(y, y_ref, 1e-5));
  }
}

namespace {

// The direct kernel's shapes (kernels/cpu/conv2d_direct.cpp): ResNet-20's 16-channel layer
// (large enough for the threads to split its rows), several images, 24 output channels (a
// group of 16 and one of 8), rows of 11 pixels (tiles of 6 and 5) and of 1 to 7, 5x5 stride 2,
// dilation 2, no padding, padding wider than the kernel's reach (rows and columns whose every
// tap is in the padding: the bias alone), 1x1, and a 2x2 kernel with one more row and column
// of padding at the bottom and right (PyTorch's "same" for an even kernel).
const std::vector<FpCfg> kDcGrid = {
    {1, 16, 32, 32, 16, 3, 1, 1, 1},  // ResNet-20, split between threads
    {2, 16, 8, 8, 16, 3, 1, 1, 1},   {1, 8, 5, 7, 24, 3, 1, 1, 1},  {1, 24, 6, 13, 16, 3, 1, 0, 1},
    {1, 16, 9, 9, 16, 5, 2, 2, 1},   {1, 16, 7, 7, 32, 3, 1, 2, 2}, {1, 16, 4, 4, 8, 3, 1, 3, 1},
    {1, 16, 3, 3, 16, 3, 2, 1, 1},   {1, 8, 2, 20, 8, 1, 1, 0, 1},  {1, 16, 5, 5, 16, 2, 1, 0, 1, 1},
    {3, 16, 12, 12, 48, 3, 1, 1, 1},  // threads split across images and three groups
    {1, 32, 6, 10, 16, 3, 1, 1, 1},   // two input blocks of 16
};

bool have_direct() {
  return kernels::cpu::direct_supports({1, 8, 1, 1, 8, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1}, 8, 8);
}

}  // namespace

// The direct kernel's reference twin (kernels/ref/conv2d_direct.cpp) against the definition:
// the reference convolution and its post-ops, over the grid above (plain tensors: any CPU).
TEST(OwnConv, DirectTwinIsTheConvolution) {
  using kernels::Conv2dGeom;
  expect_twin_is_the_convolution(
      kDcGrid,
      +[](const Conv2dGeom& g, const float* x, const float* w, const float* b, float* y) {
        kernels::ref::conv2d_fwd_direct(g, 8, x, w, b, y);
      },
      350);
  expect_twin_is_the_convolution(
      kDcGrid,
      +[](const Conv2dGeom& g, const float* x, const float* w, const float* b, float* y) {
        kernels::ref::conv2d_fwd_direct(g, 16, x, w, b, y);
      },
      350);
}

// The direct convolution (kernels/cpu/conv2d_direct.cpp) against its reference twin (the
// same sums: agreement to 1e-5), in blocks of 8 channels (AVX2) and of 16 (AVX-512, the
// configurations whose channels fill them), with and without bias, every post-op, on 1 and 3
// threads (the threads split the output rows).
TEST(OwnConv, DirectConv2dMatchesReference) {
  if (!have_direct()) GTEST_SKIP() << "this CPU has no AVX2: no direct kernel";
  std::vector<std::pair<int32_t, int32_t>> layouts = {{8, 8}};
  if (kernels::cpu::cpu_has_avx512()) layouts.emplace_back(16, 16);
  const int cases = expect_matches_twin_in_every_layout(
      kDcGrid, 350, &kernels::cpu::direct_supports,
      [](const kernels::Conv2dGeom& g, const float* x, int32_t xb, const float* w, const float* b, float* y, int32_t) {
        kernels::cpu::conv2d_fwd_direct(g, x, xb, w, b, y);
      },
      [](const kernels::Conv2dGeom& g, int32_t block, const float* x, const float* w, const float* b, float* y) {
        kernels::ref::conv2d_fwd_direct(g, block, x, w, b, y);
      },
      layouts);
  EXPECT_GE(cases, static_cast<int>(kDcGrid.size() * 2 * kConvPosts.size() * 2));
}

TEST(OwnConv, DirectTakesOnlyItsShapes) {
  using kernels::cpu::direct_pays;
  using kernels::cpu::direct_supports;
  const kernels::Conv2dGeom r20{1, 16, 32, 32, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 32, 32};
  if (!direct_supports(r20, 8, 8)) GTEST_SKIP() << "this CPU has no AVX2: no direct kernel";
  EXPECT_EQ(direct_supports(r20, 16, 16), kernels::cpu::cpu_has_avx512());  // blocks of 16 with AVX-512
  EXPECT_FALSE(direct_supports(r20, 8, 16));
  EXPECT_FALSE(direct_supports(r20, 0, 8));
  kernels::Conv2dGeom grouped = r20;
  grouped.G = 2;
  EXPECT_FALSE(direct_supports(grouped, 8, 8));
  EXPECT_FALSE(direct_supports({1, 12, 8, 8, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 8, 8}, 8, 8));  // 12 in blocks of 8
  if (std::getenv("CONVNET_DIRECT")) return;  // the rest is the default policy
  // 16 output channels from 16 to 64 input channels, stride 1, a kernel larger than 1x1.
  EXPECT_TRUE(direct_pays(r20, 8, 8));
  if (direct_supports(r20, 16, 16)) {  // AVX-512: and several images, maps 32 or more wide
    EXPECT_FALSE(direct_pays(r20, 16, 16));
    EXPECT_TRUE(direct_pays({8, 16, 32, 32, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 32, 32}, 16, 16));
    EXPECT_FALSE(direct_pays({8, 16, 16, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 16, 16}, 16, 16));
  }
  EXPECT_TRUE(direct_pays({8, 64, 4, 4, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 4, 4}, 8, 8));
  EXPECT_FALSE(direct_pays({1, 16, 32, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 32, 32}, 8, 8));  // 32 out: even
  EXPECT_FALSE(direct_pays({1, 16, 32, 32, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1, 16, 16}, 8, 8));  // strided
  EXPECT_FALSE(direct_pays({1, 16, 32, 32, 16, 1, 1, 1, 1, 0, 0, 1, 1, 1, 32, 32}, 8, 8));  // 1x1
  EXPECT_FALSE(direct_pays({1, 8, 32, 32, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 32, 32}, 8, 8));   // 8 in
  EXPECT_FALSE(direct_pays({1, 128, 8, 8, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 8, 8}, 8, 8));     // 128 in
}

// The oneDNN forward kernel hands ResNet-20's 16-channel layer to the direct kernel, and the
// answer is the reference's; the packed weights follow a change of the weight (its version),
// and later calls pack nothing and allocate nothing from the system.
TEST(OwnConv, OnednnForwardGoesDirectWhereItPays) {
  const auto fast = convnet::testing::fast_variants(kernels::keys::conv2d_fwd_blocked);
  auto it = std::find_if(fast.begin(), fast.end(), [](const auto& v) { return v.backend == "onednn"; });
  if (it == fast.end()) GTEST_SKIP() << "no oneDNN conv2d here";
  kernels::Conv2dGeom g{1, 16, 32, 32, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 32, 32};
  g.w_id = 0x5eed0003;
  g.w_version = 1;
  const int32_t B = 8;
  if (!kernels::cpu::direct_pays(g, B, B)) GTEST_SKIP() << "the direct kernel is off or unsupported here";
  const int64_t nx = g.C * g.H * g.W, ny = g.OC * g.OH * g.OW, nw = g.OC * g.C * 9;
  const auto x = to_float(random_doubles(nx, 391));
  auto w = to_float(random_doubles(nw, 392));
  const auto b = to_float(random_doubles(g.OC, 393));
  std::vector<float> bx(nx), y(ny), py(ny), y_ref(ny);
  kernels::to_blocked_layout(x.data(), bx.data(), 1, g.C, g.H * g.W, B);
  for (int version = 1; version <= 2; ++version) {
    SCOPED_TRACE("weight version " + std::to_string(version));
    if (version == 2) {
      for (float& v : w) v *= -0.5f;
      g.w_version = 2;
    }
    it->fn(g, bx.data(), B, w.data(), b.data(), y.data(), B);
    expect_steady_calls([&] { it->fn(g, bx.data(), B, w.data(), b.data(), y.data(), B); });
    kernels::to_plain_layout(y.data(), py.data(), 1, g.OC, g.OH * g.OW, B);
    kernels::ref::conv2d_fwd<float>(g, x.data(), w.data(), b.data(), y_ref.data());
    EXPECT_TRUE(close_to(py, y_ref, 1e-5));
  }
}
