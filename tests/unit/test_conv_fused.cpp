// Fused convolutions (ops::conv2d_fused, the post-ops of kernels/conv2d.h): act(conv + b +
// residual) from the selected backend (oneDNN's post-ops, or the emulated pass on its GEMM and
// few-channel routes) against the unfused ops on the reference backend, over a grid of
// geometries (strided, grouped, depthwise, 1x1, dilated, few channels, tiny output planes
// that take the bfloat16 GEMM route), activations (none, relu, relu6, an arbitrary clip),
// with and without a residual in a plain or a backend layout, in float32 and bfloat16.
#include <algorithm>
#include <limits>

#include "convnet/autograd/autograd.h"
#include "convnet/core/rng.h"
#include "convnet/ops/autocast.h"
#include "convnet/ops/clamp.h"
#include "convnet/ops/conv2d.h"
#include "convnet/ops/elementwise.h"
#include "kernels/registry.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;

namespace {

struct Geo {
  int64_t N, C, H, W, OC, K, stride, pad, dilation, groups;
};

const Geo kGrid[] = {
    {2, 16, 8, 8, 32, 3, 1, 1, 1, 1},   // blocked in and out
    {1, 32, 9, 9, 32, 3, 2, 1, 1, 1},   // strided, odd size
    {2, 32, 6, 6, 64, 1, 1, 0, 1, 1},   // pointwise
    {2, 32, 7, 7, 32, 3, 1, 1, 1, 32},  // depthwise
    {1, 16, 8, 8, 32, 3, 1, 2, 2, 2},   // dilated, grouped
    {2, 3, 10, 10, 6, 5, 1, 0, 1, 1},   // LeNet-like: few channels (the bf16 float32 route)
    {8, 64, 4, 4, 64, 3, 1, 1, 1, 1},   // 4x4 output planes (the bf16 GEMM route)
    {4, 32, 2, 2, 48, 1, 1, 0, 1, 1},   // 2x2, channels that fill no 16-block in the output
};

struct Act {
  const char* name;
  ConvEpilogue::Act act;
  float lo, hi;
};
const Act kActs[] = {{"none", ConvEpilogue::Act::none, 0, 0},
                     {"relu", ConvEpilogue::Act::relu, 0, 0},
                     {"relu6", ConvEpilogue::Act::clip, 0, 6},
                     {"clip", ConvEpilogue::Act::clip, -0.25f, 0.5f}};

Tensor unfused(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dArgs& a, const Act& act,
               const Tensor& residual) {
  Tensor y = ops::conv2d(x, w, b, a);
  if (residual.defined()) y = ops::add(y, residual);
  if (act.act == ConvEpilogue::Act::relu) y = ops::clamp(y, 0.0, std::numeric_limits<double>::infinity());
  if (act.act == ConvEpilogue::Act::clip) y = ops::clamp(y, act.lo, act.hi);
  return y.to(DType::float32);
}

}  // namespace

TEST(ConvFused, MatchesTheUnfusedOpsOnTheReference) {
  NoGradGuard no_grad;
  int cases = 0;
  for (const Geo& gc : kGrid)
    for (DType precision : {DType::float32, DType::bfloat16})
      for (const Act& act : kActs)
        for (int residual_kind = 0; residual_kind < 3; ++residual_kind) {  // none, plain, backend layout
          SCOPED_TRACE(::testing::Message()
                       << "N" << gc.N << " C" << gc.C << " " << gc.H << "x" << gc.W << " OC" << gc.OC << " k" << gc.K
                       << " s" << gc.stride << " p" << gc.pad << " d" << gc.dilation << " g" << gc.groups << " "
                       << dtype_name(precision) << " " << act.name << " residual " << residual_kind);
          Generator gen(100 + cases);
          const Tensor x = Tensor::randn({gc.N, gc.C, gc.H, gc.W}, gen);
          Tensor w = Tensor::randn({gc.OC, gc.C / gc.groups, gc.K, gc.K}, gen);
          for (int64_t i = 0; i < w.numel(); ++i) w.data()[i] *= 0.2f;
          const Tensor b = Tensor::randn({gc.OC}, gen);
          Conv2dArgs a;
          a.stride = {gc.stride, gc.stride};
          a.padding = Padding(gc.pad);
          a.dilation = {gc.dilation, gc.dilation};
          a.groups = gc.groups;
          autocast guard(precision);
          const int64_t OH = (gc.H + 2 * gc.pad - gc.dilation * (gc.K - 1) - 1) / gc.stride + 1;
          Tensor residual;
          if (residual_kind == 1) residual = Tensor::randn({gc.N, gc.OC, OH, OH}, gen);
          // A residual that is another convolution's output: in the backend's layout and dtype.
          if (residual_kind == 2) residual = ops::conv2d(x, w, Tensor(), a);
          ConvEpilogue e{act.act, act.lo, act.hi, residual};
          const Tensor got = ops::conv2d_fused(x, w, b, a, e).to(DType::float32);
          kernels::force_backend("ref");
          const Tensor got_ref = ops::conv2d_fused(x, w, b, a, e).to(DType::float32);
          const Tensor want = unfused(x, w, b, a, act, residual.defined() ? residual.to(DType::float32) : residual);
          kernels::force_backend("");
          ASSERT_EQ(got.shape(), want.shape());
          const double tol = precision == DType::float32 ? 1e-4 : 3e-2;
          EXPECT_TRUE(all_close(got, want, tol, tol)) << "fast backend vs the unfused reference";
          EXPECT_TRUE(all_close(got_ref, want, tol, tol)) << "reference twin vs the unfused reference";
          if (act.act == ConvEpilogue::Act::clip) {
            const float* v = got.data();
            EXPECT_GE(*std::min_element(v, v + got.numel()), act.lo);
            EXPECT_LE(*std::max_element(v, v + got.numel()), act.hi);
          }
          ++cases;
        }
  EXPECT_EQ(cases, 8 * 2 * 4 * 3);
}

TEST(ConvFused, RefusesWhatItCannotDo) {
  Generator gen(7);
  Tensor x = Tensor::randn({1, 4, 5, 5}, gen), w = Tensor::randn({8, 4, 3, 3}, gen);
  w.requires_grad_(true);
  expect_error([&] { ops::conv2d_fused(x, w, Tensor(), {}, {}, "layer1.conv"); },
               {"layer1.conv", "inference only", "NoGradGuard"});
  NoGradGuard no_grad;
  ConvEpilogue e;
  e.residual = Tensor::zeros({1, 8, 5, 5});
  expect_error([&] { ops::conv2d_fused(x, w, Tensor(), {}, e, "layer1.conv"); },
               {"layer1.conv", "residual", "(1, 8, 3, 3)", "(1, 8, 5, 5)"});
  ConvEpilogue bad;
  bad.act = ConvEpilogue::Act::clip, bad.lo = 1, bad.hi = 0;
  expect_error([&] { ops::conv2d_fused(x, w, Tensor(), {}, bad, "c"); }, {"clip bounds", "empty"});
}
