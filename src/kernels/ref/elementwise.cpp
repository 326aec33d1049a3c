// Reference elementwise arithmetic, sum and concat: the definitions, one loop each.
// Instantiated for float and double (double for the gradient checks).
#include "kernels/elementwise.h"

#include "kernels/registry.h"

namespace convnet::kernels::ref {

template <class T>
void add(int64_t n, const T* a, const T* b, T* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = a[i] + b[i];
}
template <class T>
void sub(int64_t n, const T* a, const T* b, T* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = a[i] - b[i];
}
template <class T>
void mul(int64_t n, const T* a, const T* b, T* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = a[i] * b[i];
}
template <class T>
void scale(int64_t n, T s, const T* x, T* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = s * x[i];
}

// Accumulated in double: a float running sum of n terms drifts by up to ~n ulp, and
// sum/mean feed losses and metrics over whole batches.
template <class T>
void sum(int64_t n, const T* x, T* y) {
  double acc = 0;
  for (int64_t i = 0; i < n; ++i) acc += x[i];
  y[0] = static_cast<T>(acc);
}

// y[o, off_i + j] = xs[i][o, j] for j < sizes[i] * inner, off_i = (sizes[0] + ... + sizes[i-1]) * inner
template <class T>
void concat_fwd(int64_t outer, int64_t inner, int64_t count, const int64_t* sizes, const T* const* xs, T* y) {
  int64_t total = 0;
  for (int64_t i = 0; i < count; ++i) total += sizes[i];
  for (int64_t o = 0; o < outer; ++o) {
    T* row = y + o * total * inner;
    for (int64_t i = 0; i < count; ++i) {
      const int64_t len = sizes[i] * inner;
      const T* src = xs[i] + o * len;
      for (int64_t j = 0; j < len; ++j) row[j] = src[j];
      row += len;
    }
  }
}

template <class T>
void concat_bwd(int64_t outer, int64_t inner, int64_t count, const int64_t* sizes, const T* gy, T* const* gxs) {
  int64_t total = 0;
  for (int64_t i = 0; i < count; ++i) total += sizes[i];
  for (int64_t o = 0; o < outer; ++o) {
    const T* row = gy + o * total * inner;
    for (int64_t i = 0; i < count; ++i) {
      const int64_t len = sizes[i] * inner;
      if (gxs[i])
        for (int64_t j = 0; j < len; ++j) gxs[i][o * len + j] = row[j];
      row += len;
    }
  }
}

#define INSTANTIATE(T)                                                                         \
  template void add<T>(int64_t, const T*, const T*, T*);                                       \
  template void sub<T>(int64_t, const T*, const T*, T*);                                       \
  template void mul<T>(int64_t, const T*, const T*, T*);                                       \
  template void scale<T>(int64_t, T, const T*, T*);                                            \
  template void sum<T>(int64_t, const T*, T*);                                                 \
  template void concat_fwd<T>(int64_t, int64_t, int64_t, const int64_t*, const T* const*, T*); \
  template void concat_bwd<T>(int64_t, int64_t, int64_t, const int64_t*, const T*, T* const*);
INSTANTIATE(float)
INSTANTIATE(double)
#undef INSTANTIATE
// Concatenation copies elements: the same loops for the 16-bit types.
template void concat_fwd<bf16_t>(int64_t, int64_t, int64_t, const int64_t*, const bf16_t* const*, bf16_t*);
template void concat_bwd<bf16_t>(int64_t, int64_t, int64_t, const int64_t*, const bf16_t*, bf16_t* const*);
template void concat_fwd<f16_t>(int64_t, int64_t, int64_t, const int64_t*, const f16_t* const*, f16_t*);
template void concat_bwd<f16_t>(int64_t, int64_t, int64_t, const int64_t*, const f16_t*, f16_t* const*);

}  // namespace convnet::kernels::ref

namespace convnet::kernels {
void register_ref_elementwise() {
  keys::add.add("ref", 0, &ref::add<float>);
  keys::sub.add("ref", 0, &ref::sub<float>);
  keys::mul.add("ref", 0, &ref::mul<float>);
  keys::scale.add("ref", 0, &ref::scale<float>);
  keys::sum.add("ref", 0, &ref::sum<float>);
  keys::concat_fwd.add("ref", 0, &ref::concat_fwd<float>);
  keys::concat_bwd.add("ref", 0, &ref::concat_bwd<float>);
}
}  // namespace convnet::kernels
