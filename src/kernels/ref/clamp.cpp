// Reference clamp: one comparison chain per element. Written with < and > rather than
// std::min/max so that a NaN input stays NaN, as in PyTorch.
#include "kernels/clamp.h"

#include "kernels/registry.h"

namespace convnet::kernels::ref {

template <class T>
void clamp_fwd(int64_t n, T lo, T hi, const T* x, T* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] < lo ? lo : (x[i] > hi ? hi : x[i]);
}

template <class T>
void clamp_bwd(int64_t n, T lo, T hi, const T* x, const T* gy, T* gx) {
  for (int64_t i = 0; i < n; ++i) gx[i] = (x[i] >= lo && x[i] <= hi) ? gy[i] : T(0);
}

#define INSTANTIATE(T)                                     \
  template void clamp_fwd<T>(int64_t, T, T, const T*, T*); \
  template void clamp_bwd<T>(int64_t, T, T, const T*, const T*, T*);
INSTANTIATE(float)
INSTANTIATE(double)
#undef INSTANTIATE

}  // namespace convnet::kernels::ref

namespace convnet::kernels {
void register_ref_clamp() {
  keys::clamp_fwd.add("ref", 0, &ref::clamp_fwd<float>);
  keys::clamp_bwd.add("ref", 0, &ref::clamp_bwd<float>);
}
}  // namespace convnet::kernels
