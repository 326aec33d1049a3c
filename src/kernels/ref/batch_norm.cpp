// Reference batch normalization: the equations of Ioffe & Szegedy (2015), loop by loop.
// Slow on purpose; the oracle for every fast kernel and the kernel used for gradient
// checks (instantiated in double as well as float). Sums over a channel's N*S values
// are accumulated in double so the float oracle stays accurate on large batches.
#include "kernels/batch_norm.h"

#include <cmath>

#include "kernels/registry.h"

namespace convnet::kernels::ref {

// x[n, c, i] lives at (n*C + c)*S + i (plain), or at ((n*C/B + c/B)*S + i)*B + c%B
// (channel-blocked).
static inline int64_t at(const BatchNormGeom& g, int64_t n, int64_t c, int64_t i) {
  if (g.B == 0) return (n * g.C + c) * g.S + i;
  return ((n * (g.C / g.B) + c / g.B) * g.S + i) * g.B + c % g.B;
}

// mean[c] = 1/M sum_{n,i} x[n,c,i];  var[c] = 1/M sum_{n,i} (x[n,c,i] - mean[c])^2,  M = N*S
// (two passes: no cancellation), then normalize with them.
template <class T>
void batch_norm_fwd_train(const BatchNormGeom& g, const T* x, const T* w, const T* b, double eps, T* y, T* mean,
                          T* var) {
  const double M = static_cast<double>(g.N * g.S);
  for (int64_t c = 0; c < g.C; ++c) {
    double s = 0;
    for (int64_t n = 0; n < g.N; ++n)
      for (int64_t i = 0; i < g.S; ++i) s += x[at(g, n, c, i)];
    const double mu = s / M;
    double ss = 0;
    for (int64_t n = 0; n < g.N; ++n)
      for (int64_t i = 0; i < g.S; ++i) {
        const double d = x[at(g, n, c, i)] - mu;
        ss += d * d;
      }
    mean[c] = static_cast<T>(mu);
    var[c] = static_cast<T>(ss / M);
  }
  batch_norm_fwd_eval(g, x, mean, var, w, b, eps, y);
}

// y[n,c,i] = (x[n,c,i] - mean[c]) / sqrt(var[c] + eps) * w[c] + b[c]
template <class T>
void batch_norm_fwd_eval(const BatchNormGeom& g, const T* x, const T* mean, const T* var, const T* w, const T* b,
                         double eps, T* y) {
  for (int64_t c = 0; c < g.C; ++c) {
    const double invstd = 1.0 / std::sqrt(static_cast<double>(var[c]) + eps);
    const double wc = w ? w[c] : 1.0, bc = b ? b[c] : 0.0;
    for (int64_t n = 0; n < g.N; ++n)
      for (int64_t i = 0; i < g.S; ++i) {
        const int64_t j = at(g, n, c, i);
        y[j] = static_cast<T>((x[j] - mean[c]) * invstd * wc + bc);
      }
  }
}

// With xhat = (x - mean) * invstd, M = N*S:
//   dL/dw[c] = sum gy * xhat,  dL/db[c] = sum gy
//   batch statistics (mean and var depend on x):
//     dL/dx = w * invstd * (gy - 1/M sum gy - xhat * 1/M sum gy * xhat)
//   given statistics: dL/dx = w * invstd * gy
template <class T>
void batch_norm_bwd(const BatchNormGeom& g, const T* x, const T* gy, const T* mean, const T* var, const T* w,
                    double eps, bool batch_stats, T* gx, T* gw, T* gb) {
  const double M = static_cast<double>(g.N * g.S);
  for (int64_t c = 0; c < g.C; ++c) {
    const double invstd = 1.0 / std::sqrt(static_cast<double>(var[c]) + eps);
    const double wc = w ? w[c] : 1.0;
    double sum_gy = 0, sum_gy_xhat = 0;
    for (int64_t n = 0; n < g.N; ++n)
      for (int64_t i = 0; i < g.S; ++i) {
        const int64_t j = at(g, n, c, i);
        sum_gy += gy[j];
        sum_gy_xhat += gy[j] * (x[j] - mean[c]) * invstd;
      }
    if (gw) gw[c] = static_cast<T>(sum_gy_xhat);
    if (gb) gb[c] = static_cast<T>(sum_gy);
    if (!gx) continue;
    for (int64_t n = 0; n < g.N; ++n)
      for (int64_t i = 0; i < g.S; ++i) {
        const int64_t j = at(g, n, c, i);
        const double xhat = (x[j] - mean[c]) * invstd;
        const double d = batch_stats ? gy[j] - sum_gy / M - xhat * sum_gy_xhat / M : gy[j];
        gx[j] = static_cast<T>(wc * invstd * d);
      }
  }
}

#define INSTANTIATE(T)                                                                                                 \
  template void batch_norm_fwd_train<T>(const BatchNormGeom&, const T*, const T*, const T*, double, T*, T*, T*);       \
  template void batch_norm_fwd_eval<T>(const BatchNormGeom&, const T*, const T*, const T*, const T*, const T*, double, \
                                       T*);                                                                            \
  template void batch_norm_bwd<T>(const BatchNormGeom&, const T*, const T*, const T*, const T*, const T*, double,      \
                                  bool, T*, T*, T*);
INSTANTIATE(float)
INSTANTIATE(double)
#undef INSTANTIATE

}  // namespace convnet::kernels::ref

namespace convnet::kernels {
void register_ref_batch_norm() {
  keys::batch_norm_fwd_train.add("ref", 0, &ref::batch_norm_fwd_train<float>);
  keys::batch_norm_fwd_eval.add("ref", 0, &ref::batch_norm_fwd_eval<float>);
  keys::batch_norm_bwd.add("ref", 0, &ref::batch_norm_bwd<float>);
}
}  // namespace convnet::kernels
