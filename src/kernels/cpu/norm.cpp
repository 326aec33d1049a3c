// Layer / group norm on the CPU (kernels/norm.h). Rows are split over the threads; each
// row's statistics are two vectorized passes with double accumulators (the mean, then the
// squared deviations: no cancellation), and the affine transform is one fused multiply-add
// per element: a per-element weight for layer norm (inner = 1), a per-channel scale and
// shift over each H*W plane for group norm. The backward keeps per-thread partial sums of
// gw and gb (in double) and adds them at the end, so no two threads write the same entry.
#include "kernels/norm.h"

#include <omp.h>

#include <cmath>
#include <vector>

#include "kernels/cpu/parallel.h"
#include "kernels/registry.h"

namespace convnet::kernels::cpu {

namespace {

CONVNET_SIMD void row_stats(const float* x, int64_t D, double eps, float& mean, float& rstd) {
  double s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t d = 0; d < D; ++d) s += x[d];
  const double m = D ? s / static_cast<double>(D) : 0;
  double v = 0;
#pragma omp simd reduction(+ : v)
  for (int64_t d = 0; d < D; ++d) {
    const double t = x[d] - m;
    v += t * t;
  }
  mean = static_cast<float>(m);
  rstd = static_cast<float>(1 / std::sqrt((D ? v / static_cast<double>(D) : 0) + eps));
}

// y = (x - m) * scale + shift over n elements (x - m first: x * scale - m * scale would
// cancel when the mean is large beside the spread).
CONVNET_SIMD void scale_shift(const float* x, int64_t n, float m, float scale, float shift, float* y) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - m) * scale + shift;
}

// Layer norm's affine: y = (x - m) rs w + b, per element.
CONVNET_SIMD void affine_row(const float* x, int64_t D, float m, float rs, const float* w, const float* b, float* y) {
#pragma omp simd
  for (int64_t d = 0; d < D; ++d) y[d] = (x[d] - m) * rs * w[d] + b[d];
}

void fwd_row(const NormGeom& g, int64_t r, const float* x, const float* w, const float* b, double eps, float* y,
             float* mean, float* rstd) {
  const float* xr = x + r * g.D;
  float* yr = y + r * g.D;
  row_stats(xr, g.D, eps, mean[r], rstd[r]);
  const float m = mean[r], rs = rstd[r];
  const int64_t per = g.D / g.inner, base = (r % g.groups) * per;
  if (g.inner == 1 && w && b) return affine_row(xr, g.D, m, rs, w + base, b + base, yr);
  for (int64_t c = 0; c < per; ++c) {  // one scale and shift per affine entry
    const float sc = rs * (w ? w[base + c] : 1.f);
    scale_shift(xr + c * g.inner, g.inner, m, sc, b ? b[base + c] : 0.f, yr + c * g.inner);
  }
}

// Per entry c of one row: sums of gy and of gy * xhat (into sb, sw, double), and of
// gh = gy w and gh * xhat over the row (a, cc).
CONVNET_SIMD void bwd_sums(const float* x, const float* gy, int64_t n, float m, float rs, double& sum_gy,
                           double& sum_gy_xh) {
  double s0 = 0, s1 = 0;
#pragma omp simd reduction(+ : s0, s1)
  for (int64_t i = 0; i < n; ++i) {
    s0 += gy[i];
    s1 += static_cast<double>(gy[i]) * ((x[i] - m) * rs);
  }
  sum_gy = s0, sum_gy_xh = s1;
}

CONVNET_SIMD void bwd_sums_affine(const float* x, const float* gy, const float* w, int64_t n, float m, float rs,
                                  double* sw, double* sb, double& a, double& c) {
  double s0 = 0, s1 = 0;
#pragma omp simd reduction(+ : s0, s1)
  for (int64_t d = 0; d < n; ++d) {
    const float xh = (x[d] - m) * rs;
    sw[d] += static_cast<double>(gy[d]) * xh;
    sb[d] += gy[d];
    const double gh = static_cast<double>(gy[d]) * w[d];
    s0 += gh;
    s1 += gh * xh;
  }
  a = s0, c = s1;
}

