// Activations on the CPU: the reference's formulas (kernels/ref/activation.cpp), written as
// branch-free loops that the compiler vectorizes, split over the threads in contiguous
// chunks. Semantics match the reference exactly, NaN included: a comparison with NaN is
// false, so `x < 0 ? 0 : x` passes NaN through as the reference does.
#include "kernels/activation.h"

#include <algorithm>
#include <cmath>

#include "kernels/cpu/parallel.h"
#include "kernels/cpu/vec_math.h"
#include "kernels/registry.h"

namespace convnet::kernels::cpu {

namespace {

CONVNET_SIMD void relu_f(int64_t n, const float* x, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] < 0.f ? 0.f : x[i];
}
CONVNET_SIMD void relu_b(int64_t n, const float* x, const float* gy, float* gx) {
  for (int64_t i = 0; i < n; ++i) gx[i] = x[i] > 0.f ? gy[i] : 0.f;
}
CONVNET_SIMD void leaky_f(int64_t n, float a, const float* x, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] > 0.f ? x[i] : a * x[i];
}
CONVNET_SIMD void leaky_b(int64_t n, float a, const float* x, const float* gy, float* gx) {
  for (int64_t i = 0; i < n; ++i) gx[i] = x[i] > 0.f ? gy[i] : a * gy[i];
}
CONVNET_SIMD void relu6_f(int64_t n, const float* x, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] < 0.f ? 0.f : (x[i] > 6.f ? 6.f : x[i]);
}
CONVNET_SIMD void relu6_b(int64_t n, const float* x, const float* gy, float* gx) {
  for (int64_t i = 0; i < n; ++i) gx[i] = x[i] <= 0.f || x[i] >= 6.f ? 0.f : gy[i];
}
// tanh calls libm per element; the threads are what helps it. The
void tanh_f(int64_t n, const float* x, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
}
CONVNET_SIMD void tanh_b(int64_t n, const float* y, const float* gy, float* gx) {
  for (int64_t i = 0; i < n; ++i) gx[i] = gy[i] * (1.f - y[i] * y[i]);
}
// exp-based ones (sigmoid, silu, the tanh form of gelu) through the vectorized exp of
// kernels/cpu/vec_math.h.
CONVNET_SIMD void sigmoid_f(int64_t n, const float* x, float* y) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = sigmoid_v(x[i]);
}
CONVNET_SIMD void sigmoid_b(int64_t n, const float* y, const float* gy, float* gx) {
  for (int64_t i = 0; i < n; ++i) gx[i] = gy[i] * y[i] * (1.f - y[i]);
}

