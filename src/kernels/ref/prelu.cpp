// Reference PReLU: one loop over samples, channels and elements. The weight gradient is
// summed in double (as the reference reductions elsewhere), then rounded once.
#include "kernels/prelu.h"

#include <vector>

#include "kernels/registry.h"

namespace convnet::kernels::ref {

template <class T>
void prelu_fwd(int64_t n, int64_t c, int64_t s, int64_t wc, const T* x, const T* w, T* y) {
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < c; ++j) {
      const T a = w[wc == 1 ? 0 : j];
      const int64_t o = (i * c + j) * s;
      for (int64_t k = 0; k < s; ++k) y[o + k] = x[o + k] > T(0) ? x[o + k] : a * x[o + k];
    }
}

template <class T>
void prelu_bwd(int64_t n, int64_t c, int64_t s, int64_t wc, const T* x, const T* w, const T* gy, T* gx, T* gw) {
  std::vector<double> acc(static_cast<size_t>(wc), 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < c; ++j) {
      const int64_t wi = wc == 1 ? 0 : j;
      const int64_t o = (i * c + j) * s;
      for (int64_t k = 0; k < s; ++k) {
        const bool pos = x[o + k] > T(0);
        gx[o + k] = pos ? gy[o + k] : w[wi] * gy[o + k];
        if (!pos) acc[wi] += static_cast<double>(x[o + k]) * static_cast<double>(gy[o + k]);
      }
    }
  for (int64_t j = 0; j < wc; ++j) gw[j] = static_cast<T>(acc[j]);
}

#define INSTANTIATE(T)                                                                    \
  template void prelu_fwd<T>(int64_t, int64_t, int64_t, int64_t, const T*, const T*, T*); \
  template void prelu_bwd<T>(int64_t, int64_t, int64_t, int64_t, const T*, const T*, const T*, T*, T*);
INSTANTIATE(float)
INSTANTIATE(double)
#undef INSTANTIATE

}  // namespace convnet::kernels::ref

namespace convnet::kernels {
void register_ref_prelu() {
  keys::prelu_fwd.add("ref", 0, &ref::prelu_fwd<float>);
  keys::prelu_bwd.add("ref", 0, &ref::prelu_bwd<float>);
}
}  // namespace convnet::kernels
