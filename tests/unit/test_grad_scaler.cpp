// GradScaler (optim/grad_scaler.h): PyTorch's GradScaler rules, step by step.
#include <cmath>

#include "convnet/autograd/autograd.h"
#include "convnet/ops/elementwise.h"
#include "convnet/optim/grad_scaler.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;

namespace {
Tensor param_with_grad(std::vector<float> g) {
  const auto n = static_cast<int64_t>(g.size());
  Tensor p = Tensor::zeros({n}).requires_grad_();
  p.set_grad(Tensor::from_vector({n}, std::move(g)));
  return p;
}
}  // namespace

TEST(GradScaler, BackwardFromTheScaledLossUnscalesToTheTrueGradient) {
  optim::GradScaler s;
  EXPECT_EQ(s.scale(), 65536.0);
  Tensor w = Tensor::from_vector({2}, {1.f, -2.f}).requires_grad_();
  const Tensor loss = ops::sum(ops::mul(w, 3.f));  // d loss / d w = 3
  const Tensor scaled = s.scale(loss);
  EXPECT_EQ(scaled.item(), -3.f * 65536.f);
  scaled.backward();
  EXPECT_EQ(w.grad().to_vector(), (std::vector<float>{3.f * 65536.f, 3.f * 65536.f}));
  EXPECT_TRUE(s.unscale({w}));
  EXPECT_EQ(w.grad().to_vector(), (std::vector<float>{3.f, 3.f}));
}

TEST(GradScaler, OverflowSkipsAndBacksOffGrowthAfterTheInterval) {
  optim::GradScalerOptions o;
  o.init_scale = 1024, o.growth_interval = 3;
  optim::GradScaler s(o);
  // Inf or NaN anywhere: not finite, the gradients left alone, the scale halved, the count reset.
  for (float bad : {INFINITY, -INFINITY, NAN}) {
    Tensor a = param_with_grad({1.f, 2.f}), b = param_with_grad({4.f, bad});
    Tensor none = Tensor::zeros({3}).requires_grad_();  // no gradient: skipped
    const double before = s.scale();
    EXPECT_FALSE(s.unscale({a, none, b}));
    EXPECT_EQ(a.grad().to_vector(), (std::vector<float>{1.f, 2.f}));
    s.update();
    EXPECT_EQ(s.scale(), before / 2);
    EXPECT_EQ(s.growth_tracker(), 0);
  }
  EXPECT_EQ(s.scale(), 128.0);
  // growth_interval clean steps in a row double it; an overflow in between restarts the count.
  auto clean_step = [&] {
    Tensor a = param_with_grad({static_cast<float>(s.scale()) * 5.f, 0.f});
    EXPECT_TRUE(s.unscale({a}));
    EXPECT_EQ(a.grad().to_vector()[0], 5.f);
    s.update();
  };
  auto overflow_step = [&] {
    Tensor a = param_with_grad({INFINITY});
    EXPECT_FALSE(s.unscale({a}));
    s.update();
  };
  clean_step(), clean_step();
  EXPECT_EQ(s.scale(), 128.0);
  EXPECT_EQ(s.growth_tracker(), 2);
  clean_step();
  EXPECT_EQ(s.scale(), 256.0);
  EXPECT_EQ(s.growth_tracker(), 0);
  clean_step(), clean_step(), overflow_step();
  EXPECT_EQ(s.scale(), 128.0);
  clean_step(), clean_step();
  EXPECT_EQ(s.scale(), 128.0);
  clean_step();
  EXPECT_EQ(s.scale(), 256.0);
  // A saved state comes back as it was.
  optim::GradScaler r(o);
  r.set_state(s.scale(), 2);
  Tensor a = param_with_grad({256.f});
  EXPECT_TRUE(r.unscale({a}));
  r.update();
  EXPECT_EQ(r.scale(), 512.0);
}

TEST(GradScaler, StaticScaleNeverMovesButStillSkipsOverflows) {
  optim::GradScalerOptions o;
  o.dynamic = false, o.init_scale = 8, o.growth_interval = 1;
  optim::GradScaler s(o);
  Tensor a = param_with_grad({NAN});
  EXPECT_FALSE(s.unscale({a}));
  s.update();
  Tensor b = param_with_grad({16.f});
  EXPECT_TRUE(s.unscale({b}));
  s.update();
  EXPECT_EQ(s.scale(), 8.0);
  EXPECT_EQ(b.grad().to_vector()[0], 2.f);
}

TEST(GradScaler, BadOptionsAreNamed) {
  auto make = [](double init, double growth, double backoff, int64_t interval) {
    optim::GradScalerOptions o;
    o.init_scale = init, o.growth_factor = growth, o.backoff_factor = backoff, o.growth_interval = interval;
    optim::GradScaler s(o);
  };
  expect_error([&] { make(0, 2, 0.5, 1); }, {"GradScaler", "scale must be positive"});
  expect_error([&] { make(1, 1, 0.5, 1); }, {"growth_factor"});
  expect_error([&] { make(1, 2, 1, 1); }, {"backoff_factor"});
  expect_error([&] { make(1, 2, 0.5, 0); }, {"growth_interval"});
  optim::GradScaler s;
  expect_error([&] { s.set_state(-1, 0); }, {"saved scale"});
}