// MobileNetV3's two: branch-free, so they vectorize like relu6.
CONVNET_SIMD void hardsigmoid_f(int64_t n, const float* x, float* y) {
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i] + 3.f;
    y[i] = (v < 0.f ? 0.f : (v > 6.f ? 6.f : v)) * (1.f / 6.f);
  }
}
CONVNET_SIMD void hardsigmoid_b(int64_t n, const float* x, const float* gy, float* gx) {
  for (int64_t i = 0; i < n; ++i) gx[i] = x[i] > -3.f && x[i] < 3.f ? gy[i] * (1.f / 6.f) : 0.f;
}
CONVNET_SIMD void hardswish_f(int64_t n, const float* x, float* y) {
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i] + 3.f;
    y[i] = x[i] * (v < 0.f ? 0.f : (v > 6.f ? 6.f : v)) * (1.f / 6.f);
  }
}
CONVNET_SIMD void hardswish_b(int64_t n, const float* x, const float* gy, float* gx) {
  for (int64_t i = 0; i < n; ++i)
    gx[i] = x[i] < -3.f ? 0.f : (x[i] <= 3.f ? gy[i] * (x[i] * (1.f / 3.f) + 0.5f) : gy[i]);
}
CONVNET_SIMD void softsign_f(int64_t n, const float* x, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] / (1.f + std::fabs(x[i]));
}
CONVNET_SIMD void softsign_b(int64_t n, const float* x, const float* gy, float* gx) {
  for (int64_t i = 0; i < n; ++i) {
    const float d = 1.f + std::fabs(x[i]);
    gx[i] = gy[i] / (d * d);
  }
}
// The transcendental ones call libm per element (as tanh and sigmoid); threads help them.
inline float sigmoid1(float x) {
  if (x >= 0.f) return 1.f / (1.f + std::exp(-x));
  const float e = std::exp(x);
  return e / (1.f + e);
}
constexpr float kRsqrt2 = 0.70710678118654752f, kInvSqrt2Pi = 0.39894228040143268f;
constexpr float kGeluBeta = 0.79788456080286536f, kGeluKappa = 0.044715f;
constexpr float kSeluAlpha = 1.6732632423543772848f, kSeluScale = 1.0507009873554804934f;
CONVNET_SIMD void silu_f(int64_t n, const float* x, float* y) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * sigmoid_v(x[i]);
}
CONVNET_SIMD void silu_b(int64_t n, const float* x, const float* gy, float* gx) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const float s = sigmoid_v(x[i]);
    gx[i] = gy[i] * s * (1.f + x[i] * (1.f - s));
  }
}
CONVNET_SIMD void gelu_f(int64_t n, const float* x, float* y) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = 0.5f * x[i] * (1.f + erf_v(x[i] * kRsqrt2));
}
CONVNET_SIMD void gelu_b(int64_t n, const float* x, const float* gy, float* gx) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i)
    gx[i] = gy[i] * (0.5f * (1.f + erf_v(x[i] * kRsqrt2)) + x[i] * kInvSqrt2Pi * exp_nonpos(-0.5f * x[i] * x[i]));
}
// As the reference: s = sigmoid(2u) = (1 + tanh u) / 2 avoids the cancellation of 1 + tanh u.
CONVNET_SIMD void gelu_tanh_f(int64_t n, const float* x, float* y) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * sigmoid_v(2.f * kGeluBeta * (x[i] + kGeluKappa * x[i] * x[i] * x[i]));
}
CONVNET_SIMD void gelu_tanh_b(int64_t n, const float* x, const float* gy, float* gx) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const float x2 = x[i] * x[i], s = sigmoid_v(2.f * kGeluBeta * (x[i] + kGeluKappa * x2 * x[i]));
    gx[i] = gy[i] * (s + 2.f * x[i] * s * (1.f - s) * kGeluBeta * (1.f + 3.f * kGeluKappa * x2));
  }
}
void elu_f(int64_t n, float a, const float* x, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] > 0.f ? x[i] : a * std::expm1(x[i]);
}
void elu_b(int64_t n, float a, const float* x, const float* gy, float* gx) {
  for (int64_t i = 0; i < n; ++i) gx[i] = x[i] > 0.f ? gy[i] : gy[i] * a * std::exp(x[i]);
}
void selu_f(int64_t n, const float* x, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = kSeluScale * (x[i] > 0.f ? x[i] : kSeluAlpha * std::expm1(x[i]));
}
void selu_b(int64_t n, const float* x, const float* gy, float* gx) {
  for (int64_t i = 0; i < n; ++i)
    gx[i] = x[i] > 0.f ? gy[i] * kSeluScale : gy[i] * (kSeluScale * kSeluAlpha) * std::exp(x[i]);
}
CONVNET_SIMD void erf_f(int64_t n, const float* x, float* y) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = erf_v(x[i]);
}
CONVNET_SIMD void erf_b(int64_t n, const float* x, const float* gy, float* gx) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) gx[i] = gy[i] * 1.12837916709551257f * exp_nonpos(-x[i] * x[i]);
}
void exp_f(int64_t n, const float* x, float* y) {  // libm: the whole range, within 1 ulp
  for (int64_t i = 0; i < n; ++i) y[i] = std::exp(x[i]);
}
CONVNET_SIMD void exp_b(int64_t n, const float* y, const float* gy, float* gx) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) gx[i] = gy[i] * y[i];
}
CONVNET_SIMD void abs_f(int64_t n, const float* x, float* y) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = std::fabs(x[i]);
}
CONVNET_SIMD void abs_b(int64_t n, const float* x, const float* gy, float* gx) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) gx[i] = x[i] > 0.f ? gy[i] : x[i] < 0.f ? -gy[i] : x[i] == 0.f ? 0.f : x[i];
}
CONVNET_SIMD void sqrt_f(int64_t n, const float* x, float* y) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = std::sqrt(x[i]);
}
CONVNET_SIMD void sqrt_b(int64_t n, const float* y, const float* gy, float* gx) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) gx[i] = gy[i] / (2.f * y[i]);
}
CONVNET_SIMD void floor_f(int64_t n, const float* x, float* y) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = std::floor(x[i]);
}
CONVNET_SIMD void ceil_f(int64_t n, const float* x, float* y) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = std::ceil(x[i]);
}
CONVNET_SIMD void reciprocal_f(int64_t n, const float* x, float* y) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = 1.f / x[i];
}
CONVNET_SIMD void reciprocal_b(int64_t n, const float* y, const float* gy, float* gx) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) gx[i] = -gy[i] * y[i] * y[i];
}
void log_f(int64_t n, const float* x, float* y) {  // libm: within 1 ulp
  for (int64_t i = 0; i < n; ++i) y[i] = std::log(x[i]);
}
CONVNET_SIMD void log_b(int64_t n, const float* x, const float* gy, float* gx) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) gx[i] = gy[i] / x[i];
}
void softplus_f(int64_t n, float beta, const float* x, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * beta > 20.f ? x[i] : std::log1p(std::exp(x[i] * beta)) / beta;
}
void softplus_b(int64_t n, float beta, const float* x, const float* gy, float* gx) {
  for (int64_t i = 0; i < n; ++i) gx[i] = x[i] * beta > 20.f ? gy[i] : gy[i] * sigmoid1(x[i] * beta);
}

}  // namespace

