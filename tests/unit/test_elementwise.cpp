// Elementwise ops and concat: the ops' gradients against finite differences of the
// reference kernels in double, concat_bwd as the adjoint of concat_fwd, gradients of a
// tensor used twice (x * x + x, a residual add), the operators, and the errors.
#include <cmath>

#include "convnet/core/error.h"
#include "convnet/core/rng.h"
#include "convnet/ops/activation.h"
#include "convnet/ops/concat.h"
#include "convnet/ops/elementwise.h"
#include "kernels/elementwise.h"
#include "kernels/registry.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;
namespace ref = convnet::kernels::ref;

namespace {

const std::vector<Shape> kShapes = {{1}, {7}, {2, 3}, {2, 1, 3, 2}};

}  // namespace

// The ops' backward (float, composed from forward kernels) against finite differences of
// the double reference forward: L = sum(y * r).
TEST(ElementwiseGradcheck, BinaryOpsMatchFiniteDifferences) {
  using Fn = kernels::BinaryFn<double>;
  const std::vector<std::pair<const char*, Fn*>> fns = {
      {"add", &ref::add<double>}, {"sub", &ref::sub<double>}, {"mul", &ref::mul<double>}};
  for (size_t si = 0; si < kShapes.size(); ++si)
    for (const auto& [name, fn] : fns) {
      SCOPED_TRACE(std::string(name) + " " + shape_str(kShapes[si]));
      const Shape& s = kShapes[si];
      const size_t n = shape_numel(s);
      auto a = random_doubles(n, 1 + si), b = random_doubles(n, 2 + si), r = random_doubles(n, 3 + si);
      auto loss = [&](const std::vector<double>& aa, const std::vector<double>& bb) {
        std::vector<double> y(n);
        fn(n, aa.data(), bb.data(), y.data());
        return dot(y, r);
      };
      Tensor ta = Tensor::from_vector(s, to_float(a)).requires_grad_();
      Tensor tb = Tensor::from_vector(s, to_float(b)).requires_grad_();
      const std::string op = name;
      Tensor y = op == "add" ? ops::add(ta, tb) : op == "sub" ? ops::sub(ta, tb) : ops::mul(ta, tb);
      y.backward(Tensor::from_vector(s, to_float(r)));
      EXPECT_TRUE(all_close(to_double(ta.grad()),
                            numeric_grad([&](const std::vector<double>& v) { return loss(v, b); }, a), 1e-6, 1e-7));
      EXPECT_TRUE(all_close(to_double(tb.grad()),
                            numeric_grad([&](const std::vector<double>& v) { return loss(a, v); }, b), 1e-6, 1e-7));
    }
}

TEST(ElementwiseGradcheck, ScaleSumMeanMatchFiniteDifferences) {
  for (size_t si = 0; si < kShapes.size(); ++si) {
    SCOPED_TRACE(shape_str(kShapes[si]));
    const Shape& s = kShapes[si];
    const size_t n = shape_numel(s);
    auto x = random_doubles(n, 10 + si), r = random_doubles(n, 11 + si);
    const double rs = random_doubles(1, 12 + si)[0];
    auto scale_loss = [&](const std::vector<double>& v) {
      std::vector<double> y(n);
      ref::scale<double>(n, -1.75, v.data(), y.data());
      return dot(y, r);
    };
    auto sum_loss = [&](const std::vector<double>& v) {
      double y;
      ref::sum<double>(n, v.data(), &y);
      return y * rs;
    };
    Tensor tx = Tensor::from_vector(s, to_float(x)).requires_grad_();
    ops::mul(tx, -1.75f).backward(Tensor::from_vector(s, to_float(r)));
    EXPECT_TRUE(all_close(to_double(tx.grad()), numeric_grad(scale_loss, x), 1e-6, 1e-7));
    tx.zero_grad();
    ops::sum(tx).backward(Tensor::scalar(static_cast<float>(rs)));
    EXPECT_TRUE(all_close(to_double(tx.grad()), numeric_grad(sum_loss, x), 1e-6, 1e-7));
    tx.zero_grad();
    ops::mean(tx).backward(Tensor::scalar(static_cast<float>(rs)));
    auto mean_grad = numeric_grad(sum_loss, x);
    for (auto& v : mean_grad) v /= static_cast<double>(n);
    EXPECT_TRUE(all_close(to_double(tx.grad()), mean_grad, 1e-6, 1e-7));
  }
}

