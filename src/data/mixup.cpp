// MixUp / CutMix on a whole batch, with soft targets.
#include "convnet/data/mixup.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "convnet/core/error.h"
#include "kernels/vector.h"

namespace convnet::data {

namespace {

// Uniform in (0, 1): never 0, so log() and pow(u, 1/a) stay finite.
double open01(Generator& gen) {
  return (static_cast<double>(gen.next_u64() >> 11) + 0.5) / 9007199254740992.0;
}

// Gamma(a, 1) by Marsaglia & Tsang (2000); for a < 1, Gamma(a + 1) U^(1/a).
double sample_gamma(double a, Generator& gen) {
  if (a < 1) return sample_gamma(a + 1, gen) * std::pow(open01(gen), 1.0 / a);
  const double d = a - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    const double x = gen.normal();
    double v = 1 + c * x;
    if (v <= 0) continue;
    v = v * v * v;
    if (std::log(open01(gen)) < 0.5 * x * x + d - d * v + d * std::log(v)) return d * v;
  }
}

std::vector<int64_t> randperm(int64_t n, Generator& gen) {
  std::vector<int64_t> p(static_cast<size_t>(n));
  std::iota(p.begin(), p.end(), int64_t{0});
  for (int64_t i = n - 1; i > 0; --i) std::swap(p[i], p[gen.randint(static_cast<uint64_t>(i + 1))]);
  return p;
}

void check_batch(const Tensor& x, const std::vector<int64_t>& y, int64_t K, double alpha, const char* fn) {
  CONVNET_CHECK(x.defined() && x.dim() == 4, fn, ": expected a batch of shape (N, C, H, W), got ",
                x.defined() ? shape_str(x.shape()) : std::string("an undefined tensor"));
  CONVNET_CHECK(x.size(0) == static_cast<int64_t>(y.size()), fn, ": ", x.size(0), " images but ", y.size(), " labels");
  CONVNET_CHECK(alpha > 0, fn, ": alpha must be positive, got ", alpha);
  CONVNET_CHECK(K > 0, fn, ": the number of classes must be positive, got ", K);
}

}  // namespace

double sample_beta(double a, double b, Generator& gen) {
  CONVNET_CHECK(a > 0 && b > 0, "sample_beta: parameters must be positive, got (", a, ", ", b, ")");
  const double x = sample_gamma(a, gen), y = sample_gamma(b, gen);
  // Both can underflow to 0 for tiny a, b, where Beta is nearly Bernoulli(a / (a + b)).
  if (x + y == 0) return open01(gen) < a / (a + b) ? 1.0 : 0.0;
  return x / (x + y);
}

Tensor mixed_one_hot(const std::vector<int64_t>& y, const std::vector<int64_t>& perm, double lambda, int64_t K) {
  const auto N = static_cast<int64_t>(y.size());
  CONVNET_CHECK(static_cast<int64_t>(perm.size()) == N, "mixed_one_hot: ", y.size(), " labels but a permutation of ",
                perm.size());
  Tensor t = Tensor::zeros({N, K});
  float* p = t.data();
  for (int64_t i = 0; i < N; ++i) {
    const int64_t a = y[i], b = y[perm[i]];
    CONVNET_CHECK(a >= 0 && a < K && b >= 0 && b < K, "mixup: label ", (a >= 0 && a < K) ? b : a,
                  " is out of range for ", K, " classes");
    p[i * K + a] += static_cast<float>(lambda);
    p[i * K + b] += static_cast<float>(1 - lambda);
  }
  return t;
}

Tensor mixup(Tensor& x, const std::vector<int64_t>& y, int64_t K, double alpha, Generator& gen, MixInfo* info) {
  check_batch(x, y, K, alpha, "mixup");
  const double lam = sample_beta(alpha, alpha, gen);
  const int64_t N = x.size(0), S = x.numel() / std::max<int64_t>(N, 1);
  const std::vector<int64_t> perm = randperm(N, gen);
  const Tensor src = x.clone();  // the unmixed batch: x[perm[i]] may already be mixed
  kernels::keys::mix_rows(N, S, static_cast<float>(lam), perm.data(), src.data(), x.data());
  if (info) *info = MixInfo{lam, perm, false, 0, 0, 0, 0};
  return mixed_one_hot(y, perm, lam, K);
}

Tensor cutmix(Tensor& x, const std::vector<int64_t>& y, int64_t K, double alpha, Generator& gen, MixInfo* info) {
  check_batch(x, y, K, alpha, "cutmix");
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  double lam = sample_beta(alpha, alpha, gen);
  const std::vector<int64_t> perm = randperm(N, gen);
  // timm's rand_bbox: cut (H, W) * sqrt(1 - lambda), centre uniform, half-extents clipped.
  const double r = std::sqrt(1 - lam);
  const auto ch = static_cast<int64_t>(static_cast<double>(H) * r),
             cw = static_cast<int64_t>(static_cast<double>(W) * r);
  const auto cy = static_cast<int64_t>(gen.randint(static_cast<uint64_t>(H)));
  const auto cx = static_cast<int64_t>(gen.randint(static_cast<uint64_t>(W)));
  const int64_t y0 = std::clamp<int64_t>(cy - ch / 2, 0, H), y1 = std::clamp<int64_t>(cy + ch / 2, 0, H);
  const int64_t x0 = std::clamp<int64_t>(cx - cw / 2, 0, W), x1 = std::clamp<int64_t>(cx + cw / 2, 0, W);
  lam = 1 - static_cast<double>((y1 - y0) * (x1 - x0)) / static_cast<double>(H * W);
  const Tensor src = x.clone();
  kernels::keys::cutmix_paste(N, C, H, W, y0, y1, x0, x1, perm.data(), src.data(), x.data());
  if (info) *info = MixInfo{lam, perm, true, y0, x0, y1 - y0, x1 - x0};
  return mixed_one_hot(y, perm, lam, K);
}

Tensor mix_batch(Tensor& x, const std::vector<int64_t>& y, int64_t K, double mixup_alpha, double cutmix_alpha,
                 Generator& gen, MixInfo* info) {
  CONVNET_CHECK(mixup_alpha >= 0 && cutmix_alpha >= 0, "mix_batch: alphas must be non-negative, got mixup ",
                mixup_alpha, " and cutmix ", cutmix_alpha);
  bool use_cutmix = cutmix_alpha > 0;
  if (mixup_alpha > 0 && cutmix_alpha > 0) use_cutmix = gen.uniform01() < 0.5f;
  if (use_cutmix) return cutmix(x, y, K, cutmix_alpha, gen, info);
  if (mixup_alpha > 0) return mixup(x, y, K, mixup_alpha, gen, info);
  return Tensor();
}

}  // namespace convnet::data
