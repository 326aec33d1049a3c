// Backend layouts of activations (core/layout.h; the CPU's channel-blocked family,
// kernels/layout.h): the layouts themselves (conversions in 4- and 2-byte elements, views,
// data() rewriting in place), the layout-aware conv2d kernels against the reference in
// every combination of input and output layout, and whole networks run with blocked
// activations against the same networks on the plain reference kernels, forward and
// backward, including tensors converted to plain in the middle of a graph.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>

#include "convnet/autograd/autograd.h"
#include "convnet/core/profiler.h"
#include "convnet/core/rng.h"
#include "convnet/core/storage.h"
#include "convnet/nn/layers.h"
#include "convnet/nn/sequential.h"
#include "convnet/ops/activation.h"
#include "convnet/ops/batch_norm.h"
#include "convnet/ops/concat.h"
#include "convnet/ops/conv2d.h"
#include "convnet/ops/elementwise.h"
#include "convnet/ops/output_size.h"
#include "convnet/ops/pool2d.h"
#include "kernels/conv2d.h"
#include "kernels/layout.h"
#include "kernels/registry.h"
#include "util/test_util.h"
#include "util/variants.h"

using namespace convnet;
using namespace convnet::testing;

namespace {

// The value of element (n, c, h, w) of a plain (N, C, H, W) tensor, for checking layouts.
float code(int64_t n, int64_t c, int64_t h, int64_t w) {
  return static_cast<float>(((n * 100 + c) * 100 + h) * 100 + w);
}

Tensor coded(const Shape& s) {
  Tensor t = Tensor::empty(s);
  for (int64_t n = 0; n < s[0]; ++n)
    for (int64_t c = 0; c < s[1]; ++c)
      for (int64_t h = 0; h < s[2]; ++h)
        for (int64_t w = 0; w < s[3]; ++w) t.data()[((n * s[1] + c) * s[2] + h) * s[3] + w] = code(n, c, h, w);
  return t;
}

}  // namespace

TEST(Layout, BlockedStorageOrderAndRoundTrip) {
  const Shape s = {2, 32, 3, 5};
  const Tensor plain = coded(s);
  const Layout* l16 = kernels::channel_blocked(16);
  const Tensor b16 = plain.in_layout(l16);
  ASSERT_EQ(b16.layout(), l16);
  EXPECT_EQ(plain.layout(), nullptr);  // in_layout() leaves its source alone
  EXPECT_EQ(l16->name(), "nChw16c");
  // (N, C/16, H, W, 16): element (n, c, h, w) at (((n*2 + c/16)*3 + h)*5 + w)*16 + c%16.
  const float* raw = b16.raw_data();
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t c = 0; c < 32; ++c)
      for (int64_t h = 0; h < 3; ++h)
        for (int64_t w = 0; w < 5; ++w)
          ASSERT_EQ(raw[(((n * 2 + c / 16) * 3 + h) * 5 + w) * 16 + c % 16], code(n, c, h, w));
  EXPECT_TRUE(all_close(b16.in_layout(kernels::channel_blocked(8)).in_layout(nullptr), plain, 0, 0));
  // data() rewrites in place and then reads plain; views made before keep their layout.
  Tensor b = plain.in_layout(kernels::channel_blocked(8));
  const Tensor view = b.detach();
  EXPECT_TRUE(all_close(b, plain, 0, 0));  // all_close reads data()
  EXPECT_EQ(b.layout(), nullptr);
  EXPECT_EQ(view.layout(), kernels::channel_blocked(8));
  EXPECT_TRUE(all_close(view.in_layout(nullptr), plain, 0, 0));
  // reshape/flatten/clone/to_vector see plain data.
  Tensor b2 = plain.in_layout(l16);
  EXPECT_EQ(b2.flatten().to_vector(), plain.flatten().to_vector());
  EXPECT_EQ(plain.in_layout(l16).clone().to_vector(), plain.to_vector());
  EXPECT_EQ(plain.in_layout(l16).at({1, 17, 2, 4}), code(1, 17, 2, 4));
}