TEST(ConcatGradcheck, ReferenceBackwardIsTheAdjoint) {
  // (outer, inner, sizes)
  struct Cfg {
    int64_t outer, inner;
    std::vector<int64_t> sizes;
  };
  const std::vector<Cfg> grid = {{1, 1, {3}}, {2, 4, {3, 5}}, {3, 1, {1, 2, 1, 4}}, {1, 6, {2, 2}}, {2, 3, {0, 2}}};
  for (size_t ci = 0; ci < grid.size(); ++ci) {
    SCOPED_TRACE("config " + std::to_string(ci));
    const Cfg& c = grid[ci];
    const auto count = static_cast<int64_t>(c.sizes.size());
    int64_t total = 0;
    for (int64_t s : c.sizes) total += s;
    std::vector<std::vector<double>> xs;
    for (int64_t i = 0; i < count; ++i) xs.push_back(random_doubles(c.outer * c.sizes[i] * c.inner, 20 + ci * 8 + i));
    auto r = random_doubles(c.outer * total * c.inner, 30 + ci);
    auto loss_wrt = [&](int64_t which) {
      return [&, which](const std::vector<double>& v) {
        std::vector<const double*> ptrs;
        for (int64_t i = 0; i < count; ++i) ptrs.push_back(i == which ? v.data() : xs[i].data());
        std::vector<double> y(r.size());
        ref::concat_fwd<double>(c.outer, c.inner, count, c.sizes.data(), ptrs.data(), y.data());
        return dot(y, r);
      };
    };
    std::vector<std::vector<double>> gx;
    std::vector<double*> gptrs;
    for (int64_t i = 0; i < count; ++i) gx.emplace_back(xs[i].size(), NAN);
    for (auto& g : gx) gptrs.push_back(g.data());
    ref::concat_bwd<double>(c.outer, c.inner, count, c.sizes.data(), r.data(), gptrs.data());
    for (int64_t i = 0; i < count; ++i) EXPECT_TRUE(all_close(gx[i], numeric_grad(loss_wrt(i), xs[i]), 1e-6, 1e-7));
  }
}

TEST(ConcatValues, DimensionsAndGradientsThroughTheOp) {
  Generator gen(5);
  Tensor a = Tensor::randn({2, 3, 4, 4}, gen).requires_grad_(), b = Tensor::randn({2, 5, 4, 4}, gen);
  Tensor y = ops::concat({a, b});  // dim 1 by default, as DenseNet
  EXPECT_EQ(y.shape(), (Shape{2, 8, 4, 4}));
  EXPECT_EQ(y.at({1, 2, 3, 1}), a.at({1, 2, 3, 1}));
  EXPECT_EQ(y.at({1, 7, 0, 2}), b.at({1, 4, 0, 2}));
  Tensor g = Tensor::randn({2, 8, 4, 4}, gen);
  y.backward(g);
  EXPECT_FALSE(b.grad().defined());  // needs no gradient
  EXPECT_EQ(a.grad().at({1, 2, 3, 1}), g.at({1, 2, 3, 1}));
  EXPECT_EQ(ops::concat({a, a}, -1).shape(), (Shape{2, 3, 4, 8}));
  EXPECT_EQ(ops::concat({a, a}, 0).shape(), (Shape{4, 3, 4, 4}));
  // The same tensor twice: both slices flow back into it.
  Tensor x = Tensor::from_vector({2}, {1.f, 2.f}).requires_grad_();
  ops::concat({x, x}, 0).backward(Tensor::from_vector({4}, {1.f, 2.f, 10.f, 20.f}));
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{11.f, 22.f}));
}

TEST(ElementwiseGrad, TensorUsedTwiceAccumulates) {
  Generator gen(6);
  Tensor x = Tensor::randn({3, 4}, gen).requires_grad_();
  Tensor y = x * x + x;  // dy/dx = 2x + 1
  y.backward(Tensor::ones({3, 4}));
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 4; ++j) EXPECT_NEAR(x.grad().at({i, j}), 2 * x.at({i, j}) + 1, 1e-6);

  // Residual branch: y = relu(x * 3) + x, dy/dx = 3 [x > 0] + 1.
  x.zero_grad();
  Tensor r = ops::add(ops::relu(x * 3.f), x, "layer1.0");
  ops::sum(r).backward();
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 4; ++j) EXPECT_EQ(x.grad().at({i, j}), x.at({i, j}) > 0 ? 4.f : 1.f);

  // add(x, x): both gradients land on one tensor.
  x.zero_grad();
  ops::sum(ops::add(x, x)).backward();
  for (float v : x.grad().to_vector()) EXPECT_EQ(v, 2.f);

  // Gradients accumulate across backward calls into a leaf, as PyTorch.
  ops::sum(x).backward();
  for (float v : x.grad().to_vector()) EXPECT_EQ(v, 3.f);
}

