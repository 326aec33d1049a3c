// Losses: finite-difference gradient checks of the reference kernels (double) for every
// reduction, independent formulas for label smoothing and soft labels, stability with
// large logits, output shapes, and the error messages.
#include <cmath>

#include "convnet/core/error.h"
#include "convnet/core/rng.h"
#include "convnet/ops/loss.h"
#include "kernels/loss.h"
#include "kernels/registry.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;
namespace ref = convnet::kernels::ref;

namespace {

struct Cfg {
  int64_t N, K;
};
const std::vector<Cfg> kGrid = {{1, 1}, {1, 4}, {3, 2}, {4, 5}, {2, 7}};
const std::vector<Reduction> kReductions = {Reduction::Mean, Reduction::Sum, Reduction::None};
const std::vector<double> kSmoothing = {0.0, 0.1, 0.35};

const char* name(Reduction r) {
  return r == Reduction::Mean ? "mean" : r == Reduction::Sum ? "sum" : "none";
}

Labels random_labels(int64_t N, int64_t K, uint64_t seed) {
  Generator gen(seed);
  Labels t(N);
  for (auto& v : t) v = static_cast<int64_t>(gen.randint(K));
  return t;
}

// Number of loss values: n for None, else 1.
size_t out_size(int64_t n, Reduction r) {
  return r == Reduction::None ? n : 1;
}

// -log_softmax(x)_k for one row, straight from the definition, in double.
std::vector<double> neg_log_softmax(const std::vector<double>& x) {
  double s = 0;
  for (double v : x) s += std::exp(v);
  std::vector<double> out;
  for (double v : x) out.push_back(std::log(s) - v);
  return out;
}

}  // namespace

TEST(LossGradcheck, CrossEntropyReferenceBackward) {
  for (size_t ci = 0; ci < kGrid.size(); ++ci)
    for (Reduction r : kReductions)
      for (double eps : kSmoothing) {
        const auto [N, K] = kGrid[ci];
        SCOPED_TRACE("N=" + std::to_string(N) + " K=" + std::to_string(K) + " " + name(r) +
                     " eps=" + std::to_string(eps));
        auto x = random_doubles(N * K, 1 + ci);
        for (auto& v : x) v *= 3;
        const Labels t = random_labels(N, K, 2 + ci);
        auto rr = random_doubles(out_size(N, r), 3 + ci);  // L = sum(loss * r)
        auto loss = [&](const std::vector<double>& xx) {
          std::vector<double> l(out_size(N, r)), lse(N);
          ref::cross_entropy_fwd<double>(N, K, xx.data(), t.data(), eps, r, l.data(), lse.data());
          return dot(l, rr);
        };
        std::vector<double> l(out_size(N, r)), lse(N), gx(N * K);
        ref::cross_entropy_fwd<double>(N, K, x.data(), t.data(), eps, r, l.data(), lse.data());
        ref::cross_entropy_bwd<double>(N, K, x.data(), t.data(), eps, lse.data(), r, rr.data(), gx.data());
        EXPECT_TRUE(all_close(gx, numeric_grad(loss, x), 1e-6, 1e-8));
      }
}