// Channels-last (NHWC) is the block of all channels, for any C, in any element size.
TEST(Layout, ChannelsLastStorageOrderInFourAndTwoByteElements) {
  const Shape s = {2, 5, 3, 4};
  const Tensor plain = coded(s);
  const Layout* cl = kernels::channels_last();
  EXPECT_EQ(cl->name(), "nhwc");
  const Tensor t = plain.in_layout(cl);
  EXPECT_EQ(kernels::channel_block(t), 5);
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t c = 0; c < 5; ++c)
      for (int64_t h = 0; h < 3; ++h)
        for (int64_t w = 0; w < 4; ++w) ASSERT_EQ(t.raw_data()[((n * 3 + h) * 4 + w) * 5 + c], code(n, c, h, w));
  EXPECT_TRUE(all_close(t, plain, 0, 0));
  // bfloat16 (small codes are exact in bf16): the same order, 2-byte elements.
  Tensor small = Tensor::empty(s);
  for (int64_t i = 0; i < small.numel(); ++i) small.data()[i] = static_cast<float>(i % 200);
  const Tensor h = small.to(DType::bfloat16).in_layout(cl);
  ASSERT_EQ(h.layout(), cl);
  const bf16_t* hp = h.stored_as<bf16_t>();
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t c = 0; c < 5; ++c)
      for (int64_t p = 0; p < 12; ++p)
        ASSERT_EQ(from_bf16(hp[(n * 12 + p) * 5 + c]), small.data()[(n * 5 + c) * 12 + p]);
  // Elementwise conversion keeps the layout; reading the elements rewrites them row-major.
  const Tensor back = h.to(DType::float32);
  EXPECT_EQ(back.layout(), cl);
  EXPECT_TRUE(all_close(back, small, 0, 0));
  Tensor h2 = h.detach();
  EXPECT_EQ(from_bf16(h2.data_as<bf16_t>()[7]), small.data()[7]);
  EXPECT_EQ(h2.layout(), nullptr);
}

TEST(Layout, ChannelsMustFillTheBlocks) {
  expect_error(
      [] {
        Tensor::empty({2, 24, 3, 3}, DType::float32, Device::cpu(), kernels::channel_blocked(16));
      },
      {"(2, 24, 3, 3)", "nChw16c"});
  expect_error(
      [] {
        Tensor::empty({2, 32}, DType::float32, Device::cpu(), kernels::channel_blocked(16));
      },
      {"(2, 32)", "nChw16c"});
  expect_error([] { kernels::channel_blocked(4); }, {"block 4"});
}

