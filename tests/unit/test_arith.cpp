// div, maximum, minimum, pow, where and matmul: the reference backward kernels in double
// against finite differences of the reference forward, the ops' float gradients against the
// same, PyTorch's conventions at the special points (ties, 0^0, a zero base) by hand, and
// the errors.
#include <cmath>
#include <limits>

#include "convnet/core/error.h"
#include "convnet/core/rng.h"
#include "convnet/ops/elementwise.h"
#include "convnet/ops/linear.h"
#include "kernels/arith.h"
#include "kernels/gemm.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;
namespace ref = convnet::kernels::ref;

namespace {

struct Binary {
  const char* name;
  kernels::BinaryFn<double>* fwd;
  kernels::BinaryBwdFn<double>* bwd;
  Tensor (*op)(const Tensor&, const Tensor&);
};
const Binary kBinary[] = {
    {"div", &ref::div<double>, &ref::div_bwd<double>, &ops::div},
    {"maximum", &ref::maximum<double>, &ref::maximum_bwd<double>, &ops::maximum},
    {"minimum", &ref::minimum<double>, &ref::minimum_bwd<double>, &ops::minimum},
    {"pow", &ref::pow<double>, &ref::pow_bwd<double>, static_cast<Tensor (*)(const Tensor&, const Tensor&)>(&ops::pow)},
};

}  // namespace

// L = sum(f(a, b) * r): the reference backward (double) and the op's backward (float) against
// central differences, over operands kept away from the kinks (ties) and poles (b = 0).
TEST(ArithGradcheck, ReferenceAndOpBackwardMatchFiniteDifferences) {
  for (const Binary& f : kBinary)
    for (const Shape& s : {Shape{1}, Shape{7}, Shape{2, 3, 4}}) {
      SCOPED_TRACE(std::string(f.name) + " " + shape_str(s));
      const size_t n = shape_numel(s);
      auto a = random_doubles(n, 1 + n), b = random_doubles(n, 2 + n), r = random_doubles(n, 3 + n);
      for (size_t i = 0; i < n; ++i) {
        b[i] = b[i] < 0 ? b[i] * 2 - 0.5 : b[i] * 2 + 0.5;                   // |b| >= 0.5: no pole of div
        if (std::string(f.name) == "pow") a[i] = std::abs(a[i]) * 2 + 0.25;  // a real power
        if (std::abs(a[i] - b[i]) < 0.05) a[i] += 0.2;                       // no tie of max / min
      }
      auto loss = [&](const std::vector<double>& aa, const std::vector<double>& bb) {
        std::vector<double> y(n);
        f.fwd(n, aa.data(), bb.data(), y.data());
        return dot(y, r);
      };
      const auto na = numeric_grad([&](const std::vector<double>& v) { return loss(v, b); }, a);
      const auto nb = numeric_grad([&](const std::vector<double>& v) { return loss(a, v); }, b);
      std::vector<double> y(n), ga(n), gb(n);
      f.fwd(n, a.data(), b.data(), y.data());
      f.bwd(n, a.data(), b.data(), y.data(), r.data(), ga.data(), gb.data());
      EXPECT_TRUE(all_close(ga, na, 1e-6, 1e-8));
      EXPECT_TRUE(all_close(gb, nb, 1e-6, 1e-8));
      Tensor ta = Tensor::from_vector(s, to_float(a)).requires_grad_();
      Tensor tb = Tensor::from_vector(s, to_float(b)).requires_grad_();
      f.op(ta, tb).backward(Tensor::from_vector(s, to_float(r)));
      EXPECT_TRUE(all_close(to_double(ta.grad()), na, 1e-4, 1e-5));
      EXPECT_TRUE(all_close(to_double(tb.grad()), nb, 1e-4, 1e-5));
    }
}

TEST(ArithGradcheck, MatmulMatchesFiniteDifferences) {
  for (const auto& [sa, sb] :
       {std::pair<Shape, Shape>{{3, 4}, {4, 2}}, {{2, 3, 5}, {2, 5, 4}}, {{2, 2, 1, 3}, {2, 2, 3, 6}}}) {
    SCOPED_TRACE(shape_str(sa) + " x " + shape_str(sb));
    const int64_t M = sa[sa.size() - 2], K = sa.back(), N = sb.back();
    const int64_t batch = shape_numel(sa) / (M * K);
    Shape so = sa;
    so.back() = N;
    auto a = random_doubles(shape_numel(sa), 10), b = random_doubles(shape_numel(sb), 11),
         r = random_doubles(shape_numel(so), 12);
    auto loss = [&](const std::vector<double>& aa, const std::vector<double>& bb) {
      std::vector<double> y(r.size());
      for (int64_t i = 0; i < batch; ++i)
        ref::gemm<double>(false, false, M, N, K, 1.0, aa.data() + i * M * K, K, bb.data() + i * K * N, N, 0.0,
                          y.data() + i * M * N, N);
      return dot(y, r);
    };
    Tensor ta = Tensor::from_vector(sa, to_float(a)).requires_grad_();
    Tensor tb = Tensor::from_vector(sb, to_float(b)).requires_grad_();
    Tensor y = ops::matmul(ta, tb);
    EXPECT_EQ(y.shape(), so);
    y.backward(Tensor::from_vector(so, to_float(r)));
    EXPECT_TRUE(all_close(to_double(ta.grad()),
                          numeric_grad([&](const std::vector<double>& v) { return loss(v, b); }, a), 1e-4, 1e-5));
    EXPECT_TRUE(all_close(to_double(tb.grad()),
                          numeric_grad([&](const std::vector<double>& v) { return loss(a, v); }, b), 1e-4, 1e-5));
  }
}

