// Activations: finite-difference gradient checks of the reference kernels (double),
// the derivative at the kinks (relu'(0) = 0, leaky_relu'(0) = slope, relu6'(0) = relu6'(6) = 0,
// as PyTorch),
// saturation without overflow, autograd wiring, and the errors.
#include <cmath>

#include "convnet/core/error.h"
#include "convnet/core/rng.h"
#include "convnet/ops/activation.h"
#include "kernels/activation.h"
#include "kernels/prelu.h"
#include "kernels/registry.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;

namespace {

struct Act {
  const char* name;
  kernels::ActFwdFn<double>* fwd;
  kernels::ActBwdFn<double>* bwd;
  double a;
};

const std::vector<Act> kActs = {
    {"relu", &kernels::ref::relu_fwd<double>, &kernels::ref::relu_bwd<double>, 0.0},
    {"leaky_relu 0.01", &kernels::ref::leaky_relu_fwd<double>, &kernels::ref::leaky_relu_bwd<double>, 0.01},
    {"leaky_relu 0.2", &kernels::ref::leaky_relu_fwd<double>, &kernels::ref::leaky_relu_bwd<double>, 0.2},
    {"leaky_relu -0.5", &kernels::ref::leaky_relu_fwd<double>, &kernels::ref::leaky_relu_bwd<double>, -0.5},
    {"relu6", &kernels::ref::relu6_fwd<double>, &kernels::ref::relu6_bwd<double>, 0.0},
    {"tanh", &kernels::ref::tanh_fwd<double>, &kernels::ref::tanh_bwd<double>, 0.0},
    {"sigmoid", &kernels::ref::sigmoid_fwd<double>, &kernels::ref::sigmoid_bwd<double>, 0.0},
    {"hardsigmoid", &kernels::ref::hardsigmoid_fwd<double>, &kernels::ref::hardsigmoid_bwd<double>, 0.0},
    {"hardswish", &kernels::ref::hardswish_fwd<double>, &kernels::ref::hardswish_bwd<double>, 0.0},
    {"silu", &kernels::ref::silu_fwd<double>, &kernels::ref::silu_bwd<double>, 0.0},
    {"gelu", &kernels::ref::gelu_fwd<double>, &kernels::ref::gelu_bwd<double>, 0.0},
    {"gelu_tanh", &kernels::ref::gelu_tanh_fwd<double>, &kernels::ref::gelu_tanh_bwd<double>, 0.0},
    {"elu", &kernels::ref::elu_fwd<double>, &kernels::ref::elu_bwd<double>, 1.0},
    {"elu 0.3", &kernels::ref::elu_fwd<double>, &kernels::ref::elu_bwd<double>, 0.3},
    {"selu", &kernels::ref::selu_fwd<double>, &kernels::ref::selu_bwd<double>, 0.0},
    {"softplus", &kernels::ref::softplus_fwd<double>, &kernels::ref::softplus_bwd<double>, 1.0},
    {"softplus 2", &kernels::ref::softplus_fwd<double>, &kernels::ref::softplus_bwd<double>, 2.0},
    {"softsign", &kernels::ref::softsign_fwd<double>, &kernels::ref::softsign_bwd<double>, 0.0},
    {"erf", &kernels::ref::erf_fwd<double>, &kernels::ref::erf_bwd<double>, 0.0},
    {"exp", &kernels::ref::exp_fwd<double>, &kernels::ref::exp_bwd<double>, 0.0},
    {"abs", &kernels::ref::abs_fwd<double>, &kernels::ref::abs_bwd<double>, 0.0},
    {"sqrt", &kernels::ref::sqrt_fwd<double>, &kernels::ref::sqrt_bwd<double>, 0.0},
    {"floor", &kernels::ref::floor_fwd<double>, &kernels::ref::floor_bwd<double>, 0.0},
    {"ceil", &kernels::ref::ceil_fwd<double>, &kernels::ref::ceil_bwd<double>, 0.0},
    {"reciprocal", &kernels::ref::reciprocal_fwd<double>, &kernels::ref::reciprocal_bwd<double>, 0.0},
    {"log", &kernels::ref::log_fwd<double>, &kernels::ref::log_bwd<double>, 0.0},
};

}  // namespace

