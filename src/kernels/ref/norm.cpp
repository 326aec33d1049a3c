// Reference layer / group norm (kernels/norm.h): one row at a time, statistics in double
// (two passes: the mean, then the squared deviations). Instantiated for float and double
// (double for the gradient checks).
#include "kernels/norm.h"

#include <cmath>
#include <vector>

#include "kernels/registry.h"

namespace convnet::kernels::ref {

namespace {
inline int64_t entry(const NormGeom& g, int64_t r, int64_t d) {
  return (r % g.groups) * (g.D / g.inner) + d / g.inner;
}
}  // namespace

template <class T>
void norm_fwd(const NormGeom& g, const T* x, const T* w, const T* b, double eps, T* y, T* mean, T* rstd) {
  for (int64_t r = 0; r < g.rows; ++r) {
    const T* xr = x + r * g.D;
    double s = 0;
    for (int64_t d = 0; d < g.D; ++d) s += xr[d];
    const double m = g.D ? s / static_cast<double>(g.D) : 0;
    double v = 0;
    for (int64_t d = 0; d < g.D; ++d) v += (xr[d] - m) * (xr[d] - m);
    const double rs = 1 / std::sqrt((g.D ? v / static_cast<double>(g.D) : 0) + eps);
    mean[r] = static_cast<T>(m);
    rstd[r] = static_cast<T>(rs);
    for (int64_t d = 0; d < g.D; ++d) {
      const int64_t j = entry(g, r, d);
      const double xh = (xr[d] - m) * rs;
      y[r * g.D + d] = static_cast<T>(w ? xh * w[j] + (b ? b[j] : T(0)) : xh + (b ? b[j] : T(0)));
    }
  }
}

template <class T>
void norm_bwd(const NormGeom& g, const T* x, const T* w, const T* mean, const T* rstd, const T* gy, T* gx, T* gw,
              T* gb) {
  const int64_t entries = g.groups * (g.D / g.inner);
  std::vector<double> sw(static_cast<size_t>(entries), 0), sb(static_cast<size_t>(entries), 0);
  for (int64_t r = 0; r < g.rows; ++r) {
    const T* xr = x + r * g.D;
    const T* gr = gy + r * g.D;
    const double m = mean[r], rs = rstd[r];
    double a = 0, c = 0;  // sum gh, sum gh * xhat
    for (int64_t d = 0; d < g.D; ++d) {
      const int64_t j = entry(g, r, d);
      const double xh = (xr[d] - m) * rs, gh = gr[d] * (w ? static_cast<double>(w[j]) : 1.0);
      a += gh, c += gh * xh;
      sw[j] += gr[d] * xh;
      sb[j] += gr[d];
    }
    const double n = static_cast<double>(g.D);
    if (gx)
      for (int64_t d = 0; d < g.D; ++d) {
        const int64_t j = entry(g, r, d);
        const double xh = (xr[d] - m) * rs, gh = gr[d] * (w ? static_cast<double>(w[j]) : 1.0);
        gx[r * g.D + d] = static_cast<T>(rs * (gh - a / n - xh * c / n));
      }
  }
  for (int64_t j = 0; j < entries; ++j) {
    if (gw) gw[j] = static_cast<T>(sw[j]);
    if (gb) gb[j] = static_cast<T>(sb[j]);
  }
}

#define INSTANTIATE(T)                                                                          \
  template void norm_fwd<T>(const NormGeom&, const T*, const T*, const T*, double, T*, T*, T*); \
  template void norm_bwd<T>(const NormGeom&, const T*, const T*, const T*, const T*, const T*, T*, T*, T*);
INSTANTIATE(float)
INSTANTIATE(double)
#undef INSTANTIATE

}  // namespace convnet::kernels::ref

namespace convnet::kernels {
void register_ref_norm() {
  keys::norm_fwd.add("ref", 0, &ref::norm_fwd<float>);
  keys::norm_bwd.add("ref", 0, &ref::norm_bwd<float>);
}
}  // namespace convnet::kernels
