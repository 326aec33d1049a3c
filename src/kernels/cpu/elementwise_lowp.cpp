// bfloat16 relu and add on the CPU: vectorized loops on the bits over one contiguous chunk
// per thread (parallel.h), the same results as the reference twins (elementwise_lowp.cpp in
// ref/). Any layout: both are elementwise.
#include "kernels/activation.h"
#include "kernels/cpu/bf16.h"
#include "kernels/cpu/parallel.h"
#include "kernels/elementwise.h"
#include "kernels/registry.h"

namespace convnet::kernels::cpu {

namespace {

// relu(x) = x < 0 ? 0 : x: the negative numbers are the bits 0x8001 ... 0xff80 (-0 and the
// negative NaNs pass through, as in float32).
CONVNET_SIMD void relu_f(int64_t n, const uint16_t* x, uint16_t* y) {
  for (int64_t i = 0; i < n; ++i) {
    const uint16_t b = x[i];
    y[i] = b > 0x8000u && b <= 0xff80u ? uint16_t{0} : b;
  }
}
// gx = x > 0 ? gy : 0: the positive numbers are 0x0001 ... 0x7f80 (+inf included, NaN not).
CONVNET_SIMD void relu_b(int64_t n, const uint16_t* x, const uint16_t* gy, uint16_t* gx) {
  for (int64_t i = 0; i < n; ++i) {
    const uint16_t b = x[i];
    gx[i] = b >= 1u && b <= 0x7f80u ? gy[i] : uint16_t{0};
  }
}
CONVNET_SIMD void add_f(int64_t n, const uint16_t* a, const uint16_t* b, uint16_t* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = f2bf(bf2f(a[i]) + bf2f(b[i]));
}

}  // namespace

void relu_fwd_bf16(int64_t n, const bf16_t* x, bf16_t* y) {
  parallel_chunks(n, [&](int64_t b, int64_t e) { relu_f(e - b, bits(x) + b, bits(y) + b); });
}
void relu_bwd_bf16(int64_t n, const bf16_t* x, const bf16_t* gy, bf16_t* gx) {
  parallel_chunks(n, [&](int64_t b, int64_t e) { relu_b(e - b, bits(x) + b, bits(gy) + b, bits(gx) + b); });
}
void add_bf16(int64_t n, const bf16_t* a, const bf16_t* b, bf16_t* y) {
  parallel_chunks(n, [&](int64_t lo, int64_t hi) { add_f(hi - lo, bits(a) + lo, bits(b) + lo, bits(y) + lo); });
}

}  // namespace convnet::kernels::cpu

namespace convnet::kernels {
void register_cpu_elementwise_lowp() {
  keys::relu_fwd_bf16.add("cpu", 10, &cpu::relu_fwd_bf16);
  keys::relu_bwd_bf16.add("cpu", 10, &cpu::relu_bwd_bf16);
  keys::add_bf16.add("cpu", 10, &cpu::add_bf16);
}
}  // namespace convnet::kernels