TEST(LossGradcheck, SoftCrossEntropyReferenceBackward) {
  for (size_t ci = 0; ci < kGrid.size(); ++ci)
    for (Reduction r : kReductions) {
      const auto [N, K] = kGrid[ci];
      SCOPED_TRACE("N=" + std::to_string(N) + " K=" + std::to_string(K) + " " + name(r));
      auto x = random_doubles(N * K, 10 + ci), p = random_doubles(N * K, 11 + ci);
      for (auto& v : p) v = (v + 1) / 2;  // non-negative, rows not normalized
      auto rr = random_doubles(out_size(N, r), 12 + ci);
      auto loss = [&](const std::vector<double>& xx, const std::vector<double>& pp) {
        std::vector<double> l(out_size(N, r)), lse(N);
        ref::soft_cross_entropy_fwd<double>(N, K, xx.data(), pp.data(), r, l.data(), lse.data());
        return dot(l, rr);
      };
      std::vector<double> l(out_size(N, r)), lse(N), gx(N * K), gp(N * K);
      ref::soft_cross_entropy_fwd<double>(N, K, x.data(), p.data(), r, l.data(), lse.data());
      ref::soft_cross_entropy_bwd<double>(N, K, x.data(), p.data(), lse.data(), r, rr.data(), gx.data(), gp.data());
      EXPECT_TRUE(all_close(gx, numeric_grad([&](const std::vector<double>& v) { return loss(v, p); }, x), 1e-6, 1e-8));
      EXPECT_TRUE(all_close(gp, numeric_grad([&](const std::vector<double>& v) { return loss(x, v); }, p), 1e-6, 1e-8));
      // Null outputs are skipped, the other one is unchanged.
      std::vector<double> gx2(N * K);
      ref::soft_cross_entropy_bwd<double>(N, K, x.data(), p.data(), lse.data(), r, rr.data(), gx2.data(), nullptr);
      EXPECT_EQ(gx2, gx);
    }
}

TEST(LossGradcheck, NllLossReferenceBackward) {
  for (size_t ci = 0; ci < kGrid.size(); ++ci)
    for (Reduction r : kReductions) {
      const auto [N, K] = kGrid[ci];
      SCOPED_TRACE("N=" + std::to_string(N) + " K=" + std::to_string(K) + " " + name(r));
      auto lp = random_doubles(N * K, 20 + ci);
      const Labels t = random_labels(N, K, 21 + ci);
      auto rr = random_doubles(out_size(N, r), 22 + ci);
      auto loss = [&](const std::vector<double>& v) {
        std::vector<double> l(out_size(N, r));
        ref::nll_loss_fwd<double>(N, K, v.data(), t.data(), r, l.data());
        return dot(l, rr);
      };
      std::vector<double> gx(N * K, 123.0);  // must be overwritten everywhere
      ref::nll_loss_bwd<double>(N, K, t.data(), r, rr.data(), gx.data());
      EXPECT_TRUE(all_close(gx, numeric_grad(loss, lp), 1e-6, 1e-8));
    }
}

TEST(LossGradcheck, MseLossReferenceBackward) {
  for (int64_t n : {1, 4, 13})
    for (Reduction r : kReductions) {
      SCOPED_TRACE("n=" + std::to_string(n) + " " + name(r));
      auto x = random_doubles(n, 30 + n), y = random_doubles(n, 31 + n), rr = random_doubles(out_size(n, r), 32 + n);
      auto loss = [&](const std::vector<double>& xx, const std::vector<double>& yy) {
        std::vector<double> l(out_size(n, r));
        ref::mse_loss_fwd<double>(n, xx.data(), yy.data(), r, l.data());
        return dot(l, rr);
      };
      std::vector<double> gx(n), gt(n);
      ref::mse_loss_bwd<double>(n, x.data(), y.data(), r, rr.data(), gx.data(), gt.data());
      EXPECT_TRUE(all_close(gx, numeric_grad([&](const std::vector<double>& v) { return loss(v, y); }, x), 1e-6, 1e-8));
      EXPECT_TRUE(all_close(gt, numeric_grad([&](const std::vector<double>& v) { return loss(x, v); }, y), 1e-6, 1e-8));
    }
}

