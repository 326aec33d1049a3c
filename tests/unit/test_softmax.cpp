// softmax / log_softmax: finite-difference gradient checks of the reference kernels
// (double) over (outer, D, inner) geometries, dim handling through the op for every
// rank, stability with large logits, and the errors.
#include <cmath>

#include "convnet/core/error.h"
#include "convnet/core/rng.h"
#include "convnet/ops/softmax.h"
#include "kernels/registry.h"
#include "kernels/softmax.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;
using kernels::SoftmaxGeom;

namespace {

const std::vector<SoftmaxGeom> kGrid = {{1, 1, 1}, {1, 5, 1}, {3, 4, 1}, {2, 3, 6}, {1, 2, 5}, {4, 1, 3}};

// softmax along `dim` computed element by element from the definition, in double.
std::vector<double> softmax_by_definition(const Tensor& x, int64_t d) {
  const Shape& s = x.shape();
  int64_t outer = 1, inner = 1;
  for (int64_t k = 0; k < d; ++k) outer *= s[k];
  for (int64_t k = d + 1; k < x.dim(); ++k) inner *= s[k];
  std::vector<double> y(x.numel());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      double z = 0;
      for (int64_t j = 0; j < s[d]; ++j) z += std::exp(double(x.data()[(o * s[d] + j) * inner + i]));
      for (int64_t j = 0; j < s[d]; ++j) {
        const int64_t idx = (o * s[d] + j) * inner + i;
        y[idx] = std::exp(double(x.data()[idx])) / z;
      }
    }
  return y;
}

}  // namespace

TEST(SoftmaxGradcheck, ReferenceBackwardMatchesFiniteDifferences) {
  struct Op {
    const char* name;
    kernels::SoftmaxFwdFn<double>* fwd;
    kernels::SoftmaxBwdFn<double>* bwd;
  };
  const std::vector<Op> ops_ = {
      {"softmax", &kernels::ref::softmax_fwd<double>, &kernels::ref::softmax_bwd<double>},
      {"log_softmax", &kernels::ref::log_softmax_fwd<double>, &kernels::ref::log_softmax_bwd<double>}};
  for (const Op& op : ops_)
    for (size_t ci = 0; ci < kGrid.size(); ++ci) {
      const SoftmaxGeom& g = kGrid[ci];
      SCOPED_TRACE(std::string(op.name) + " outer=" + std::to_string(g.outer) + " D=" + std::to_string(g.D) +
                   " inner=" + std::to_string(g.inner));
      const size_t n = g.outer * g.D * g.inner;
      auto x = random_doubles(n, 1 + ci), r = random_doubles(n, 2 + ci);
      for (auto& v : x) v *= 3;
      auto loss = [&](const std::vector<double>& xx) {
        std::vector<double> y(n);
        op.fwd(g, xx.data(), y.data());
        return dot(y, r);
      };
      std::vector<double> y(n), gx(n);
      op.fwd(g, x.data(), y.data());
      op.bwd(g, y.data(), r.data(), gx.data());
      EXPECT_TRUE(all_close(gx, numeric_grad(loss, x), 1e-6, 1e-8));
    }
}

TEST(SoftmaxValues, EveryDimOfEveryRank) {
  Generator gen(3);
  for (const Shape& s : std::vector<Shape>{{5}, {3, 4}, {2, 3, 4}, {2, 3, 2, 3}}) {
    Tensor x = Tensor::randn(s, gen);
    const auto rank = static_cast<int64_t>(s.size());
    for (int64_t dim = -rank; dim < rank; ++dim) {
      SCOPED_TRACE(shape_str(s) + " dim=" + std::to_string(dim));
      const auto want = softmax_by_definition(x, dim < 0 ? dim + rank : dim);
      Tensor y = ops::softmax(x, dim), ly = ops::log_softmax(x, dim);
      EXPECT_EQ(y.shape(), s);
      EXPECT_TRUE(all_close(std::vector<double>(y.data(), y.data() + y.numel()), want, 1e-6, 1e-7));
      std::vector<double> log_want;
      for (double v : want) log_want.push_back(std::log(v));
      EXPECT_TRUE(all_close(std::vector<double>(ly.data(), ly.data() + ly.numel()), log_want, 1e-6, 1e-6));
    }
  }
  // A 0-d tensor: softmax is 1, log_softmax 0, as PyTorch.
  EXPECT_EQ(ops::softmax(Tensor::scalar(3.f)).item(), 1.f);
  EXPECT_EQ(ops::log_softmax(Tensor::scalar(3.f), 0).item(), 0.f);
}

TEST(SoftmaxValues, LargeLogitsStayFinite) {
  // exp(1000) overflows float (and double); subtracting the maximum does not.
  Tensor x = Tensor::from_vector({2, 3}, {1000.f, 1000.f, 1000.f, 1000.f, 0.f, -1000.f}).requires_grad_();
  Tensor y = ops::softmax(x);
  for (float v : y.to_vector()) EXPECT_TRUE(std::isfinite(v));
  EXPECT_NEAR(y.at({0, 0}), 1.0 / 3, 1e-7);
  EXPECT_EQ(y.at({1, 0}), 1.f);
  EXPECT_EQ(y.at({1, 2}), 0.f);
  Tensor ly = ops::log_softmax(x);
  EXPECT_NEAR(ly.at({0, 1}), -std::log(3.0), 1e-6);
  EXPECT_EQ(ly.at({1, 2}), -2000.f);
  for (float v : ly.to_vector()) EXPECT_TRUE(std::isfinite(v));
  ops::softmax(x).backward(Tensor::from_vector({2, 3}, {1.f, 2.f, 3.f, 1.f, 2.f, 3.f}));
  ly.backward(Tensor::ones({2, 3}));
  for (float v : x.grad().to_vector()) EXPECT_TRUE(std::isfinite(v));
}

TEST(SoftmaxGrad, RowsOfSoftmaxSumToOneSoTheirGradientVanishes) {
  Generator gen(4);
  Tensor x = Tensor::randn({2, 3, 4, 4}, gen).requires_grad_();
  Tensor y = ops::softmax(x, 1);
  // d/dx sum_c softmax(x)_c = d/dx 1 = 0 for an upstream gradient constant along dim 1.
  y.backward(Tensor::full({2, 3, 4, 4}, 2.5f));
  for (float v : x.grad().to_vector()) EXPECT_NEAR(v, 0.f, 1e-6);
}

TEST(SoftmaxErrors, DimOutOfRangeNamesDimAndShape) {
  Tensor x = Tensor::zeros({2, 3});
  expect_error([&] { ops::softmax(x, 2); }, {"softmax", "dim 2", "(2, 3)", "[-2, 1]"});
  expect_error([&] { ops::log_softmax(x, -3); }, {"log_softmax", "dim -3", "(2, 3)"});
  expect_error([&] { ops::softmax(Tensor::scalar(1.f), 1); }, {"softmax", "dim 1", "()"});
  expect_error([&] { ops::softmax(Tensor()); }, {"softmax", "must be defined"});
}