void relu_fwd(int64_t n, float, const float* x, float* y) {
  parallel_chunks(n, [&](int64_t b, int64_t e) { relu_f(e - b, x + b, y + b); });
}
void relu_bwd(int64_t n, float, const float* x, const float*, const float* gy, float* gx) {
  parallel_chunks(n, [&](int64_t b, int64_t e) { relu_b(e - b, x + b, gy + b, gx + b); });
}
void leaky_relu_fwd(int64_t n, float a, const float* x, float* y) {
  parallel_chunks(n, [&](int64_t b, int64_t e) { leaky_f(e - b, a, x + b, y + b); });
}
void leaky_relu_bwd(int64_t n, float a, const float* x, const float*, const float* gy, float* gx) {
  parallel_chunks(n, [&](int64_t b, int64_t e) { leaky_b(e - b, a, x + b, gy + b, gx + b); });
}
void relu6_fwd(int64_t n, float, const float* x, float* y) {
  parallel_chunks(n, [&](int64_t b, int64_t e) { relu6_f(e - b, x + b, y + b); });
}
void relu6_bwd(int64_t n, float, const float* x, const float*, const float* gy, float* gx) {
  parallel_chunks(n, [&](int64_t b, int64_t e) { relu6_b(e - b, x + b, gy + b, gx + b); });
}
void tanh_fwd(int64_t n, float, const float* x, float* y) {
  parallel_chunks(
      n, [&](int64_t b, int64_t e) { tanh_f(e - b, x + b, y + b); }, kGrain / 8);
}
void tanh_bwd(int64_t n, float, const float*, const float* y, const float* gy, float* gx) {
  parallel_chunks(n, [&](int64_t b, int64_t e) { tanh_b(e - b, y + b, gy + b, gx + b); });
}
void sigmoid_fwd(int64_t n, float, const float* x, float* y) {
  parallel_chunks(
      n, [&](int64_t b, int64_t e) { sigmoid_f(e - b, x + b, y + b); }, kGrain / 8);
}
void sigmoid_bwd(int64_t n, float, const float*, const float* y, const float* gy, float* gx) {
  parallel_chunks(n, [&](int64_t b, int64_t e) { sigmoid_b(e - b, y + b, gy + b, gx + b); });
}

