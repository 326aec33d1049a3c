// Reference softmax / log_softmax along D of an (outer, D, inner) view, one (o, i) line
// at a time. Stable: with m = max_d x_d, softmax_d = exp(x_d - m) / sum_j exp(x_j - m)
// and log_softmax_d = x_d - m - log sum_j exp(x_j - m); every exp() argument is <= 0.
// Instantiated for float and double (double for the gradient checks).
#include "kernels/softmax.h"

#include <algorithm>
#include <cmath>

#include "kernels/registry.h"

namespace convnet::kernels::ref {

namespace {
// Element d of the line (o, i).
inline int64_t at(const SoftmaxGeom& g, int64_t o, int64_t d, int64_t i) {
  return (o * g.D + d) * g.inner + i;
}

// m and log sum_j exp(x_j - m) of one line.
template <class T>
void max_and_log_sum(const SoftmaxGeom& g, const T* x, int64_t o, int64_t i, T& m, T& log_sum) {
  m = x[at(g, o, 0, i)];
  for (int64_t d = 1; d < g.D; ++d) m = std::max(m, x[at(g, o, d, i)]);
  T s = 0;
  for (int64_t d = 0; d < g.D; ++d) s += std::exp(x[at(g, o, d, i)] - m);
  log_sum = std::log(s);
}
}  // namespace

template <class T>
void softmax_fwd(const SoftmaxGeom& g, const T* x, T* y) {
  if (g.D == 0) return;
  for (int64_t o = 0; o < g.outer; ++o)
    for (int64_t i = 0; i < g.inner; ++i) {
      T m, log_sum;
      max_and_log_sum(g, x, o, i, m, log_sum);
      for (int64_t d = 0; d < g.D; ++d) y[at(g, o, d, i)] = std::exp(x[at(g, o, d, i)] - m - log_sum);
    }
}

template <class T>
void log_softmax_fwd(const SoftmaxGeom& g, const T* x, T* y) {
  if (g.D == 0) return;
  for (int64_t o = 0; o < g.outer; ++o)
    for (int64_t i = 0; i < g.inner; ++i) {
      T m, log_sum;
      max_and_log_sum(g, x, o, i, m, log_sum);
      for (int64_t d = 0; d < g.D; ++d) y[at(g, o, d, i)] = x[at(g, o, d, i)] - m - log_sum;
    }
}

// dy_d/dx_k = y_d ([d == k] - y_k)  =>  gx_k = y_k (gy_k - sum_d gy_d y_d)
template <class T>
void softmax_bwd(const SoftmaxGeom& g, const T* y, const T* gy, T* gx) {
  for (int64_t o = 0; o < g.outer; ++o)
    for (int64_t i = 0; i < g.inner; ++i) {
      T dot = 0;
      for (int64_t d = 0; d < g.D; ++d) dot += gy[at(g, o, d, i)] * y[at(g, o, d, i)];
      for (int64_t d = 0; d < g.D; ++d) gx[at(g, o, d, i)] = y[at(g, o, d, i)] * (gy[at(g, o, d, i)] - dot);
    }
}

// dy_d/dx_k = [d == k] - softmax_k  =>  gx_k = gy_k - exp(y_k) sum_d gy_d
template <class T>
void log_softmax_bwd(const SoftmaxGeom& g, const T* y, const T* gy, T* gx) {
  for (int64_t o = 0; o < g.outer; ++o)
    for (int64_t i = 0; i < g.inner; ++i) {
      T sum = 0;
      for (int64_t d = 0; d < g.D; ++d) sum += gy[at(g, o, d, i)];
      for (int64_t d = 0; d < g.D; ++d) gx[at(g, o, d, i)] = gy[at(g, o, d, i)] - std::exp(y[at(g, o, d, i)]) * sum;
    }
}

#define INSTANTIATE(T)                                                      \
  template void softmax_fwd<T>(const SoftmaxGeom&, const T*, T*);           \
  template void softmax_bwd<T>(const SoftmaxGeom&, const T*, const T*, T*); \
  template void log_softmax_fwd<T>(const SoftmaxGeom&, const T*, T*);       \
  template void log_softmax_bwd<T>(const SoftmaxGeom&, const T*, const T*, T*);
INSTANTIATE(float)
INSTANTIATE(double)
#undef INSTANTIATE

}  // namespace convnet::kernels::ref

namespace convnet::kernels {
void register_ref_softmax() {
  keys::softmax_fwd.add("ref", 0, &ref::softmax_fwd<float>);
  keys::softmax_bwd.add("ref", 0, &ref::softmax_bwd<float>);
  keys::log_softmax_fwd.add("ref", 0, &ref::log_softmax_fwd<float>);
  keys::log_softmax_bwd.add("ref", 0, &ref::log_softmax_bwd<float>);
}
}  // namespace convnet::kernels