// conv2d_*_blocked of every backend against the reference, inputs and outputs in every
// layout the backend's block allows (plain, and blocked where the channels fill blocks).
TEST(Layout, Conv2dBlockedKernelsMatchReference) {
  struct Cfg {
    int64_t N, C, H, W, OC, K, S, P, D, G;
  };
  const std::vector<Cfg> grid = {
      {2, 16, 7, 7, 16, 3, 1, 1, 1, 1},  {3, 16, 9, 8, 32, 3, 2, 1, 1, 1}, {2, 32, 6, 6, 16, 1, 1, 0, 1, 1},
      {2, 16, 8, 8, 32, 1, 2, 0, 1, 1},  {2, 16, 9, 9, 16, 3, 1, 2, 2, 1}, {2, 32, 5, 5, 32, 3, 1, 1, 1, 2},
      {2, 16, 6, 6, 16, 3, 1, 1, 1, 16}, {1, 3, 8, 8, 16, 3, 1, 1, 1, 1},  // plain-only input (3 channels)
  };
  for (const auto& fwd : convnet::testing::fast_variants(kernels::keys::conv2d_fwd_blocked)) {
    const auto blk = convnet::testing::partner(kernels::keys::conv2d_layout, fwd.backend);
    const auto bd = convnet::testing::partner(kernels::keys::conv2d_bwd_data_blocked, fwd.backend);
    const auto bw = convnet::testing::partner(kernels::keys::conv2d_bwd_weight_blocked, fwd.backend);
    ASSERT_TRUE(blk.fn && bd.fn && bw.fn) << fwd.backend;
    // The layout the backend wants its outputs in: blocked (by the CPU's block) or plain.
    kernels::Conv2dGeom probe{2, 16, 8, 8, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 8, 8};
    const int64_t B = kernels::channel_block(blk.fn(probe), probe.OC);
    EXPECT_TRUE(B == 0 || B == 8 || B == 16) << fwd.backend << " " << B;
    int blocked_cases = 0;
    for (size_t ci = 0; ci < grid.size(); ++ci) {
      const Cfg& c = grid[ci];
      kernels::Conv2dGeom g{c.N, c.C, c.H, c.W, c.OC, c.K, c.K, c.S, c.S, c.P, c.P, c.D, c.D, c.G, 0, 0};
      g.OH = conv_output_size(c.H, c.K, c.S, c.P, c.P, c.D);
      g.OW = conv_output_size(c.W, c.K, c.S, c.P, c.P, c.D);
      const int64_t nx = g.N * g.C * g.H * g.W, ny = g.N * g.OC * g.OH * g.OW, nw = g.OC * (g.C / g.G) * c.K * c.K;
      auto x = to_float(random_doubles(nx, 10 + ci)), w = to_float(random_doubles(nw, 20 + ci));
      auto b = to_float(random_doubles(g.OC, 30 + ci)), gy = to_float(random_doubles(ny, 40 + ci));
      std::vector<float> y_ref(ny), gx_ref(nx), gw_ref(nw), gb_ref(g.OC);
      kernels::ref::conv2d_fwd<float>(g, x.data(), w.data(), b.data(), y_ref.data());
      kernels::ref::conv2d_bwd_data<float>(g, gy.data(), w.data(), gx_ref.data());
      kernels::ref::conv2d_bwd_weight<float>(g, x.data(), gy.data(), gw_ref.data(), gb_ref.data());
      // Every layout of the family, whatever the backend produces itself: plain, blocks of 8
      // and 16, and channels-last (the block of all channels).
      for (int32_t xb : {0, 8, 16, static_cast<int32_t>(g.C)})
        for (int32_t yb : {0, 8, 16, static_cast<int32_t>(g.OC)}) {
          if ((xb && g.C % xb) || (yb && g.OC % yb)) continue;
          SCOPED_TRACE(fwd.backend + " config " + std::to_string(ci) + " x block " + std::to_string(xb) + " y block " +
                       std::to_string(yb));
          std::vector<float> bx(nx), bgy(ny), y(ny), gx(nx), gw(nw, NAN), gb(g.OC, NAN), py(ny), pgx(nx);
          kernels::to_blocked_layout(x.data(), bx.data(), g.N, g.C, g.H * g.W, xb);
          kernels::to_blocked_layout(gy.data(), bgy.data(), g.N, g.OC, g.OH * g.OW, yb);
          fwd.fn(g, bx.data(), xb, w.data(), b.data(), y.data(), yb);
          bd.fn(g, bgy.data(), yb, w.data(), gx.data(), xb);
          bw.fn(g, bx.data(), xb, bgy.data(), yb, gw.data(),
                                                                      gb.data());
          kernels::to_plain_layout(y.data(), py.data(), g.N, g.OC, g.OH * g.OW, yb);
          kernels::to_plain_layout(gx.data(), pgx.data(), g.N, g.C, g.H * g.W, xb);
          auto close = [](const std::vector<float>& a, const std::vector<float>& e) {
            return all_close(std::vector<double>(a.begin(), a.end()), std::vector<double>(e.begin(), e.end()), 1e-4,
                             1e-4);
          };
          EXPECT_TRUE(close(py, y_ref));
          EXPECT_TRUE(close(pgx, gx_ref));
          EXPECT_TRUE(close(gw, gw_ref));
          EXPECT_TRUE(close(gb, gb_ref));
          blocked_cases += xb > 0 || yb > 0;
          for (const kernels::KernelBase* k : std::initializer_list<const kernels::KernelBase*>{
                   &kernels::keys::conv2d_layout, &kernels::keys::conv2d_fwd_blocked,
                   &kernels::keys::conv2d_bwd_data_blocked, &kernels::keys::conv2d_bwd_weight_blocked})
            convnet::testing::count_compared(*k);
        }
    }
    EXPECT_GT(blocked_cases, 20) << fwd.backend;
  }
  convnet::testing::expect_compared({&kernels::keys::conv2d_layout, &kernels::keys::conv2d_fwd_blocked,
                                     &kernels::keys::conv2d_bwd_data_blocked,
                                     &kernels::keys::conv2d_bwd_weight_blocked});
}