void hardsigmoid_fwd(int64_t n, float, const float* x, float* y) {
  parallel_chunks(n, [&](int64_t b, int64_t e) { hardsigmoid_f(e - b, x + b, y + b); });
}
void hardsigmoid_bwd(int64_t n, float, const float* x, const float*, const float* gy, float* gx) {
  parallel_chunks(n, [&](int64_t b, int64_t e) { hardsigmoid_b(e - b, x + b, gy + b, gx + b); });
}
void hardswish_fwd(int64_t n, float, const float* x, float* y) {
  parallel_chunks(n, [&](int64_t b, int64_t e) { hardswish_f(e - b, x + b, y + b); });
}
void hardswish_bwd(int64_t n, float, const float* x, const float*, const float* gy, float* gx) {
  parallel_chunks(n, [&](int64_t b, int64_t e) { hardswish_b(e - b, x + b, gy + b, gx + b); });
}
void softsign_fwd(int64_t n, float, const float* x, float* y) {
  parallel_chunks(n, [&](int64_t b, int64_t e) { softsign_f(e - b, x + b, y + b); });
}
void softsign_bwd(int64_t n, float, const float* x, const float*, const float* gy, float* gx) {
  parallel_chunks(n, [&](int64_t b, int64_t e) { softsign_b(e - b, x + b, gy + b, gx + b); });
}
void silu_fwd(int64_t n, float, const float* x, float* y) {
  parallel_chunks(
      n, [&](int64_t b, int64_t e) { silu_f(e - b, x + b, y + b); }, kGrain / 8);
}
void silu_bwd(int64_t n, float, const float* x, const float*, const float* gy, float* gx) {
  parallel_chunks(
      n, [&](int64_t b, int64_t e) { silu_b(e - b, x + b, gy + b, gx + b); }, kGrain / 8);
}
void gelu_fwd(int64_t n, float, const float* x, float* y) {
  parallel_chunks(
      n, [&](int64_t b, int64_t e) { gelu_f(e - b, x + b, y + b); }, kGrain / 8);
}
void gelu_bwd(int64_t n, float, const float* x, const float*, const float* gy, float* gx) {
  parallel_chunks(
      n, [&](int64_t b, int64_t e) { gelu_b(e - b, x + b, gy + b, gx + b); }, kGrain / 8);
}
void gelu_tanh_fwd(int64_t n, float, const float* x, float* y) {
  parallel_chunks(
      n, [&](int64_t b, int64_t e) { gelu_tanh_f(e - b, x + b, y + b); }, kGrain / 8);
}
void gelu_tanh_bwd(int64_t n, float, const float* x, const float*, const float* gy, float* gx) {
  parallel_chunks(
      n, [&](int64_t b, int64_t e) { gelu_tanh_b(e - b, x + b, gy + b, gx + b); }, kGrain / 8);
}
void selu_fwd(int64_t n, float, const float* x, float* y) {
  parallel_chunks(
      n, [&](int64_t b, int64_t e) { selu_f(e - b, x + b, y + b); }, kGrain / 8);
}
void selu_bwd(int64_t n, float, const float* x, const float*, const float* gy, float* gx) {
  parallel_chunks(
      n, [&](int64_t b, int64_t e) { selu_b(e - b, x + b, gy + b, gx + b); }, kGrain / 8);
}
void elu_fwd(int64_t n, float a, const float* x, float* y) {
  parallel_chunks(
      n, [&](int64_t b, int64_t e) { elu_f(e - b, a, x + b, y + b); }, kGrain / 8);
}
void elu_bwd(int64_t n, float a, const float* x, const float*, const float* gy, float* gx) {
  parallel_chunks(
      n, [&](int64_t b, int64_t e) { elu_b(e - b, a, x + b, gy + b, gx + b); }, kGrain / 8);
}
void softplus_fwd(int64_t n, float a, const float* x, float* y) {
  parallel_chunks(
      n, [&](int64_t b, int64_t e) { softplus_f(e - b, a, x + b, y + b); }, kGrain / 8);
}
void softplus_bwd(int64_t n, float a, const float* x, const float*, const float* gy, float* gx) {
  parallel_chunks(
      n, [&](int64_t b, int64_t e) { softplus_b(e - b, a, x + b, gy + b, gx + b); }, kGrain / 8);
}
void floor_fwd(int64_t n, float, const float* x, float* y) {
  parallel_chunks(n, [&](int64_t b, int64_t e) { floor_f(e - b, x + b, y + b); });
}
void ceil_fwd(int64_t n, float, const float* x, float* y) {
  parallel_chunks(n, [&](int64_t b, int64_t e) { ceil_f(e - b, x + b, y + b); });
}
void step_bwd(int64_t n, float, const float*, const float*, const float*, float* gx) {  // floor', ceil'
  parallel_chunks(n, [&](int64_t b, int64_t e) { std::fill(gx + b, gx + e, 0.f); });
}
void reciprocal_fwd(int64_t n, float, const float* x, float* y) {
  parallel_chunks(n, [&](int64_t b, int64_t e) { reciprocal_f(e - b, x + b, y + b); });
}
void reciprocal_bwd(int64_t n, float, const float*, const float* y, const float* gy, float* gx) {
  parallel_chunks(n, [&](int64_t b, int64_t e) { reciprocal_b(e - b, y + b, gy + b, gx + b); });
}
void log_fwd(int64_t n, float, const float* x, float* y) {
  parallel_chunks(
      n, [&](int64_t b, int64_t e) { log_f(e - b, x + b, y + b); }, kGrain / 8);
}
void log_bwd(int64_t n, float, const float* x, const float*, const float* gy, float* gx) {
  parallel_chunks(n, [&](int64_t b, int64_t e) { log_b(e - b, x + b, gy + b, gx + b); });
}
void exp_fwd(int64_t n, float, const float* x, float* y) {
  parallel_chunks(
      n, [&](int64_t b, int64_t e) { exp_f(e - b, x + b, y + b); }, kGrain / 8);
}
void exp_bwd(int64_t n, float, const float*, const float* y, const float* gy, float* gx) {
  parallel_chunks(n, [&](int64_t b, int64_t e) { exp_b(e - b, y + b, gy + b, gx + b); });
}
void abs_fwd(int64_t n, float, const float* x, float* y) {
  parallel_chunks(n, [&](int64_t b, int64_t e) { abs_f(e - b, x + b, y + b); });
}
void abs_bwd(int64_t n, float, const float* x, const float*, const float* gy, float* gx) {
  parallel_chunks(n, [&](int64_t b, int64_t e) { abs_b(e - b, x + b, gy + b, gx + b); });
}
void sqrt_fwd(int64_t n, float, const float* x, float* y) {
  parallel_chunks(n, [&](int64_t b, int64_t e) { sqrt_f(e - b, x + b, y + b); });
}
void sqrt_bwd(int64_t n, float, const float*, const float* y, const float* gy, float* gx) {
  parallel_chunks(n, [&](int64_t b, int64_t e) { sqrt_b(e - b, y + b, gy + b, gx + b); });
}
void erf_fwd(int64_t n, float, const float* x, float* y) {
  parallel_chunks(
      n, [&](int64_t b, int64_t e) { erf_f(e - b, x + b, y + b); }, kGrain / 8);
}
void erf_bwd(int64_t n, float, const float* x, const float*, const float* gy, float* gx) {
  parallel_chunks(
      n, [&](int64_t b, int64_t e) { erf_b(e - b, x + b, gy + b, gx + b); }, kGrain / 8);
}

}  // namespace convnet::kernels::cpu

