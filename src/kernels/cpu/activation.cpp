// Activations on the CPU: the reference's formulas (kernels/ref/activation.cpp), written as
// branch-free loops that the compiler vectorizes, split over the threads in contiguous
// chunks. Semantics match the reference exactly, NaN included: a comparison with NaN is
// false, so `x < 0 ? 0 : x` passes NaN through as the reference does.
#include <cmath>

#include "kernels/activation.h"
#include "kernels/cpu/parallel.h"
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
// tanh and sigmoid call libm per element; the threads are what helps them.
void tanh_f(int64_t n, const float* x, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
}
CONVNET_SIMD void tanh_b(int64_t n, const float* y, const float* gy, float* gx) {
  for (int64_t i = 0; i < n; ++i) gx[i] = gy[i] * (1.f - y[i] * y[i]);
}
void sigmoid_f(int64_t n, const float* x, float* y) {
  for (int64_t i = 0; i < n; ++i) {
    if (x[i] >= 0.f) {
      y[i] = 1.f / (1.f + std::exp(-x[i]));
    } else {
      const float e = std::exp(x[i]);
      y[i] = e / (1.f + e);
    }
  }
}
CONVNET_SIMD void sigmoid_b(int64_t n, const float* y, const float* gy, float* gx) {
  for (int64_t i = 0; i < n; ++i) gx[i] = gy[i] * y[i] * (1.f - y[i]);
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
}
}  // namespace convnet::kernels