namespace {

// A residual network on every layout-aware op: conv (with and without bias, strided,
// grouped), batch norm, relu, add, channel concatenation, then max pooling (2x2 and 3x3/1),
// average pooling, global pooling and a linear head.
struct Net {
  nn::Conv2d c1{nn::Conv2dOptions(3, 16, 3).padding(1)}, c2{nn::Conv2dOptions(16, 16, 3).padding(1).bias(false)},
      c3{nn::Conv2dOptions(32, 32, 3).stride(2).padding(1).bias(false).groups(2)};
  nn::BatchNorm2d b1{16}, b2{16}, b3{32};
  nn::Linear fc{32, 5};
  const Layout* seen_layout = nullptr;  // the layout the first conv's output came in
  Tensor forward(const Tensor& x, bool peek) {
    Tensor a = c1(x);
    seen_layout = a.layout();
    Tensor h = ops::relu(b1(a));
    if (peek) h.data();  // a non-layout-aware reader in the middle of the graph
    Tensor r = ops::relu(ops::add(b2(c2(h)), h));
    Tensor cat = ops::concat({r, ops::max_pool2d(h, Pool2dArgs{{3, 3}, {1, 1}, {1, 1}})}, 1);
    Tensor p = ops::max_pool2d(ops::tanh(b3(c3(cat))), Pool2dArgs{{2, 2}, {2, 2}});
    Tensor q = ops::avg_pool2d(p, Pool2dArgs{{3, 3}, {1, 1}, {1, 1}, {1, 1}, false, false});
    return fc(ops::global_avg_pool2d(ops::add(p, q)).flatten());
  }
  std::vector<Tensor> params() {
    std::vector<Tensor> ps;
    for (nn::Module* m : std::initializer_list<nn::Module*>{&c1, &c2, &c3, &b1, &b2, &b3, &fc})
      for (auto& p : m->parameters()) ps.push_back(p);
    return ps;
  }
};

}  // namespace

TEST(Layout, NetworkMatchesPlainReferenceForwardAndBackward) {
  for (bool peek : {false, true}) {
    SCOPED_TRACE(peek ? "activation read as plain mid-graph" : "blocked throughout");
    Generator gen(3);
    const Tensor x = Tensor::randn({4, 3, 12, 12}, gen);
    const Tensor g = Tensor::randn({4, 5}, gen);
    std::vector<std::vector<float>> outs, grads;
    for (const char* backend : {"", "ref"}) {
      kernels::force_backend(backend);
      manual_seed(7);
      Net net;
      Tensor xi = x.clone().requires_grad_();
      Tensor y = net.forward(xi, peek);
      // The default backend really runs blocked where the CPU allows; the reference never.
      const kernels::Conv2dGeom c1{4, 3, 12, 12, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 12, 12};
      EXPECT_EQ(net.seen_layout, kernels::keys::conv2d_layout.value(c1));
      if (std::string(backend) == "ref") {
        EXPECT_EQ(net.seen_layout, nullptr);
      }
      backward_with(y, g);
      outs.push_back(y.to_vector());
      std::vector<float> gs = xi.grad().to_vector();
      for (auto& p : net.params()) {
        auto v = p.grad().to_vector();
        gs.insert(gs.end(), v.begin(), v.end());
      }
      grads.push_back(gs);
      // The running statistics too.
      for (auto& r : {net.b1.running_mean, net.b2.running_var, net.b3.running_mean}) {
        auto v = r.to_vector();
        outs.back().insert(outs.back().end(), v.begin(), v.end());
      }
    }
    kernels::force_backend("");
    auto as_d = [](const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); };
    EXPECT_TRUE(all_close(as_d(outs[0]), as_d(outs[1]), 1e-4, 1e-5));
    EXPECT_TRUE(all_close(as_d(grads[0]), as_d(grads[1]), 1e-3, 1e-4));
  }
}
