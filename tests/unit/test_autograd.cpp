// The tape itself: accumulation for tensors used twice, NoGradGuard, hooks, leaf rules.
#include "convnet/autograd/autograd.h"
#include "convnet/core/error.h"
#include "convnet/core/rng.h"
#include "convnet/ops/activation.h"
#include "convnet/ops/elementwise.h"
#include "convnet/ops/linear.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;

TEST(Autograd, WeightSharingAccumulatesGradients) {
  // y = sum(W x1) + sum(W x2): dW = 1 (x1 + x2)^T, the same weight used twice.
  Generator gen(1);
  Tensor w = Tensor::randn({3, 4}, gen).requires_grad_();
  Tensor x1 = Tensor::randn({2, 4}, gen), x2 = Tensor::randn({2, 4}, gen);
  Tensor y = ops::sum(ops::linear(x1, w, Tensor())) + ops::sum(ops::linear(x2, w, Tensor()));
  y.backward();
  for (int64_t o = 0; o < 3; ++o)
    for (int64_t i = 0; i < 4; ++i) {
      const float expected = x1.at({0, i}) + x1.at({1, i}) + x2.at({0, i}) + x2.at({1, i});
      EXPECT_NEAR(w.grad().at({o, i}), expected, 1e-5);
    }
}

TEST(Autograd, ResidualBranchSumsBothPaths) {
  // y = sum(relu(x) + x): dy/dx = 1[x > 0] + 1.
  Tensor x = Tensor::from_vector({4}, {-1.f, 2.f, -3.f, 4.f}).requires_grad_();
  Tensor y = ops::sum(ops::relu(x) + x);
  y.backward();
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{1.f, 2.f, 1.f, 2.f}));
}

TEST(Autograd, GradientsAccumulateAcrossBackwardCallsUntilZeroed) {
  Tensor x = Tensor::from_vector({2}, {1.f, 2.f}).requires_grad_();
  ops::sum(x * 3.f).backward();
  ops::sum(x * 3.f).backward();
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{6.f, 6.f}));
  x.zero_grad();
  EXPECT_FALSE(x.grad().defined());
}

TEST(Autograd, NoGradGuardRecordsNothing) {
  Tensor x = Tensor::ones({3}).requires_grad_();
  {
    NoGradGuard g;
    Tensor y = x * 2.f;
    EXPECT_FALSE(y.requires_grad());
    EXPECT_EQ(y.grad_fn(), nullptr);
  }
  Tensor y = x * 2.f;
  EXPECT_TRUE(y.requires_grad());
  EXPECT_NE(y.grad_fn(), nullptr);
}

TEST(Autograd, HookSeesAndCanReplaceTheGradient) {
  Tensor x = Tensor::from_vector({3}, {1.f, -2.f, 3.f}).requires_grad_();
  Tensor h = x * 2.f;  // dL/dh = r below
  std::vector<float> seen;
  h.register_hook([&](const Tensor& g) {
    seen = g.to_vector();
    Tensor clamped = g.clone();  // guided-backprop style: keep positive gradients only
    for (int64_t i = 0; i < clamped.numel(); ++i) clamped.data()[i] = std::max(0.f, clamped.data()[i]);
    return clamped;
  });
  Tensor r = Tensor::from_vector({3}, {1.f, -1.f, 0.5f});
  (h * r).backward(Tensor::ones({3}));
  EXPECT_EQ(seen, (std::vector<float>{1.f, -1.f, 0.5f}));
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{2.f, 0.f, 1.f}));
}

TEST(Autograd, ReshapeSharesDataAndRoutesGradient) {
  Tensor x = Tensor::from_vector({2, 3}, {1, 2, 3, 4, 5, 6}).requires_grad_();
  Tensor v = x.reshape({3, -1});
  EXPECT_EQ(v.shape(), (Shape{3, 2}));
  EXPECT_EQ(v.data(), x.data());
  (v * Tensor::from_vector({3, 2}, {1, 2, 3, 4, 5, 6})).backward(Tensor::ones({3, 2}));
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
}

TEST(Autograd, Errors) {
  Tensor x = Tensor::ones({2}).requires_grad_();
  expect_error([&] { (x * 2.f).backward(); }, {"one-element", "(2)"});
  expect_error([] { Tensor::ones({2}).backward(Tensor::ones({2})); }, {"does not require grad"});
  expect_error([&] { x.reshape({3}); }, {"(3)", "(2)"});
  Tensor y = x * 2.f;
  expect_error([&] { y.requires_grad_(false); }, {"leaf"});
}