TEST(LossValues, LabelSmoothingIsMixOfNllAndUniform) {
  // loss_n = (1 - eps) * (-log p[t_n]) + eps * mean_k(-log p_k), computed here from the
  // definition of log_softmax in double, independently of the kernel's q formulation.
  const int64_t N = 3, K = 4;
  auto x = random_doubles(N * K, 40);
  const Labels t = {2, 0, 3};
  for (double eps : kSmoothing) {
    std::vector<double> want(N);
    for (int64_t n = 0; n < N; ++n) {
      auto nls = neg_log_softmax(std::vector<double>(x.begin() + n * K, x.begin() + (n + 1) * K));
      double mean = 0;
      for (double v : nls) mean += v / K;
      want[n] = (1 - eps) * nls[t[n]] + eps * mean;
    }
    Tensor tx = Tensor::from_vector({N, K}, to_float(x));
    EXPECT_TRUE(all_close(to_double(ops::cross_entropy(tx, t, Reduction::None, eps)), want, 1e-6, 1e-6));
    const double s = want[0] + want[1] + want[2];
    EXPECT_NEAR(ops::cross_entropy(tx, t, Reduction::Sum, eps).item(), s, 1e-5);
    EXPECT_NEAR(ops::cross_entropy(tx, t, Reduction::Mean, eps).item(), s / N, 1e-5);
  }
  // Two equal logits: -log(1/2), whatever the smoothing.
  EXPECT_NEAR(ops::cross_entropy(Tensor::zeros({1, 2}), Labels{1}, Reduction::Mean, 0.2).item(), std::log(2.0), 1e-6);
}

TEST(LossValues, LabelsAgreeWithOneHotProbabilitiesAndNllOfLogSoftmax) {
  Generator gen(41);
  const int64_t N = 5, K = 6;
  Tensor x = Tensor::randn({N, K}, gen);
  const Labels t = random_labels(N, K, 42);
  const double eps = 0.1;
  Tensor q = Tensor::full({N, K}, static_cast<float>(eps / K));
  for (int64_t n = 0; n < N; ++n) q.at({n, t[n]}) += static_cast<float>(1 - eps);
  Tensor xa = x.clone().requires_grad_(), xb = x.clone().requires_grad_();
  Tensor la = ops::cross_entropy(xa, t, Reduction::Mean, eps), lb = ops::cross_entropy(xb, q, Reduction::Mean);
  EXPECT_NEAR(la.item(), lb.item(), 1e-6);
  la.backward();
  lb.backward();
  EXPECT_TRUE(all_close(xa.grad(), xb.grad(), 1e-5, 1e-7));
  // nll_loss of the log-probabilities is cross_entropy without smoothing.
  Tensor lp = Tensor::zeros({N, K});
  for (int64_t n = 0; n < N; ++n) {
    auto nls = neg_log_softmax(std::vector<double>(x.data() + n * K, x.data() + (n + 1) * K));
    for (int64_t k = 0; k < K; ++k) lp.at({n, k}) = static_cast<float>(-nls[k]);
  }
  EXPECT_TRUE(all_close(ops::nll_loss(lp, t, Reduction::None), ops::cross_entropy(x, t, Reduction::None), 1e-6, 1e-6));
}

TEST(LossValues, LargeLogitsStayFinite) {
  // Naive exp(1000) overflows; log-sum-exp does not.
  Tensor x = Tensor::from_vector({2, 3}, {1000.f, 0.f, -1000.f, 1000.f, 1000.f, 999.f}).requires_grad_();
  Tensor l = ops::cross_entropy(x, Labels{1, 2}, Reduction::None, 0.1);
  for (float v : l.to_vector()) EXPECT_TRUE(std::isfinite(v));
  // Row 0: log p_1 = -1000; row 1: log p_2 = -1 - log(2 + e^-1).
  const double lse1 = 1000 + std::log(2 + std::exp(-1.0));
  EXPECT_NEAR(l.at({0}), 0.9 * 1000 + 0.1 * (0 + 1000 + 2000) / 3, 1e-2);
  EXPECT_NEAR(l.at({1}), 0.9 * (lse1 - 999) + 0.1 * (3 * lse1 - 2999) / 3, 1e-3);
  l.backward(Tensor::ones({2}));
  for (float v : x.grad().to_vector()) EXPECT_TRUE(std::isfinite(v));
  EXPECT_NEAR(x.grad().at({0, 0}), 1 - 0.1 / 3, 1e-6);  // softmax 1, q = eps/K
}