// gx = rs (gy k - a' - xhat c'), with k the weight of the element's entry; in double, since
// rs multiplies a difference of nearly equal terms when the variance is small.
CONVNET_SIMD void bwd_gx(const float* x, const float* gy, int64_t n, float m, double rs, double k, double a, double c,
                         float* gx) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i)
    gx[i] = static_cast<float>(rs * (gy[i] * k - a - static_cast<double>(x[i] - m) * rs * c));
}

CONVNET_SIMD void bwd_gx_affine(const float* x, const float* gy, const float* w, int64_t n, float m, double rs,
                                double a, double c, float* gx) {
#pragma omp simd
  for (int64_t d = 0; d < n; ++d)
    gx[d] = static_cast<float>(rs * (static_cast<double>(gy[d]) * w[d] - a - static_cast<double>(x[d] - m) * rs * c));
}

void bwd_row(const NormGeom& g, int64_t r, const float* x, const float* w, const float* mean, const float* rstd,
             const float* gy, float* gx, double* sw, double* sb) {
  const float* xr = x + r * g.D;
  const float* gr = gy + r * g.D;
  const float m = mean[r], rs = rstd[r];
  const int64_t per = g.D / g.inner, base = (r % g.groups) * per;
  const auto n = static_cast<double>(g.D);
  if (g.inner == 1 && w) {
    double a, c;
    bwd_sums_affine(xr, gr, w + base, g.D, m, rs, sw + base, sb + base, a, c);
    if (gx) bwd_gx_affine(xr, gr, w + base, g.D, m, rs, a / n, c / n, gx + r * g.D);
    return;
  }
  double a = 0, c = 0;
  for (int64_t e = 0; e < per; ++e) {
    double s0, s1;
    bwd_sums(xr + e * g.inner, gr + e * g.inner, g.inner, m, rs, s0, s1);
    const double k = w ? w[base + e] : 1.0;
    sb[base + e] += s0, sw[base + e] += s1;
    a += k * s0, c += k * s1;
  }
  if (gx)
    for (int64_t e = 0; e < per; ++e)
      bwd_gx(xr + e * g.inner, gr + e * g.inner, g.inner, m, rs, w ? w[base + e] : 1.0, a / n, c / n,
             gx + r * g.D + e * g.inner);
}

}  // namespace

void norm_fwd(const NormGeom& g, const float* x, const float* w, const float* b, double eps, float* y, float* mean,
              float* rstd) {
  parallel_for(g.rows, g.D * 3, [&](int64_t r) { fwd_row(g, r, x, w, b, eps, y, mean, rstd); });
}

void norm_bwd(const NormGeom& g, const float* x, const float* w, const float* mean, const float* rstd, const float* gy,
              float* gx, float* gw, float* gb) {
  const int64_t entries = g.groups * (g.D / g.inner);
  const int nt = threads_for(g.rows * g.D * 4, kGrain);
  // One partial sum per thread (a region may get fewer threads than asked: those stay 0).
  std::vector<std::vector<double>> sw(static_cast<size_t>(nt), std::vector<double>(static_cast<size_t>(entries))),
      sb = sw;
#pragma omp parallel num_threads(nt)
  {
    const int t = omp_get_thread_num(), T = omp_get_num_threads();
    const int64_t r0 = g.rows * t / T, r1 = g.rows * (t + 1) / T;
    for (int64_t r = r0; r < r1; ++r) bwd_row(g, r, x, w, mean, rstd, gy, gx, sw[t].data(), sb[t].data());
  }
  for (int64_t j = 0; j < entries; ++j) {
    double a = 0, b = 0;
    for (int t = 0; t < nt; ++t) a += sw[t][j], b += sb[t][j];
    if (gw) gw[j] = static_cast<float>(a);
    if (gb) gb[j] = static_cast<float>(b);
  }
}

}  // namespace convnet::kernels::cpu

namespace convnet::kernels {
void register_cpu_norm() {
  keys::norm_fwd.add("cpu", 10, &cpu::norm_fwd);
  keys::norm_bwd.add("cpu", 10, &cpu::norm_bwd);
}
}  // namespace convnet::kernels