// PyTorch's conventions, by hand (torch 1.13 gives the same numbers).
TEST(ArithValues, TiesZerosAndNaN) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Tensor a = Tensor::from_vector({4}, {1.f, 2.f, 3.f, nan}).requires_grad_();
  Tensor b = Tensor::from_vector({4}, {1.f, 1.f, 4.f, 0.f}).requires_grad_();
  Tensor y = ops::maximum(a, b);
  EXPECT_EQ(y.at({0}), 1.f);
  EXPECT_EQ(y.at({2}), 4.f);
  EXPECT_TRUE(std::isnan(y.at({3})));
  y.backward(Tensor::ones({4}));
  EXPECT_EQ(a.grad().to_vector(), (std::vector<float>{0.5f, 1.f, 0.f, 1.f}));  // a tie splits in halves
  EXPECT_EQ(b.grad().to_vector(), (std::vector<float>{0.5f, 0.f, 1.f, 1.f}));
  EXPECT_EQ(ops::minimum(a, b).at({1}), 1.f);
  EXPECT_TRUE(std::isnan(ops::minimum(b, a).at({3})));  // NaN in either operand

  Tensor base = Tensor::from_vector({4}, {0.f, 0.f, -2.f, 2.f}).requires_grad_();
  Tensor ex = Tensor::from_vector({4}, {2.f, 0.f, 2.f, -1.f}).requires_grad_();
  Tensor p = ops::pow(base, ex);
  EXPECT_EQ(p.to_vector(), (std::vector<float>{0.f, 1.f, 4.f, 0.5f}));
  p.backward(Tensor::ones({4}));
  EXPECT_EQ(base.grad().to_vector(), (std::vector<float>{0.f, 0.f, -4.f, -0.25f}));  // 0 where the exponent is 0
  const std::vector<float> gex = ex.grad().to_vector();
  EXPECT_EQ(gex[0], 0.f);  // a zero base with a non-negative exponent
  EXPECT_EQ(gex[1], 0.f);
  EXPECT_TRUE(std::isnan(gex[2]));  // ln of a negative base
  EXPECT_NEAR(gex[3], 0.5f * std::log(2.f), 1e-7);
  EXPECT_EQ(ops::pow(Tensor::from_vector({2}, {3.f, -1.5f}), 2.f).to_vector(), (std::vector<float>{9.f, 2.25f}));

  Tensor d = ops::div(Tensor::from_vector({3}, {1.f, -1.f, 0.f}), Tensor::from_vector({3}, {0.f, 0.f, 0.f}));
  EXPECT_TRUE(std::isinf(d.at({0})) && d.at({0}) > 0);
  EXPECT_TRUE(std::isinf(d.at({1})) && d.at({1}) < 0);
  EXPECT_TRUE(std::isnan(d.at({2})));
}

TEST(ArithValues, WhereSelectsAndRoutesGradients) {
  Tensor c = Tensor::from_vector({4}, {1.f, 0.f, -3.f, 0.f});
  Tensor a = Tensor::from_vector({4}, {1.f, 2.f, 3.f, 4.f}).requires_grad_();
  Tensor b = Tensor::from_vector({4}, {10.f, 20.f, 30.f, 40.f}).requires_grad_();
  Tensor y = ops::where(c, a, b);
  EXPECT_EQ(y.to_vector(), (std::vector<float>{1.f, 20.f, 3.f, 40.f}));
  y.backward(Tensor::from_vector({4}, {5.f, 6.f, 7.f, 8.f}));
  EXPECT_EQ(a.grad().to_vector(), (std::vector<float>{5.f, 0.f, 7.f, 0.f}));
  EXPECT_EQ(b.grad().to_vector(), (std::vector<float>{0.f, 6.f, 0.f, 8.f}));
  // A boolean condition works as well.
  EXPECT_EQ(ops::where(c.to(DType::bool_), a, b).to_vector(), (std::vector<float>{1.f, 20.f, 3.f, 40.f}));
}

TEST(ArithErrors, MessagesNameOpAndShapes) {
  Tensor a = Tensor::zeros({2, 3}), b = Tensor::zeros({3, 2});
  expect_error([&] { ops::div(a, b); }, {"div", "(2, 3)", "(3, 2)"});
  expect_error([&] { ops::maximum(a, b); }, {"maximum", "(2, 3)", "(3, 2)"});
  expect_error([&] { ops::minimum(a, Tensor()); }, {"minimum", "must be defined"});
  expect_error([&] { ops::pow(a, b); }, {"pow", "(2, 3)", "(3, 2)"});
  expect_error([&] { ops::where(Tensor::zeros({3}), a, a); }, {"where", "(3)", "(2, 3)"});
  expect_error([&] { ops::matmul(a, a, "attn"); }, {"attn", "(2, 3)", "cannot be multiplied"});
  expect_error(
      [&] {
        ops::matmul(Tensor::zeros({2, 2, 3}), Tensor::zeros({3, 3, 4}));
      },
      {"batch", "(2, 2, 3)", "(3, 3, 4)"});
  expect_error([&] { ops::matmul(Tensor::zeros({3}), Tensor::zeros({3, 4})); }, {"rank", "(3)", "(3, 4)"});
}
