// Division, maximum, minimum, power and select on the CPU (kernels/arith.h): vectorized
// loops over one contiguous chunk per thread (see parallel.h). pow goes through libm, with
// the squares of decomposed normalizations (x^2) as one multiply (the same rounding).
#include "kernels/arith.h"

#include <cmath>

#include "kernels/cpu/parallel.h"
#include "kernels/registry.h"

namespace convnet::kernels::cpu {

namespace {

CONVNET_SIMD void div_f(int64_t n, const float* a, const float* b, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = a[i] / b[i];
}
CONVNET_SIMD void maximum_f(int64_t n, const float* a, const float* b, float* y) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = a[i] != a[i] || a[i] > b[i] ? a[i] : b[i];
}
CONVNET_SIMD void minimum_f(int64_t n, const float* a, const float* b, float* y) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = a[i] != a[i] || a[i] < b[i] ? a[i] : b[i];
}
void pow_f(int64_t n, const float* a, const float* b, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = b[i] == 2.f ? a[i] * a[i] : std::pow(a[i], b[i]);
}
CONVNET_SIMD void div_b(int64_t n, const float* b, const float* y, const float* gy, float* ga, float* gb) {
  if (ga)
    for (int64_t i = 0; i < n; ++i) ga[i] = gy[i] / b[i];
  if (gb)
    for (int64_t i = 0; i < n; ++i) gb[i] = -gy[i] * y[i] / b[i];
}
// sign = +1: maximum, -1: minimum (the comparisons of sign * a against sign * b).
CONVNET_SIMD void extremum_b(int64_t n, float sign, const float* a, const float* b, const float* gy, float* ga,
                             float* gb) {
  if (ga) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) ga[i] = a[i] == b[i] ? 0.5f * gy[i] : sign * a[i] < sign * b[i] ? 0.f : gy[i];
  }
  if (gb) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) gb[i] = a[i] == b[i] ? 0.5f * gy[i] : sign * a[i] > sign * b[i] ? 0.f : gy[i];
  }
}
void pow_b(int64_t n, const float* a, const float* b, const float* y, const float* gy, float* ga, float* gb) {
  if (ga)
    for (int64_t i = 0; i < n; ++i)
      ga[i] = b[i] == 0.f ? 0.f : b[i] == 2.f ? 2.f * a[i] * gy[i] : gy[i] * b[i] * std::pow(a[i], b[i] - 1.f);
  if (gb)
    for (int64_t i = 0; i < n; ++i) gb[i] = a[i] == 0.f && b[i] >= 0.f ? 0.f : gy[i] * y[i] * std::log(a[i]);
}
CONVNET_SIMD void where_f(int64_t n, const float* c, const float* a, const float* b, float* y) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = c[i] != 0.f ? a[i] : b[i];
}

}  // namespace

void div(int64_t n, const float* a, const float* b, float* y) {
  parallel_chunks(n, [&](int64_t lo, int64_t hi) { div_f(hi - lo, a + lo, b + lo, y + lo); });
}
void maximum(int64_t n, const float* a, const float* b, float* y) {
  parallel_chunks(n, [&](int64_t lo, int64_t hi) { maximum_f(hi - lo, a + lo, b + lo, y + lo); });
}
void minimum(int64_t n, const float* a, const float* b, float* y) {
  parallel_chunks(n, [&](int64_t lo, int64_t hi) { minimum_f(hi - lo, a + lo, b + lo, y + lo); });
}
void pow(int64_t n, const float* a, const float* b, float* y) {
  parallel_chunks(
      n, [&](int64_t lo, int64_t hi) { pow_f(hi - lo, a + lo, b + lo, y + lo); }, kGrain / 8);
}
// Offsets a nullable output pointer.
inline float* at(float* p, int64_t lo) {
  return p ? p + lo : nullptr;
}
void div_bwd(int64_t n, const float*, const float* b, const float* y, const float* gy, float* ga, float* gb) {
  parallel_chunks(n, [&](int64_t lo, int64_t hi) { div_b(hi - lo, b + lo, y + lo, gy + lo, at(ga, lo), at(gb, lo)); });
}
void maximum_bwd(int64_t n, const float* a, const float* b, const float*, const float* gy, float* ga, float* gb) {
  parallel_chunks(
      n, [&](int64_t lo, int64_t hi) { extremum_b(hi - lo, 1.f, a + lo, b + lo, gy + lo, at(ga, lo), at(gb, lo)); });
}
void minimum_bwd(int64_t n, const float* a, const float* b, const float*, const float* gy, float* ga, float* gb) {
  parallel_chunks(
      n, [&](int64_t lo, int64_t hi) { extremum_b(hi - lo, -1.f, a + lo, b + lo, gy + lo, at(ga, lo), at(gb, lo)); });
}
void pow_bwd(int64_t n, const float* a, const float* b, const float* y, const float* gy, float* ga, float* gb) {
  parallel_chunks(
      n, [&](int64_t lo, int64_t hi) { pow_b(hi - lo, a + lo, b + lo, y + lo, gy + lo, at(ga, lo), at(gb, lo)); },
      kGrain / 8);
}
void where(int64_t n, const float* c, const float* a, const float* b, float* y) {
  parallel_chunks(n, [&](int64_t lo, int64_t hi) { where_f(hi - lo, c + lo, a + lo, b + lo, y + lo); });
}

}  // namespace convnet::kernels::cpu

namespace convnet::kernels {
void register_cpu_arith() {
  keys::div.add("cpu", 10, &cpu::div);
  keys::maximum.add("cpu", 10, &cpu::maximum);
  keys::minimum.add("cpu", 10, &cpu::minimum);
  keys::pow.add("cpu", 10, &cpu::pow);
  keys::div_bwd.add("cpu", 10, &cpu::div_bwd);
  keys::maximum_bwd.add("cpu", 10, &cpu::maximum_bwd);
  keys::minimum_bwd.add("cpu", 10, &cpu::minimum_bwd);
  keys::pow_bwd.add("cpu", 10, &cpu::pow_bwd);
  keys::where.add("cpu", 10, &cpu::where);
}
}  // namespace convnet::kernels
