// Batch normalization on the CPU: the reference's equations (kernels/ref/batch_norm.cpp),
// reorganized for memory bandwidth and threads.
//
// x is (N, C, S): N*C rows of S contiguous values, row r in channel r % C. The rows are
// split evenly over the threads (whatever C is: 3 channels or 512), each thread sums its
// rows into per-channel partial sums, one thread combines them (in thread order, so a
// thread count always gives the same bits), and after a barrier every thread transforms
// its rows. One parallel region per call: no fork/join between the two passes.
//
// Statistics in one pass over x, without the cancellation of E[x^2] - E[x]^2: values are
// shifted by a per-channel constant K (the channel's first value), and
//   mean = K + sum(x - K) / M,   var = sum((x - K)^2) / M - (sum(x - K) / M)^2,
// which is exact algebra and accurate as long as K is within a few standard deviations
// of the mean (the shifted-data algorithm). All arithmetic is in double (see below).
#include "kernels/batch_norm.h"

#include <cmath>
#include <vector>

#include "kernels/cpu/parallel.h"
#include "kernels/registry.h"

namespace convnet::kernels::cpu {

namespace {

// Double-precision arithmetic on float data: 8 double lanes (one AVX-512 register, two
// AVX2 ones). The reference computes in double, and with few values per channel (a
// batch of 2 at 2x2 in a deep layer) batch norm amplifies rounding enormously, enough
// for float32 arithmetic to change which element wins a max-pool near-tie downstream;
// in double this kernel rounds like the reference. The loops stay memory-bound.
// (-Wpsabi warns that passing such vectors by value has no stable ABI without AVX-512;
// these helpers are internal and always inlined, so no ABI is involved.)
#pragma GCC diagnostic ignored "-Wpsabi"
typedef double v8d __attribute__((vector_size(64)));
typedef float v8f __attribute__((vector_size(32)));
[[gnu::always_inline]] inline v8d load8(const float* p) {
  v8f v;
  __builtin_memcpy(&v, p, sizeof v);
  return __builtin_convertvector(v, v8d);
}
[[gnu::always_inline]] inline void store8(float* p, v8d v) {
  const v8f f = __builtin_convertvector(v, v8f);
  __builtin_memcpy(p, &f, sizeof f);
}
[[gnu::always_inline]] inline double hsum(v8d v) {
  double s = 0;
  for (int j = 0; j < 8; ++j) s += v[j];
  return s;
}

// s1 += sum(x - K), s2 += sum((x - K)^2)
CONVNET_SIMD void row_stats(int64_t S, const float* x, double K, double& s1, double& s2) {
  v8d a1 = {}, a2 = {};
  int64_t i = 0;
  for (; i + 8 <= S; i += 8) {
    const v8d d = load8(x + i) - K;
    a1 += d;
    a2 += d * d;
  }
  double t1 = 0, t2 = 0;
  for (; i < S; ++i) {
    const double d = x[i] - K;
    t1 += d;
    t2 += d * d;
  }
  s1 += hsum(a1) + t1;
  s2 += hsum(a2) + t2;
}

// y = (x - m) * a + b
CONVNET_SIMD void row_affine(int64_t S, const float* x, double m, double a, double b, float* y) {
  int64_t i = 0;
  for (; i + 8 <= S; i += 8) store8(y + i, (load8(x + i) - m) * a + b);
  for (; i < S; ++i) y[i] = static_cast<float>((x[i] - m) * a + b);
}

// sg += sum(gy), sgx += sum(gy * (x - m))
CONVNET_SIMD void row_bwd_stats(int64_t S, const float* x, const float* gy, double m, double& sg, double& sgx) {
  v8d a1 = {}, a2 = {};
  int64_t i = 0;
  for (; i + 8 <= S; i += 8) {
    const v8d g = load8(gy + i);
    a1 += g;
    a2 += g * (load8(x + i) - m);
  }
  double t1 = 0, t2 = 0;
  for (; i < S; ++i) {
    t1 += gy[i];
    t2 += gy[i] * (x[i] - m);
  }
  sg += hsum(a1) + t1;
  sgx += hsum(a2) + t2;
}

// gx = (gy - c - (x - m) * q) * k
CONVNET_SIMD void row_bwd(int64_t S, const float* x, const float* gy, double m, double k, double c, double q,
                          float* gx) {
  int64_t i = 0;
  for (; i + 8 <= S; i += 8) store8(gx + i, (load8(gy + i) - c - (load8(x + i) - m) * q) * k);
  for (; i < S; ++i) gx[i] = static_cast<float>((gy[i] - c - (x[i] - m) * q) * k);
}

// ---- channel-blocked rows: S positions of B = 8 or 16 channels (one or two v8d) ---------
[[gnu::always_inline]] inline v8d load8d(const double* p) {
  v8d v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}

// s1[j] += sum_s (x[s, j] - K[j]), s2[j] += sum_s (x[s, j] - K[j])^2
CONVNET_SIMD void brow_stats(int64_t S, int64_t B, const float* x, const double* K, double* s1, double* s2) {
  const int64_t G = B / 8;
  v8d k[2] = {}, a1[2] = {}, a2[2] = {};
  for (int64_t u = 0; u < G; ++u) k[u] = load8d(K + 8 * u);
  for (int64_t s = 0; s < S; ++s)
    for (int64_t u = 0; u < G; ++u) {
      const v8d d = load8(x + s * B + 8 * u) - k[u];
      a1[u] += d;
      a2[u] += d * d;
    }
  for (int64_t u = 0; u < G; ++u)
    for (int j = 0; j < 8; ++j) s1[8 * u + j] += a1[u][j], s2[8 * u + j] += a2[u][j];
}

// y[s, j] = (x[s, j] - m[j]) * a[j] + b[j]
CONVNET_SIMD void brow_affine(int64_t S, int64_t B, const float* x, const double* m, const double* a, const double* b,
                              float* y) {
  const int64_t G = B / 8;
  v8d mv[2] = {}, av[2] = {}, bv[2] = {};
  for (int64_t u = 0; u < G; ++u) mv[u] = load8d(m + 8 * u), av[u] = load8d(a + 8 * u), bv[u] = load8d(b + 8 * u);
  for (int64_t s = 0; s < S; ++s)
    for (int64_t u = 0; u < G; ++u) store8(y + s * B + 8 * u, (load8(x + s * B + 8 * u) - mv[u]) * av[u] + bv[u]);
}

// sg[j] += sum_s gy[s, j], sgx[j] += sum_s gy[s, j] (x[s, j] - m[j])
CONVNET_SIMD void brow_bwd_stats(int64_t S, int64_t B, const float* x, const float* gy, const double* m, double* sg,
                                 double* sgx) {
  const int64_t G = B / 8;
  v8d mv[2] = {}, a1[2] = {}, a2[2] = {};
  for (int64_t u = 0; u < G; ++u) mv[u] = load8d(m + 8 * u);
  for (int64_t s = 0; s < S; ++s)
    for (int64_t u = 0; u < G; ++u) {
      const v8d gv = load8(gy + s * B + 8 * u);
      a1[u] += gv;
      a2[u] += gv * (load8(x + s * B + 8 * u) - mv[u]);
    }
  for (int64_t u = 0; u < G; ++u)
    for (int j = 0; j < 8; ++j) sg[8 * u + j] += a1[u][j], sgx[8 * u + j] += a2[u][j];
}

// gx[s, j] = (gy[s, j] - c[j] - (x[s, j] - m[j]) q[j]) k[j]
CONVNET_SIMD void brow_bwd(int64_t S, int64_t B, const float* x, const float* gy, const double* m, const double* k,
                           const double* c, const double* q, float* gx) {
  const int64_t G = B / 8;
  v8d mv[2] = {}, kv[2] = {}, cv[2] = {}, qv[2] = {};
  for (int64_t u = 0; u < G; ++u)
    mv[u] = load8d(m + 8 * u), kv[u] = load8d(k + 8 * u), cv[u] = load8d(c + 8 * u), qv[u] = load8d(q + 8 * u);
  for (int64_t s = 0; s < S; ++s)
    for (int64_t u = 0; u < G; ++u) {
      const int64_t o = s * B + 8 * u;
      store8(gx + o, (load8(gy + o) - cv[u] - (load8(x + o) - mv[u]) * qv[u]) * kv[u]);
    }
}

// The blocked rows handle B = 8 and 16 (AVX2's and AVX-512's oneDNN layouts); other
// layouts go to the reference kernels.
bool fast_layout(const BatchNormGeom& g) {
  return g.B == 0 || g.B == 8 || g.B == 16;
}

// Row r of x: plain, (n, c) with S values of channel c; blocked, (n, cb) with S*B values
// of channels cb*B ... cb*B + B - 1. rows(), row_len() and first_channel() say which.
int64_t rows(const BatchNormGeom& g) {
  return g.B ? g.N * (g.C / g.B) : g.N * g.C;
}
int64_t row_len(const BatchNormGeom& g) {
  return g.B ? g.S * g.B : g.S;
}
int64_t first_channel(const BatchNormGeom& g, int64_t r) {
  return g.B ? (r % (g.C / g.B)) * g.B : r % g.C;
}

// Rows [r0, r1) of thread t of T.
void row_range(int64_t rows, int t, int T, int64_t& r0, int64_t& r1) {
  r0 = rows * t / T;
  r1 = rows * (t + 1) / T;
}

}  // namespace

void batch_norm_fwd_train(const BatchNormGeom& g, const float* x, const float* w, const float* b, double eps, float* y,
                          float* mean, float* var) {
  if (!fast_layout(g)) return ref::batch_norm_fwd_train<float>(g, x, w, b, eps, y, mean, var);
  const int64_t C = g.C, S = g.S, R = rows(g), L = row_len(g);
  const double M = static_cast<double>(g.N * S);
  const int nt = threads_for(R * L, kGrain);
  std::vector<double> part(static_cast<size_t>(nt) * 2 * C, 0.0);
  std::vector<double> shift(C), mu(C), a(C), bb(C);
  // The shift of channel c: its first value (image 0, position 0).
  for (int64_t c = 0; c < C; ++c) shift[c] = g.B ? x[(c / g.B) * L + c % g.B] : x[c * S];
#pragma omp parallel num_threads(nt)
  {
    const int t = omp_get_thread_num(), T = omp_get_num_threads();
    int64_t r0, r1;
    row_range(R, t, T, r0, r1);
    double* s1 = part.data() + static_cast<size_t>(t) * 2 * C;
    double* s2 = s1 + C;
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t c = first_channel(g, r);
      if (g.B)
        brow_stats(S, g.B, x + r * L, &shift[c], &s1[c], &s2[c]);
      else
        row_stats(S, x + r * L, shift[c], s1[c], s2[c]);
    }
#pragma omp barrier
#pragma omp single
    for (int64_t c = 0; c < C; ++c) {
      double t1 = 0, t2 = 0;
      for (int u = 0; u < T; ++u)
        t1 += part[static_cast<size_t>(u) * 2 * C + c], t2 += part[static_cast<size_t>(u) * 2 * C + C + c];
      const double d = t1 / M;
      mean[c] = static_cast<float>(shift[c] + d);
      var[c] = static_cast<float>(std::max(0.0, t2 / M - d * d));
      // Normalize with the statistics as stored (float), as the reference does.
      mu[c] = mean[c];
      a[c] = (w ? w[c] : 1.0) / std::sqrt(static_cast<double>(var[c]) + eps);
      bb[c] = b ? b[c] : 0.0;
    }
    // (the implicit barrier of `single` publishes mu, a and bb)
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t c = first_channel(g, r);
      if (g.B)
        brow_affine(S, g.B, x + r * L, &mu[c], &a[c], &bb[c], y + r * L);
      else
        row_affine(S, x + r * L, mu[c], a[c], bb[c], y + r * L);
    }
  }
}

