#include "convnet/nn/init.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "convnet/core/error.h"

namespace convnet::nn::init {

std::pair<int64_t, int64_t> fans(const Tensor& w) {
  CONVNET_CHECK(w.dim() >= 2, "init: fan in and fan out cannot be computed for a tensor of shape ",
                shape_str(w.shape()), " (fewer than 2 dimensions)");
  int64_t receptive = 1;
  for (int64_t d = 2; d < w.dim(); ++d) receptive *= w.size(d);
  return {w.size(1) * receptive, w.size(0) * receptive};
}

double calculate_gain(const std::string& nl, double param) {
  if (nl == "linear" || nl == "conv2d" || nl == "sigmoid" || nl == "identity") return 1.0;
  if (nl == "tanh") return 5.0 / 3.0;
  if (nl == "relu") return std::sqrt(2.0);
  if (nl == "leaky_relu") return std::sqrt(2.0 / (1.0 + param * param));
  if (nl == "selu") return 3.0 / 4.0;
  throw Error("init::calculate_gain: unsupported nonlinearity '" + nl +
              "' (linear, conv2d, sigmoid, tanh, relu, leaky_relu, selu)");
}

namespace {
thread_local int skip_depth = 0;
}  // namespace

SkipInitGuard::SkipInitGuard() {
  ++skip_depth;
}
SkipInitGuard::~SkipInitGuard() {
  --skip_depth;
}
bool init_skipped() {
  return skip_depth > 0;
}

void uniform_(Tensor& t, double lo, double hi, Generator& gen) {
  if (init_skipped()) return zeros_(t);
  gen.fill_uniform(t.data(), t.numel(), static_cast<float>(lo), static_cast<float>(hi));
}
void normal_(Tensor& t, double mean, double std, Generator& gen) {
  if (init_skipped()) return zeros_(t);
  gen.fill_normal(t.data(), t.numel(), static_cast<float>(mean), static_cast<float>(std));
}
void constant_(Tensor& t, double value) { t.fill_(static_cast<float>(value)); }
void zeros_(Tensor& t) { t.fill_(0.f); }
void ones_(Tensor& t) { t.fill_(1.f); }

void xavier_uniform_(Tensor& t, double gain, Generator& gen) {
  auto [fi, fo] = fans(t);
  const double b = gain * std::sqrt(6.0 / static_cast<double>(fi + fo));
  uniform_(t, -b, b, gen);
}
void xavier_normal_(Tensor& t, double gain, Generator& gen) {
  auto [fi, fo] = fans(t);
  normal_(t, 0.0, gain * std::sqrt(2.0 / static_cast<double>(fi + fo)), gen);
}

namespace {
double kaiming_std(const Tensor& t, double a, FanMode mode, const std::string& nl) {
  auto [fi, fo] = fans(t);
  const int64_t fan = mode == FanMode::FanIn ? fi : fo;
  CONVNET_CHECK(fan > 0, "init: fan of a tensor of shape ", shape_str(t.shape()), " is 0");
  return calculate_gain(nl, a) / std::sqrt(static_cast<double>(fan));
}
}  // namespace

void kaiming_uniform_(Tensor& t, double a, FanMode mode, const std::string& nl, Generator& gen) {
  const double b = std::sqrt(3.0) * kaiming_std(t, a, mode, nl);
  uniform_(t, -b, b, gen);
}
void kaiming_normal_(Tensor& t, double a, FanMode mode, const std::string& nl, Generator& gen) {
  normal_(t, 0.0, kaiming_std(t, a, mode, nl), gen);
}

namespace {
// erf^-1 on (-1, 1): Giles' approximation ("Approximating the erfinv function", 2010) as
// the start, then Newton steps on erf(x) - y in double precision.
double erfinv(double y) {
  if (y <= -1.0) return -std::numeric_limits<double>::infinity();
  if (y >= 1.0) return std::numeric_limits<double>::infinity();
  double w = -std::log((1.0 - y) * (1.0 + y)), p;
  if (w < 5.0) {
    w -= 2.5;
    p = 2.81022636e-08;
    for (double c : {3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503, -0.00417768164,
                     0.246640727, 1.50140941})
      p = c + p * w;
  } else {
    w = std::sqrt(w) - 3.0;
    p = -0.000200214257;
    for (double c : {0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047,
                     1.00167406, 2.83297682})
      p = c + p * w;
  }
  double x = p * y;
  const double two_over_sqrt_pi = 1.1283791670955126;
  for (int i = 0; i < 3; ++i) {
    const double d = two_over_sqrt_pi * std::exp(-x * x);
    if (d == 0.0) break;
    x -= (std::erf(x) - y) / d;
  }
  return x;
}
}  // namespace

void trunc_normal_(Tensor& t, double mean, double std, double a, double b, Generator& gen) {
  CONVNET_CHECK(std > 0.0, "init::trunc_normal_: std must be positive, got ", std);
  CONVNET_CHECK(a < b, "init::trunc_normal_: the interval [a, b] = [", a, ", ", b, "] is empty");
  if (init_skipped()) return zeros_(t);
  auto cdf = [](double z) { return 0.5 * (1.0 + std::erf(z / std::sqrt(2.0))); };
  const double lo = cdf((a - mean) / std), hi = cdf((b - mean) / std);
  float* p = t.data();
  const int64_t n = t.numel();
  // The draws in order on this thread, the inverse-CDF transforms (erfinv: a logarithm and
  // three Newton steps) on all threads.
  constexpr int64_t kChunk = 1 << 17;
  std::vector<uint64_t> draws;
  for (int64_t i0 = 0; i0 < n; i0 += kChunk) {
    const int64_t m = std::min(kChunk, n - i0);
    draws.resize(static_cast<size_t>(m));
    gen.fill_u64(draws.data(), m);
#pragma omp parallel for schedule(static) if (m >= 4096)
    for (int64_t i = 0; i < m; ++i) {
      // 53 random bits, centred in their bin so that u is never exactly lo or hi.
      const double r = (static_cast<double>(draws[i] >> 11) + 0.5) * 0x1p-53;
      const double u = lo + (hi - lo) * r;
      const double x = mean + std * std::sqrt(2.0) * erfinv(2.0 * u - 1.0);
      p[i0 + i] = static_cast<float>(std::clamp(x, a, b));
    }
  }
}

void default_weight_init_(Tensor& w, Tensor& b, Generator& gen) {
  kaiming_uniform_(w, std::sqrt(5.0), FanMode::FanIn, "leaky_relu", gen);
  if (b.defined()) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(fans(w).first));
    uniform_(b, -bound, bound, gen);
  }
}

}  // namespace convnet::nn::init
