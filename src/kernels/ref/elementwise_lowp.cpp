// Reference twins of the reduced-precision relu, add and concat (T = bf16_t, f16_t): the
// values read as float32, the float32 computation, the result rounded to T.
#include "kernels/activation.h"
#include "kernels/elementwise.h"
#include "kernels/lowp.h"

namespace convnet::kernels::ref {

template <class T>
void relu_fwd_lowp(int64_t n, const T* x, T* y) {
  for (int64_t i = 0; i < n; ++i) {
    const float v = lowp::widen(x[i]);
    y[i] = lowp::narrow<T>(v < 0.f ? 0.f : v);  // NaN passes through, as the float32 relu
  }
}
template <class T>
void relu_bwd_lowp(int64_t n, const T* x, const T* gy, T* gx) {
  for (int64_t i = 0; i < n; ++i) gx[i] = lowp::narrow<T>(lowp::widen(x[i]) > 0.f ? lowp::widen(gy[i]) : 0.f);
}
template <class T>
void add_lowp(int64_t n, const T* a, const T* b, T* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = lowp::narrow<T>(lowp::widen(a[i]) + lowp::widen(b[i]));
}

#define INSTANTIATE(T)                                             \
  template void relu_fwd_lowp<T>(int64_t, const T*, T*);           \
  template void relu_bwd_lowp<T>(int64_t, const T*, const T*, T*); \
  template void add_lowp<T>(int64_t, const T*, const T*, T*);
INSTANTIATE(bf16_t)
INSTANTIATE(f16_t)
#undef INSTANTIATE

}  // namespace convnet::kernels::ref

namespace convnet::kernels {
void register_ref_elementwise_lowp() {
  keys::relu_fwd_bf16.add("ref", 0, &ref::relu_fwd_lowp<bf16_t>);
  keys::relu_bwd_bf16.add("ref", 0, &ref::relu_bwd_lowp<bf16_t>);
  keys::relu_fwd_f16.add("ref", 0, &ref::relu_fwd_lowp<f16_t>);
  keys::relu_bwd_f16.add("ref", 0, &ref::relu_bwd_lowp<f16_t>);
  keys::add_bf16.add("ref", 0, &ref::add_lowp<bf16_t>);
  keys::add_f16.add("ref", 0, &ref::add_lowp<f16_t>);
  keys::concat_fwd_bf16.add("ref", 0, &ref::concat_fwd<bf16_t>);
  keys::concat_bwd_bf16.add("ref", 0, &ref::concat_bwd<bf16_t>);
  keys::concat_fwd_f16.add("ref", 0, &ref::concat_fwd<f16_t>);
  keys::concat_bwd_f16.add("ref", 0, &ref::concat_bwd<f16_t>);
}
}  // namespace convnet::kernels
