// Reference twins of reduced-precision linear (T = bf16_t, f16_t), as the loops of the math:
// x and gy read as float32, the weight rounded to T and back, float32 accumulation, y and gx
// rounded to T; gw and gb stay float32.
#include "kernels/linear.h"
#include "kernels/lowp.h"

namespace convnet::kernels::ref {

template <class T>
void linear_fwd_lowp(int64_t M, int64_t IN, int64_t OUT, const T* x, const float* w, const float* b, T* y) {
  const std::vector<float> wf = lowp::rounded<T>(w, OUT * IN);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t o = 0; o < OUT; ++o) {
      float acc = b ? b[o] : 0.f;
      for (int64_t i = 0; i < IN; ++i) acc += lowp::widen(x[m * IN + i]) * wf[o * IN + i];
      y[m * OUT + o] = lowp::narrow<T>(acc);
    }
}

template <class T>
void linear_bwd_lowp(int64_t M, int64_t IN, int64_t OUT, const T* x, const float* w, const T* gy, T* gx, float* gw,
                     float* gb) {
  if (gx) {
    const std::vector<float> wf = lowp::rounded<T>(w, OUT * IN);
    for (int64_t m = 0; m < M; ++m)
      for (int64_t i = 0; i < IN; ++i) {
        float acc = 0.f;
        for (int64_t o = 0; o < OUT; ++o) acc += lowp::widen(gy[m * OUT + o]) * wf[o * IN + i];
        gx[m * IN + i] = lowp::narrow<T>(acc);
      }
  }
  if (gw)
    for (int64_t o = 0; o < OUT; ++o)
      for (int64_t i = 0; i < IN; ++i) {
        float acc = 0.f;
        for (int64_t m = 0; m < M; ++m) acc += lowp::widen(gy[m * OUT + o]) * lowp::widen(x[m * IN + i]);
        gw[o * IN + i] = acc;
      }
  if (gb)
    for (int64_t o = 0; o < OUT; ++o) {
      float acc = 0.f;
      for (int64_t m = 0; m < M; ++m) acc += lowp::widen(gy[m * OUT + o]);
      gb[o] = acc;
    }
}

#define INSTANTIATE(T)                                                                                   \
  template void linear_fwd_lowp<T>(int64_t, int64_t, int64_t, const T*, const float*, const float*, T*); \
  template void linear_bwd_lowp<T>(int64_t, int64_t, int64_t, const T*, const float*, const T*, T*, float*, float*);
INSTANTIATE(bf16_t)
INSTANTIATE(f16_t)
#undef INSTANTIATE

}  // namespace convnet::kernels::ref

namespace convnet::kernels {
void register_ref_linear_lowp() {
  keys::linear_fwd_bf16.add("ref", 0, &ref::linear_fwd_lowp<bf16_t>);
  keys::linear_bwd_bf16.add("ref", 0, &ref::linear_bwd_lowp<bf16_t>);
  keys::linear_fwd_f16.add("ref", 0, &ref::linear_fwd_lowp<f16_t>);
  keys::linear_bwd_f16.add("ref", 0, &ref::linear_bwd_lowp<f16_t>);
}
}  // namespace convnet::kernels