void batch_norm_fwd_eval(const BatchNormGeom& g, const float* x, const float* mean, const float* var, const float* w,
                         const float* b, double eps, float* y) {
  if (!fast_layout(g)) return ref::batch_norm_fwd_eval<float>(g, x, mean, var, w, b, eps, y);
  const int64_t C = g.C, S = g.S, L = row_len(g);
  std::vector<double> mu(C), a(C), bb(C);
  for (int64_t c = 0; c < C; ++c) {
    mu[c] = mean[c];
    a[c] = (w ? w[c] : 1.0) / std::sqrt(static_cast<double>(var[c]) + eps);
    bb[c] = b ? b[c] : 0.0;
  }
  parallel_for(rows(g), L, [&](int64_t r) {
    const int64_t c = first_channel(g, r);
    if (g.B)
      brow_affine(S, g.B, x + r * L, &mu[c], &a[c], &bb[c], y + r * L);
    else
      row_affine(S, x + r * L, mu[c], a[c], bb[c], y + r * L);
  });
}

// With xhat = (x - mean) invstd, M = N*S, sg = sum gy, sgx = sum gy (x - mean):
//   gw = sum gy xhat = invstd sgx,  gb = sg
//   gx = w invstd (gy - sg/M - (x - mean) invstd^2 sgx/M)   (batch statistics)
//   gx = w invstd gy                                        (given statistics)
void batch_norm_bwd(const BatchNormGeom& g, const float* x, const float* gy, const float* mean, const float* var,
                    const float* w, double eps, bool batch_stats, float* gx, float* gw, float* gb) {
  if (!fast_layout(g)) return ref::batch_norm_bwd<float>(g, x, gy, mean, var, w, eps, batch_stats, gx, gw, gb);
  const int64_t C = g.C, S = g.S, R = rows(g), L = row_len(g);
  const double M = static_cast<double>(g.N * S);
  const int nt = threads_for(R * L, kGrain);
  std::vector<double> part(static_cast<size_t>(nt) * 2 * C, 0.0);
  std::vector<double> mu(C), k(C), c1(C), q(C);
  for (int64_t c = 0; c < C; ++c) mu[c] = mean[c];
#pragma omp parallel num_threads(nt)
  {
    const int t = omp_get_thread_num(), T = omp_get_num_threads();
    int64_t r0, r1;
    row_range(R, t, T, r0, r1);
    double* sg = part.data() + static_cast<size_t>(t) * 2 * C;
    double* sgx = sg + C;
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t c = first_channel(g, r);
      if (g.B)
        brow_bwd_stats(S, g.B, x + r * L, gy + r * L, &mu[c], &sg[c], &sgx[c]);
      else
        row_bwd_stats(S, x + r * L, gy + r * L, mu[c], sg[c], sgx[c]);
    }
#pragma omp barrier
#pragma omp single
    for (int64_t c = 0; c < C; ++c) {
      double t1 = 0, t2 = 0;
      for (int u = 0; u < T; ++u)
        t1 += part[static_cast<size_t>(u) * 2 * C + c], t2 += part[static_cast<size_t>(u) * 2 * C + C + c];
      const double invstd = 1.0 / std::sqrt(static_cast<double>(var[c]) + eps);
      if (gw) gw[c] = static_cast<float>(invstd * t2);
      if (gb) gb[c] = static_cast<float>(t1);
      k[c] = (w ? w[c] : 1.0) * invstd;
      c1[c] = batch_stats ? t1 / M : 0.0;
      q[c] = batch_stats ? invstd * invstd * t2 / M : 0.0;
    }
    if (gx)
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t c = first_channel(g, r);
        if (g.B)
          brow_bwd(S, g.B, x + r * L, gy + r * L, &mu[c], &k[c], &c1[c], &q[c], gx + r * L);
        else
          row_bwd(S, x + r * L, gy + r * L, mu[c], k[c], c1[c], q[c], gx + r * L);
      }
  }
}

}  // namespace convnet::kernels::cpu

namespace convnet::kernels {
void register_cpu_batch_norm() {
  keys::batch_norm_fwd_train.add("cpu", 10, &cpu::batch_norm_fwd_train);
  keys::batch_norm_fwd_eval.add("cpu", 10, &cpu::batch_norm_fwd_eval);
  keys::batch_norm_bwd.add("cpu", 10, &cpu::batch_norm_bwd);
}
}  // namespace convnet::kernels
