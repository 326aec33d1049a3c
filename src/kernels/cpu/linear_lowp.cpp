// bfloat16 linear on the CPU: the activations widened to float32 (exact), the weight rounded
// to bfloat16 and back (what a bf16 GEMM computes with), the float32 GEMM of OpenBLAS, and the
// activation outputs rounded once: the reference twin's arithmetic (ref/linear_lowp.cpp) at
// BLAS speed. (The CNNs' linear layers are a small part of a step: the classifier head.)
#include <cstring>
#include <vector>

#include "kernels/cpu/bf16.h"
#include "kernels/cpu/parallel.h"
#include "kernels/gemm.h"
#include "kernels/linear.h"
#include "kernels/registry.h"

namespace convnet::kernels::cpu {

namespace {
CONVNET_SIMD void widen_f(int64_t n, const uint16_t* x, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = bf2f(x[i]);
}
CONVNET_SIMD void narrow_f(int64_t n, const float* x, uint16_t* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = f2bf(x[i]);
}
CONVNET_SIMD void round_f(int64_t n, const float* x, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = bf2f(f2bf(x[i]));
}
std::vector<float> widened(const bf16_t* x, int64_t n) {
  std::vector<float> out(static_cast<size_t>(n));
  parallel_chunks(n, [&](int64_t lo, int64_t hi) { widen_f(hi - lo, bits(x) + lo, out.data() + lo); });
  return out;
}
std::vector<float> rounded(const float* w, int64_t n) {
  std::vector<float> out(static_cast<size_t>(n));
  parallel_chunks(n, [&](int64_t lo, int64_t hi) { round_f(hi - lo, w + lo, out.data() + lo); });
  return out;
}
void narrow(const std::vector<float>& x, bf16_t* y) {
  parallel_chunks(static_cast<int64_t>(x.size()),
                  [&](int64_t lo, int64_t hi) { narrow_f(hi - lo, x.data() + lo, bits(y) + lo); });
}
}  // namespace

void linear_fwd_bf16(int64_t M, int64_t IN, int64_t OUT, const bf16_t* x, const float* w, const float* b, bf16_t* y) {
  if (M == 0 || OUT == 0) return;
  const std::vector<float> xf = widened(x, M * IN), wf = rounded(w, OUT * IN);
  std::vector<float> yf(static_cast<size_t>(M * OUT));
  // Every row starts as b, then the GEMM adds x W^T onto it (beta = 1).
  for (int64_t m = 0; m < M; ++m)
    if (b)
      std::memcpy(yf.data() + m * OUT, b, sizeof(float) * OUT);
    else
      std::memset(yf.data() + m * OUT, 0, sizeof(float) * OUT);
  if (IN > 0) gemm(false, true, M, OUT, IN, 1.f, xf.data(), IN, wf.data(), IN, 1.f, yf.data(), OUT);
  narrow(yf, y);
}

void linear_bwd_bf16(int64_t M, int64_t IN, int64_t OUT, const bf16_t* x, const float* w, const bf16_t* gy, bf16_t* gx,
                     float* gw, float* gb) {
  const std::vector<float> gyf = widened(gy, M * OUT);
  if (gx) {
    std::vector<float> gxf(static_cast<size_t>(M * IN), 0.f);
    if (M > 0 && IN > 0 && OUT > 0) {
      const std::vector<float> wf = rounded(w, OUT * IN);
      gemm(false, false, M, IN, OUT, 1.f, gyf.data(), OUT, wf.data(), IN, 0.f, gxf.data(), IN);
    }
    narrow(gxf, gx);
  }
  if (gw) {
    if (M > 0 && IN > 0 && OUT > 0) {
      const std::vector<float> xf = widened(x, M * IN);
      gemm(true, false, OUT, IN, M, 1.f, gyf.data(), OUT, xf.data(), IN, 0.f, gw, IN);
    } else {
      std::memset(gw, 0, sizeof(float) * OUT * IN);
    }
  }
  if (gb)
    for (int64_t o = 0; o < OUT; ++o) {
      float acc = 0.f;
      for (int64_t m = 0; m < M; ++m) acc += gyf[m * OUT + o];
      gb[o] = acc;
    }
}

}  // namespace convnet::kernels::cpu

namespace convnet::kernels {
void register_cpu_linear_lowp() {
  keys::linear_fwd_bf16.add("cpu", 10, &cpu::linear_fwd_bf16);
  keys::linear_bwd_bf16.add("cpu", 10, &cpu::linear_bwd_bf16);
}
}  // namespace convnet::kernels