TEST(ActivationGradcheck, ReferenceBackwardMatchesFiniteDifferences) {
  for (const Act& act : kActs)
    for (size_t n : {1, 7, 64}) {
      SCOPED_TRACE(std::string(act.name) + " n=" + std::to_string(n));
      auto x = random_doubles(n, 1 + n);
      for (auto& v : x) v *= 4;  // cover both sides of 0 and the curved parts of tanh/sigmoid
      if (std::string(act.name) == "relu6")
        for (auto& v : x) v += 3;  // centred on relu6's linear part, so both kinks (0 and 6) are crossed
      const std::string name = act.name;
      if (name == "sqrt" || name == "log" || name == "reciprocal")
        for (auto& v : x) v = std::abs(v) + 0.5;  // their domain, away from the pole / infinite slope at 0
      if (name == "floor" || name == "ceil")
        for (auto& v : x) v = std::floor(v) + 0.25 + 0.5 * (v - std::floor(v));  // away from the jumps
      auto r = random_doubles(n, 2 + n);
      auto loss = [&](const std::vector<double>& xx) {
        std::vector<double> y(n);
        act.fwd(n, act.a, xx.data(), y.data());
        return dot(y, r);
      };
      std::vector<double> y(n), gx(n);
      act.fwd(n, act.a, x.data(), y.data());
      act.bwd(n, act.a, x.data(), y.data(), r.data(), gx.data());
      EXPECT_TRUE(all_close(gx, numeric_grad(loss, x), 1e-6, 1e-8));
    }
}

TEST(ActivationValues, DefinitionsAtKnownPoints) {
  Tensor x = Tensor::from_vector({5}, {-2.f, -0.5f, 0.f, 0.5f, 3.f});
  EXPECT_EQ(ops::relu(x).to_vector(), (std::vector<float>{0.f, 0.f, 0.f, 0.5f, 3.f}));
  EXPECT_EQ(ops::leaky_relu(x).to_vector(), (std::vector<float>{-0.02f, -0.005f, 0.f, 0.5f, 3.f}));
  EXPECT_EQ(ops::leaky_relu(x, 0.2).to_vector(), (std::vector<float>{-0.4f, -0.1f, 0.f, 0.5f, 3.f}));
  Tensor x6 = Tensor::from_vector({6}, {-1.f, 0.f, 2.5f, 6.f, 6.5f, 100.f});
  EXPECT_EQ(ops::relu6(x6).to_vector(), (std::vector<float>{0.f, 0.f, 2.5f, 6.f, 6.f, 6.f}));
  for (int64_t i = 0; i < 5; ++i) {
    const double v = x.at({i});
    EXPECT_NEAR(ops::tanh(x).at({i}), std::tanh(v), 1e-7);
    EXPECT_NEAR(ops::sigmoid(x).at({i}), 1 / (1 + std::exp(-v)), 1e-7);
  }
}

TEST(ActivationGrad, KinkFollowsPyTorch) {
  Tensor x = Tensor::from_vector({3}, {-1.f, 0.f, 1.f}).requires_grad_();
  ops::relu(x).backward(Tensor::ones({3}));
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{0.f, 0.f, 1.f}));  // relu'(0) = 0
  x.zero_grad();
  ops::leaky_relu(x, 0.2).backward(Tensor::full({3}, 2.f));
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{0.4f, 0.4f, 2.f}));  // leaky_relu'(0) = slope
  // relu6 is hardtanh(x, 0, 6) in PyTorch: the gradient is 0 at both kinks, 0 and 6.
  Tensor x6 = Tensor::from_vector({6}, {-1.f, 0.f, 3.f, 6.f, 7.f, 5.999f}).requires_grad_();
  ops::relu6(x6).backward(Tensor::full({6}, 3.f));
  EXPECT_EQ(x6.grad().to_vector(), (std::vector<float>{0.f, 0.f, 3.f, 0.f, 0.f, 3.f}));
}

// MobileNetV3's kinks at +-3, on both backends: hardsigmoid' is 0 at both (PyTorch's strict
// -3 < x < 3); hardswish' takes the middle branch x/3 + 1/2 at both ends of [-3, 3] (PyTorch's
// formula; its vectorized CPU kernel gives 1 at exactly +3, its scalar code 3/2); elu' and
// selu' take the negative branch at 0.
TEST(ActivationGrad, NewKinksFollowPyTorchsFormulas) {
  for (const char* backend : {"", "ref"}) {
    SCOPED_TRACE(std::string("backend ") + backend);
    kernels::force_backend(backend);
    Tensor x = Tensor::from_vector({5}, {-3.5f, -3.f, 0.f, 3.f, 3.5f}).requires_grad_();
    ops::hardsigmoid(x).backward(Tensor::full({5}, 6.f));
    EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{0.f, 0.f, 1.f, 0.f, 0.f}));
    x.zero_grad();
    ops::hardswish(x).backward(Tensor::ones({5}));
    EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{0.f, -0.5f, 0.5f, 1.5f, 1.f}));
    EXPECT_EQ(ops::hardswish(x).to_vector(), (std::vector<float>{-0.f, -0.f, 0.f, 3.f, 3.5f}));
    x.zero_grad();
    ops::elu(x, 0.5).backward(Tensor::ones({5}));
    EXPECT_FLOAT_EQ(x.grad().at({2}), 0.5f);  // alpha e^0
    x.zero_grad();
    ops::selu(x).backward(Tensor::ones({5}));
    EXPECT_FLOAT_EQ(x.grad().at({2}), static_cast<float>(1.0507009873554805 * 1.6732632423543772));
    kernels::force_backend("");
  }
  expect_error([] { ops::gelu(Tensor::ones({2}), "erf"); }, {"gelu", "approximate", "\"erf\""});
  expect_error([] { ops::softplus(Tensor::ones({2}), 0.0); }, {"softplus", "beta must be > 0"});
}

