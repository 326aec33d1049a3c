// linear: the op's backward (through the registered GEMM) against finite differences of
// a double-precision forward built on ref::gemm<double>, over shapes incl. (*, in)
// inputs, a batch of 1 and no bias; which inputs get gradients; and the errors.
#include "convnet/core/error.h"
#include "convnet/core/rng.h"
#include "convnet/ops/linear.h"
#include "kernels/gemm.h"
#include "kernels/registry.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;

namespace {

struct Cfg {
  Shape x;  // (*, in)
  int64_t out;
  bool bias;
};

const std::vector<Cfg> kGrid = {
    {{3, 4}, 5, true},    {{1, 1}, 1, true}, {{1, 6}, 3, false},      {{4, 7}, 3, false},
    {{2, 3, 4}, 2, true}, {{5}, 4, true},    {{2, 1, 3, 2}, 3, true}, {{6, 9}, 11, true},
};

// y (M, out) = x (M, in) w^T + b, in double: the definition the op must differentiate.
std::vector<double> linear_f64(const std::vector<double>& x, const std::vector<double>& w, const std::vector<double>* b,
                               int64_t M, int64_t in, int64_t out) {
  std::vector<double> y(M * out, 0.0);
  if (b)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t o = 0; o < out; ++o) y[m * out + o] = (*b)[o];
  kernels::ref::gemm<double>(false, true, M, out, in, 1.0, x.data(), in, w.data(), in, b ? 1.0 : 0.0, y.data(), out);
  return y;
}

void gradcheck(const std::string& backend) {
  kernels::force_backend(backend);
  for (size_t ci = 0; ci < kGrid.size(); ++ci) {
    const Cfg& c = kGrid[ci];
    SCOPED_TRACE("config " + std::to_string(ci) + " x " + shape_str(c.x) + " backend '" + backend + "'");
    const int64_t in = c.x.back(), M = shape_numel(c.x) / in;
    auto x = random_doubles(M * in, 10 + ci), w = random_doubles(c.out * in, 20 + ci);
    auto b = random_doubles(c.out, 30 + ci), r = random_doubles(M * c.out, 40 + ci);  // L = sum(y * r)
    auto loss = [&](const std::vector<double>& xx, const std::vector<double>& ww, const std::vector<double>& bb) {
      return dot(linear_f64(xx, ww, c.bias ? &bb : nullptr, M, in, c.out), r);
    };
    Tensor tx = Tensor::from_vector(c.x, to_float(x)).requires_grad_();
    Tensor tw = Tensor::from_vector({c.out, in}, to_float(w)).requires_grad_();
    Tensor tb;
    if (c.bias) tb = Tensor::from_vector({c.out}, to_float(b)).requires_grad_();
    Tensor y = ops::linear(tx, tw, tb);
    Shape ys = c.x;
    ys.back() = c.out;
    ASSERT_EQ(y.shape(), ys);
    EXPECT_TRUE(all_close(to_double(y), linear_f64(x, w, c.bias ? &b : nullptr, M, in, c.out), 1e-5, 1e-6));
    y.backward(Tensor::from_vector(ys, to_float(r)));
    EXPECT_TRUE(all_close(to_double(tx.grad()),
                          numeric_grad([&](const std::vector<double>& v) { return loss(v, w, b); }, x), 1e-5, 1e-6));
    EXPECT_TRUE(all_close(to_double(tw.grad()),
                          numeric_grad([&](const std::vector<double>& v) { return loss(x, v, b); }, w), 1e-5, 1e-6));
    if (c.bias) {
      EXPECT_TRUE(all_close(to_double(tb.grad()),
                            numeric_grad([&](const std::vector<double>& v) { return loss(x, w, v); }, b), 1e-5, 1e-6));
    }
  }
  kernels::force_backend("");
}

}  // namespace

TEST(LinearGradcheck, ReferenceBackendMatchesFiniteDifferences) {
  gradcheck("ref");
}
TEST(LinearGradcheck, DefaultBackendMatchesFiniteDifferences) {
  gradcheck("");
}

TEST(LinearGrad, OnlyInputsThatRequireGradGetOne) {
  Generator gen(3);
  Tensor x = Tensor::randn({4, 3}, gen), w = Tensor::randn({2, 3}, gen).requires_grad_(), b = Tensor::randn({2}, gen);
  Tensor y = ops::linear(x, w, b);
  y.backward(Tensor::ones({4, 2}));
  EXPECT_FALSE(x.grad().defined());
  EXPECT_FALSE(b.grad().defined());
  ASSERT_TRUE(w.grad().defined());
  // dL/dw[o, i] = sum_m x[m, i] for an all-ones upstream gradient.
  for (int64_t i = 0; i < 3; ++i) {
    float s = 0;
    for (int64_t m = 0; m < 4; ++m) s += x.at({m, i});
    EXPECT_NEAR(w.grad().at({0, i}), s, 1e-5);
    EXPECT_NEAR(w.grad().at({1, i}), s, 1e-5);
  }
  // No input requires a gradient: no graph.
  EXPECT_FALSE(ops::linear(x, w.detach(), b).requires_grad());
}

TEST(LinearShapes, EmptyBatchAndZeroFeatures) {
  Generator gen(4);
  Tensor w = Tensor::randn({3, 5}, gen).requires_grad_();
  Tensor y = ops::linear(Tensor::zeros({0, 5}), w, Tensor::randn({3}, gen));
  EXPECT_EQ(y.shape(), (Shape{0, 3}));
  // in_features = 0: y is the bias.
  Tensor b = Tensor::from_vector({2}, {1.5f, -2.f});
  Tensor y0 = ops::linear(Tensor::zeros({3, 0}), Tensor::zeros({2, 0}), b);
  EXPECT_EQ(y0.to_vector(), (std::vector<float>{1.5f, -2.f, 1.5f, -2.f, 1.5f, -2.f}));
}

TEST(LinearErrors, MessagesNameLayerAndShapes) {
  Generator gen(5);
  Tensor w = Tensor::randn({120, 400}, gen);
  expect_error(
      [&] {
        ops::linear(Tensor::randn({8, 256}, gen), w, Tensor(), "classifier.0");
      },
      {"classifier.0: expected input with 400 features (last dimension) for weight of shape (120, 400), got "
       "input of shape (8, 256)"});
  expect_error(
      [&] {
        ops::linear(Tensor::randn({8, 400}, gen), w, Tensor::randn({84}, gen), "fc1");
      },
      {"fc1", "expected bias of shape (120)", "(120, 400)", "got bias of shape (84)"});
  expect_error(
      [&] {
        ops::linear(Tensor::randn({8, 400}, gen), Tensor::randn({120, 400, 1}, gen), Tensor(), "fc2");
      },
      {"fc2", "2-D weight", "(120, 400, 1)"});
  expect_error([&] { ops::linear(Tensor::scalar(1.f), w, Tensor()); }, {"linear", "at least 1 dimension", "()"});
  expect_error([&] { ops::linear(Tensor(), w, Tensor()); }, {"linear", "must be defined"});
}
