// bfloat16 linear on the CPU: the activations widened to float32 (exact), the weight rounded
// to bfloat16 and back (what a bf16 GEMM computes with), the float32 GEMM of OpenBLAS, and the
// activation outputs rounded once: the reference twin's arithmetic (ref/linear_lowp.cpp) at
// BLAS speed. (The CNNs' linear layers are a small part of a step: the classifier head.)
#include <cstring>

#include "kernels/cpu/bf16.h"
#include "kernels/cpu/parallel.h"
#include "kernels/gemm.h"
#include "kernels/linear.h"
#include "kernels/registry.h"

namespace convnet::kernels::cpu {

void linear_fwd_bf16(int64_t M, int64_t IN, int64_t OUT, const bf16_t* x, const float* w, const float* b, bf16_t* y) {
  if (M == 0 || OUT == 0) return;
  const FloatBuffer xf = widened(x, M * IN), wf = rounded_bf16(w, OUT * IN);
  FloatBuffer yf(M * OUT);
  // Every row starts as b, then the GEMM adds x W^T onto it (beta = 1).
  for (int64_t m = 0; m < M; ++m)
    if (b)
      std::memcpy(yf.data() + m * OUT, b, sizeof(float) * OUT);
    else
      std::memset(yf.data() + m * OUT, 0, sizeof(float) * OUT);
  if (IN > 0) gemm(false, true, M, OUT, IN, 1.f, xf.data(), IN, wf.data(), IN, 1.f, yf.data(), OUT);
  narrow_into(yf.data(), M * OUT, y);
}

void linear_bwd_bf16(int64_t M, int64_t IN, int64_t OUT, const bf16_t* x, const float* w, const bf16_t* gy, bf16_t* gx,
                     float* gw, float* gb) {
  const FloatBuffer gyf = widened(gy, M * OUT);
  if (gx) {
    FloatBuffer gxf(M * IN);
    if (M > 0 && IN > 0 && OUT > 0) {
      const FloatBuffer wf = rounded_bf16(w, OUT * IN);
      gemm(false, false, M, IN, OUT, 1.f, gyf.data(), OUT, wf.data(), IN, 0.f, gxf.data(), IN);
    } else {
      std::memset(gxf.data(), 0, sizeof(float) * M * IN);
    }
    narrow_into(gxf.data(), M * IN, gx);
  }
  if (gw) {
    if (M > 0 && IN > 0 && OUT > 0) {
      const FloatBuffer xf = widened(x, M * IN);
      gemm(true, false, OUT, IN, M, 1.f, gyf.data(), OUT, xf.data(), IN, 0.f, gw, IN);
    } else {
      std::memset(gw, 0, sizeof(float) * OUT * IN);
    }
  }
  if (gb)
    for (int64_t o = 0; o < OUT; ++o) {
      float acc = 0.f;
      for (int64_t m = 0; m < M; ++m) acc += gyf.data()[m * OUT + o];
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