namespace convnet::kernels {
void register_cpu_activation() {
  keys::relu_fwd.add("cpu", 10, &cpu::relu_fwd);
  keys::relu_bwd.add("cpu", 10, &cpu::relu_bwd);
  keys::leaky_relu_fwd.add("cpu", 10, &cpu::leaky_relu_fwd);
  keys::leaky_relu_bwd.add("cpu", 10, &cpu::leaky_relu_bwd);
  keys::relu6_fwd.add("cpu", 10, &cpu::relu6_fwd);
  keys::relu6_bwd.add("cpu", 10, &cpu::relu6_bwd);
  keys::tanh_fwd.add("cpu", 10, &cpu::tanh_fwd);
  keys::tanh_bwd.add("cpu", 10, &cpu::tanh_bwd);
  keys::sigmoid_fwd.add("cpu", 10, &cpu::sigmoid_fwd);
  keys::sigmoid_bwd.add("cpu", 10, &cpu::sigmoid_bwd);
  keys::hardsigmoid_fwd.add("cpu", 10, &cpu::hardsigmoid_fwd);
  keys::hardsigmoid_bwd.add("cpu", 10, &cpu::hardsigmoid_bwd);
  keys::hardswish_fwd.add("cpu", 10, &cpu::hardswish_fwd);
  keys::hardswish_bwd.add("cpu", 10, &cpu::hardswish_bwd);
  keys::silu_fwd.add("cpu", 10, &cpu::silu_fwd);
  keys::silu_bwd.add("cpu", 10, &cpu::silu_bwd);
  keys::gelu_fwd.add("cpu", 10, &cpu::gelu_fwd);
  keys::gelu_bwd.add("cpu", 10, &cpu::gelu_bwd);
  keys::gelu_tanh_fwd.add("cpu", 10, &cpu::gelu_tanh_fwd);
  keys::gelu_tanh_bwd.add("cpu", 10, &cpu::gelu_tanh_bwd);
  keys::elu_fwd.add("cpu", 10, &cpu::elu_fwd);
  keys::elu_bwd.add("cpu", 10, &cpu::elu_bwd);
  keys::selu_fwd.add("cpu", 10, &cpu::selu_fwd);
  keys::selu_bwd.add("cpu", 10, &cpu::selu_bwd);
  keys::softplus_fwd.add("cpu", 10, &cpu::softplus_fwd);
  keys::softplus_bwd.add("cpu", 10, &cpu::softplus_bwd);
  keys::softsign_fwd.add("cpu", 10, &cpu::softsign_fwd);
  keys::softsign_bwd.add("cpu", 10, &cpu::softsign_bwd);
  keys::floor_fwd.add("cpu", 10, &cpu::floor_fwd);
  keys::floor_bwd.add("cpu", 10, &cpu::step_bwd);
  keys::ceil_fwd.add("cpu", 10, &cpu::ceil_fwd);
  keys::ceil_bwd.add("cpu", 10, &cpu::step_bwd);
  keys::reciprocal_fwd.add("cpu", 10, &cpu::reciprocal_fwd);
  keys::reciprocal_bwd.add("cpu", 10, &cpu::reciprocal_bwd);
  keys::log_fwd.add("cpu", 10, &cpu::log_fwd);
  keys::log_bwd.add("cpu", 10, &cpu::log_bwd);
  keys::exp_fwd.add("cpu", 10, &cpu::exp_fwd);
  keys::exp_bwd.add("cpu", 10, &cpu::exp_bwd);
  keys::abs_fwd.add("cpu", 10, &cpu::abs_fwd);
  keys::abs_bwd.add("cpu", 10, &cpu::abs_bwd);
  keys::sqrt_fwd.add("cpu", 10, &cpu::sqrt_fwd);
  keys::sqrt_bwd.add("cpu", 10, &cpu::sqrt_bwd);
  keys::erf_fwd.add("cpu", 10, &cpu::erf_fwd);
  keys::erf_bwd.add("cpu", 10, &cpu::erf_bwd);
}
}  // namespace convnet::kernels