TEST(LossShapes, ReductionsAndWhatGetsAGradient) {
  Generator gen(43);
  Tensor x = Tensor::randn({4, 3}, gen).requires_grad_();
  const Labels t = {0, 2, 1, 1};
  EXPECT_EQ(ops::cross_entropy(x, t).shape(), Shape{});
  EXPECT_EQ(ops::cross_entropy(x, t, Reduction::Sum).shape(), Shape{});
  EXPECT_EQ(ops::cross_entropy(x, t, Reduction::None).shape(), Shape{4});
  EXPECT_EQ(ops::nll_loss(x, t, Reduction::None).shape(), Shape{4});
  EXPECT_EQ(ops::cross_entropy(x, Tensor::ones({4, 3}), Reduction::None).shape(), Shape{4});
  // mse_loss keeps the input's shape without reduction, as PyTorch.
  EXPECT_EQ(ops::mse_loss(x, Tensor::zeros({4, 3}), Reduction::None).shape(), (Shape{4, 3}));
  EXPECT_NEAR(ops::cross_entropy(x, t, Reduction::Sum).item(), 4 * ops::cross_entropy(x, t).item(), 1e-5);
  // A target that needs no gradient gets none; the logits still do.
  Tensor p = Tensor::full({4, 3}, 1.f / 3);
  ops::cross_entropy(x, p).backward();
  EXPECT_FALSE(p.grad().defined());
  EXPECT_TRUE(x.grad().defined());
  Tensor y = Tensor::randn({4, 3}, gen);
  x.zero_grad();
  ops::mse_loss(x, y).backward();
  EXPECT_FALSE(y.grad().defined());
  // mean((x - y)^2) has gradient 2 (x - y) / n.
  EXPECT_NEAR(x.grad().at({1, 2}), 2 * (x.at({1, 2}) - y.at({1, 2})) / 12, 1e-6);
}

TEST(LossErrors, MessagesNameValuesAndShapes) {
  Generator gen(44);
  Tensor x = Tensor::randn({4, 10}, gen);
  expect_error(
      [&] {
        ops::cross_entropy(x, Labels{0, 3, 9, 12});
      },
      {"cross_entropy", "label 12 at index 3", "out of range for 10 classes"});
  expect_error([&] { ops::cross_entropy(x, Labels{0, -1, 2, 3}); }, {"label -1 at index 1", "10 classes"});
  expect_error([&] { ops::nll_loss(x, Labels{10, 0, 0, 0}); }, {"nll_loss", "label 10 at index 0", "10 classes"});
  expect_error(
      [&] {
        ops::cross_entropy(x, Labels{1, 2, 3});
      },
      {"cross_entropy", "batch size mismatch", "(4, 10)", "batch size 4", "3 labels"});
  expect_error([&] { ops::nll_loss(x, Labels{1, 2, 3, 4, 5}); }, {"nll_loss", "batch size 4", "5 labels"});
  expect_error(
      [&] {
        ops::cross_entropy(Tensor::randn({2, 3, 4}, gen), Labels{0, 1});
      },
      {"cross_entropy", "(N, K)", "(2, 3, 4)"});
  expect_error(
      [&] {
        ops::cross_entropy(x, Labels{0, 1, 2, 3}, Reduction::Mean, 1.5);
      },
      {"cross_entropy", "label_smoothing", "1.5"});
  expect_error(
      [&] {
        ops::cross_entropy(x, Tensor::ones({3, 10}));
      },
      {"cross_entropy", "batch size mismatch", "(4, 10)", "(3, 10)", "batch size 4", "batch size 3"});
  expect_error([&] { ops::cross_entropy(x, Tensor::ones({4, 9})); }, {"cross_entropy", "(4, 9)", "(4, 10)"});
  expect_error([&] { ops::mse_loss(x, Tensor::ones({4, 9})); }, {"mse_loss", "(4, 10)", "(4, 9)"});
}