TEST(ActivationValues, SaturationStaysFinite) {
  // exp(1000) overflows float; sigmoid must not divide inf by inf.
  Tensor x = Tensor::from_vector({4}, {-1000.f, -100.f, 100.f, 1000.f}).requires_grad_();
  Tensor s = ops::sigmoid(x);
  EXPECT_EQ(s.to_vector(), (std::vector<float>{0.f, std::exp(-100.f) / (1 + std::exp(-100.f)), 1.f, 1.f}));
  s.backward(Tensor::ones({4}));
  for (float g : x.grad().to_vector()) EXPECT_TRUE(std::isfinite(g));
  x.zero_grad();
  Tensor t = ops::tanh(x);
  EXPECT_EQ(t.to_vector(), (std::vector<float>{-1.f, -1.f, 1.f, 1.f}));
  t.backward(Tensor::ones({4}));
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{0.f, 0.f, 0.f, 0.f}));
}

TEST(ActivationGrad, ShapeKeptAndChainRuleThroughTwoActivations) {
  Generator gen(3);
  Tensor x = Tensor::randn({2, 3, 4}, gen).requires_grad_();
  Tensor y = ops::sigmoid(ops::tanh(x));
  EXPECT_EQ(y.shape(), (Shape{2, 3, 4}));
  y.backward(Tensor::ones({2, 3, 4}));
  for (int64_t i = 0; i < 4; ++i) {
    const double t = std::tanh(double(x.at({1, 2, i}))), s = 1 / (1 + std::exp(-t));
    EXPECT_NEAR(x.grad().at({1, 2, i}), s * (1 - s) * (1 - t * t), 1e-6);
  }
  EXPECT_FALSE(ops::relu(x.detach()).requires_grad());
}

TEST(ActivationErrors, UndefinedInputIsNamed) {
  expect_error([] { ops::relu(Tensor()); }, {"relu", "must be defined"});
  expect_error([] { ops::leaky_relu(Tensor(), 0.2); }, {"leaky_relu", "must be defined"});
  expect_error([] { ops::relu6(Tensor()); }, {"relu6", "must be defined"});
  expect_error([] { ops::tanh(Tensor()); }, {"tanh", "must be defined"});
  expect_error([] { ops::sigmoid(Tensor()); }, {"sigmoid", "must be defined"});
}

// PReLU's reference kernel (double) against central differences, for x and for the slopes,
// with one slope and with one per channel.
TEST(PreluGradcheck, ReferenceBackwardMatchesFiniteDifferences) {
  for (int64_t wc : {1, 3}) {
    SCOPED_TRACE("slopes " + std::to_string(wc));
    const int64_t n = 2, c = 3, s = 4, total = n * c * s;
    auto x = random_doubles(total, 31);
    for (auto& v : x) v *= 3;
    auto w = random_doubles(wc, 32);
    const auto r = random_doubles(total, 33);
    auto loss_x = [&](const std::vector<double>& xx) {
      std::vector<double> y(total);
      kernels::ref::prelu_fwd<double>(n, c, s, wc, xx.data(), w.data(), y.data());
      return dot(y, r);
    };
    auto loss_w = [&](const std::vector<double>& ww) {
      std::vector<double> y(total);
      kernels::ref::prelu_fwd<double>(n, c, s, wc, x.data(), ww.data(), y.data());
      return dot(y, r);
    };
    std::vector<double> gx(total), gw(wc);
    kernels::ref::prelu_bwd<double>(n, c, s, wc, x.data(), w.data(), r.data(), gx.data(), gw.data());
    EXPECT_TRUE(all_close(gx, numeric_grad(loss_x, x), 1e-6, 1e-8));
    EXPECT_TRUE(all_close(gw, numeric_grad(loss_w, w), 1e-6, 1e-8));
  }
}

TEST(PreluErrors, WeightOfAnotherSizeNamesBothShapes) {
  expect_error(
      [] {
        ops::prelu(Tensor::ones({2, 3, 4}), Tensor::ones({2}));
      },
      {"prelu", "(2)", "(2, 3, 4)", "one per channel (3"});
  // The slope's branch at 0: y = 0 and dy/dx = w there, dy/dw = x = 0.
  Tensor x = Tensor::from_vector({1, 2}, {0.f, -2.f}).requires_grad_();
  Tensor w = Tensor::from_vector({1}, {0.25f}).requires_grad_();
  ops::prelu(x, w).backward(Tensor::ones({1, 2}));
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{0.25f, 0.25f}));
  EXPECT_EQ(w.grad().to_vector(), (std::vector<float>{-2.f}));
}