TEST(ElementwiseValues, OperatorsSumAndMean) {
  Tensor a = Tensor::from_vector({2, 2}, {1.f, 2.f, 3.f, 4.f}), b = Tensor::from_vector({2, 2}, {0.5f, -1.f, 2.f, 0.f});
  EXPECT_EQ((a + b).to_vector(), (std::vector<float>{1.5f, 1.f, 5.f, 4.f}));
  EXPECT_EQ((a - b).to_vector(), (std::vector<float>{0.5f, 3.f, 1.f, 4.f}));
  EXPECT_EQ((a * b).to_vector(), (std::vector<float>{0.5f, -2.f, 6.f, 0.f}));
  EXPECT_EQ((a * 2.f).to_vector(), (std::vector<float>{2.f, 4.f, 6.f, 8.f}));
  EXPECT_EQ(ops::sum(a).shape(), Shape{});
  EXPECT_EQ(ops::sum(a).item(), 10.f);
  EXPECT_EQ(ops::mean(a).shape(), Shape{});
  EXPECT_EQ(ops::mean(a).item(), 2.5f);
  EXPECT_TRUE(std::isnan(ops::mean(Tensor::zeros({0})).item()));  // as torch.mean of an empty tensor
  EXPECT_EQ(ops::sum(Tensor::zeros({0, 3})).item(), 0.f);
  // A long sum is accurate: 1e6 copies of 0.1 (float 0.1 is 0.100000001490116).
  EXPECT_NEAR(ops::sum(Tensor::full({1000000}, 0.1f)).item(), 100000.0015, 0.01);
  EXPECT_FALSE((a + b).requires_grad());
}

TEST(ElementwiseErrors, MessagesNameOpAndShapes) {
  Tensor a = Tensor::zeros({2, 3}), b = Tensor::zeros({2, 4});
  expect_error([&] { ops::add(a, b, "layer2.1 (residual add)"); },
               {"layer2.1 (residual add)", "same shape", "(2, 3)", "(2, 4)"});
  expect_error([&] { (void)(a + b); }, {"add", "(2, 3)", "(2, 4)"});
  expect_error([&] { (void)(a - b); }, {"sub", "(2, 3)", "(2, 4)"});
  expect_error([&] { (void)(a * b); }, {"mul", "(2, 3)", "(2, 4)"});
  expect_error([&] { ops::sum(Tensor()); }, {"sum", "must be defined"});
  expect_error([&] { ops::add(a, Tensor()); }, {"add", "must be defined"});
}

TEST(ConcatErrors, MessagesNameLayerAndShapes) {
  Tensor a = Tensor::zeros({2, 3, 6, 6}), b = Tensor::zeros({2, 4, 5, 5});
  expect_error(
      [&] {
        ops::concat({a, b}, 1, "denseblock1.denselayer2");
      },
      {"denseblock1.denselayer2", "tensor 1 of shape (2, 4, 5, 5)", "tensor 0 of shape (2, 3, 6, 6)", "dimension 2"});
  expect_error(
      [&] {
        ops::concat({a, Tensor::zeros({2, 3, 6})});
      },
      {"concat", "(2, 3, 6)", "3 dimensions", "(2, 3, 6, 6)"});
  expect_error([&] { ops::concat({a}, 4); }, {"concat", "dim 4", "(2, 3, 6, 6)", "[-4, 3]"});
  expect_error([&] { ops::concat({a}, -5); }, {"concat", "dim -5", "(2, 3, 6, 6)"});
  expect_error([&] { ops::concat({}); }, {"concat", "at least one tensor"});
  expect_error([&] { ops::concat({Tensor::scalar(1.f), Tensor::scalar(2.f)}, 0); }, {"concat", "zero-dimensional"});
  expect_error([&] { ops::concat({a, Tensor()}); }, {"concat", "tensor 1 is undefined"});
}
