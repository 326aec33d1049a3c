// Reference division, maximum, minimum, power and select: the definitions (kernels/arith.h),
// one loop each. Instantiated for float and double (double for the gradient checks).
#include "kernels/arith.h"

#include <cmath>

#include "kernels/registry.h"

namespace convnet::kernels::ref {

template <class T>
void div(int64_t n, const T* a, const T* b, T* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = a[i] / b[i];
}
// NaN propagates, as torch.maximum / minimum (std::max would drop a NaN in b).
template <class T>
void maximum(int64_t n, const T* a, const T* b, T* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::isnan(a[i]) || a[i] > b[i] ? a[i] : b[i];
}
template <class T>
void minimum(int64_t n, const T* a, const T* b, T* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::isnan(a[i]) || a[i] < b[i] ? a[i] : b[i];
}
template <class T>
void pow(int64_t n, const T* a, const T* b, T* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::pow(a[i], b[i]);
}

template <class T>
void div_bwd(int64_t n, const T*, const T* b, const T* y, const T* gy, T* ga, T* gb) {
  for (int64_t i = 0; i < n; ++i) {
    if (ga) ga[i] = gy[i] / b[i];
    if (gb) gb[i] = -gy[i] * y[i] / b[i];  // -g a / b^2 = -g (a / b) / b
  }
}
// The upstream goes to the larger operand, in halves on ties; as PyTorch writes it (an operand
// is masked out where the other one wins), so with a NaN both get it.
template <class T>
void maximum_bwd(int64_t n, const T* a, const T* b, const T*, const T* gy, T* ga, T* gb) {
  for (int64_t i = 0; i < n; ++i) {
    if (ga) ga[i] = a[i] == b[i] ? gy[i] / T(2) : a[i] < b[i] ? T(0) : gy[i];
    if (gb) gb[i] = a[i] == b[i] ? gy[i] / T(2) : a[i] > b[i] ? T(0) : gy[i];
  }
}
template <class T>
void minimum_bwd(int64_t n, const T* a, const T* b, const T*, const T* gy, T* ga, T* gb) {
  for (int64_t i = 0; i < n; ++i) {
    if (ga) ga[i] = a[i] == b[i] ? gy[i] / T(2) : a[i] > b[i] ? T(0) : gy[i];
    if (gb) gb[i] = a[i] == b[i] ? gy[i] / T(2) : a[i] < b[i] ? T(0) : gy[i];
  }
}
template <class T>
void pow_bwd(int64_t n, const T* a, const T* b, const T* y, const T* gy, T* ga, T* gb) {
  for (int64_t i = 0; i < n; ++i) {
    if (ga) ga[i] = b[i] == T(0) ? T(0) : gy[i] * b[i] * std::pow(a[i], b[i] - T(1));
    if (gb) gb[i] = a[i] == T(0) && b[i] >= T(0) ? T(0) : gy[i] * y[i] * std::log(a[i]);
  }
}

template <class T>
void where(int64_t n, const T* c, const T* a, const T* b, T* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = c[i] != T(0) ? a[i] : b[i];
}

#define INSTANTIATE(T)                                                                   \
  template void div<T>(int64_t, const T*, const T*, T*);                                 \
  template void maximum<T>(int64_t, const T*, const T*, T*);                             \
  template void minimum<T>(int64_t, const T*, const T*, T*);                             \
  template void pow<T>(int64_t, const T*, const T*, T*);                                 \
  template void div_bwd<T>(int64_t, const T*, const T*, const T*, const T*, T*, T*);     \
  template void maximum_bwd<T>(int64_t, const T*, const T*, const T*, const T*, T*, T*); \
  template void minimum_bwd<T>(int64_t, const T*, const T*, const T*, const T*, T*, T*); \
  template void pow_bwd<T>(int64_t, const T*, const T*, const T*, const T*, T*, T*);     \
  template void where<T>(int64_t, const T*, const T*, const T*, T*);
INSTANTIATE(float)
INSTANTIATE(double)
#undef INSTANTIATE

}  // namespace convnet::kernels::ref

namespace convnet::kernels {
void register_ref_arith() {
  keys::div.add("ref", 0, &ref::div<float>);
  keys::maximum.add("ref", 0, &ref::maximum<float>);
  keys::minimum.add("ref", 0, &ref::minimum<float>);
  keys::pow.add("ref", 0, &ref::pow<float>);
  keys::div_bwd.add("ref", 0, &ref::div_bwd<float>);
  keys::maximum_bwd.add("ref", 0, &ref::maximum_bwd<float>);
  keys::minimum_bwd.add("ref", 0, &ref::minimum_bwd<float>);
  keys::pow_bwd.add("ref", 0, &ref::pow_bwd<float>);
  keys::where.add("ref", 0, &ref::where<float>);
}
}  // namespace convnet::kernels
