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
#include <cmath>
#include <vector>

#include "kernels/batch_norm.h"
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

// Rows [r0, r1) of thread t of T.
void row_range(int64_t rows, int t, int T, int64_t& r0, int64_t& r1) {
  r0 = rows * t / T;
  r1 = rows * (t + 1) / T;
}

}  // namespace

void batch_norm_fwd_train(const BatchNormGeom& g, const float* x, const float* w, const float* b, double eps, float* y,
                          float* mean, float* var) {
  const int64_t C = g.C, S = g.S, rows = g.N * C;
  const double M = static_cast<double>(g.N * S);
  const int nt = threads_for(rows * S, kGrain);
  std::vector<double> part(static_cast<size_t>(nt) * 2 * C, 0.0);
  std::vector<double> shift(C), a(C), bb(C);
  for (int64_t c = 0; c < C; ++c) shift[c] = x[c * S];
#pragma omp parallel num_threads(nt)
  {
    const int t = omp_get_thread_num(), T = omp_get_num_threads();
    int64_t r0, r1;
    row_range(rows, t, T, r0, r1);
    double* p = part.data() + static_cast<size_t>(t) * 2 * C;
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t c = r % C;
      row_stats(S, x + r * S, shift[c], p[2 * c], p[2 * c + 1]);
    }
#pragma omp barrier
#pragma omp single
    for (int64_t c = 0; c < C; ++c) {
      double s1 = 0, s2 = 0;
      for (int u = 0; u < T; ++u)
        s1 += part[(static_cast<size_t>(u) * C + c) * 2], s2 += part[(static_cast<size_t>(u) * C + c) * 2 + 1];
      const double d = s1 / M;
      const double mu = shift[c] + d, v = std::max(0.0, s2 / M - d * d);
      mean[c] = static_cast<float>(mu);
      var[c] = static_cast<float>(v);
      // Normalize with the statistics as stored (float), as the reference does.
      const double invstd = 1.0 / std::sqrt(static_cast<double>(var[c]) + eps);
      a[c] = invstd * (w ? w[c] : 1.0);
      bb[c] = b ? b[c] : 0.0;
    }
    // (the implicit barrier of `single` publishes mean, a and bb)
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t c = r % C;
      row_affine(S, x + r * S, mean[c], a[c], bb[c], y + r * S);
    }
  }
}

void batch_norm_fwd_eval(const BatchNormGeom& g, const float* x, const float* mean, const float* var, const float* w,
                         const float* b, double eps, float* y) {
  const int64_t C = g.C, S = g.S;
  std::vector<double> a(C);
  for (int64_t c = 0; c < C; ++c) a[c] = (w ? w[c] : 1.0) / std::sqrt(static_cast<double>(var[c]) + eps);
  parallel_for(g.N * C, S, [&](int64_t r) {
    const int64_t c = r % C;
    row_affine(S, x + r * S, mean[c], a[c], b ? b[c] : 0.0, y + r * S);
  });
}

// With xhat = (x - mean) invstd, M = N*S, sg = sum gy, sgx = sum gy (x - mean):
//   gw = sum gy xhat = invstd sgx,  gb = sg
//   gx = w invstd (gy - sg/M - (x - mean) invstd^2 sgx/M)   (batch statistics)
//   gx = w invstd gy                                        (given statistics)
void batch_norm_bwd(const BatchNormGeom& g, const float* x, const float* gy, const float* mean, const float* var,
                    const float* w, double eps, bool batch_stats, float* gx, float* gw, float* gb) {
  const int64_t C = g.C, S = g.S, rows = g.N * C;
  const double M = static_cast<double>(g.N * S);
  const int nt = threads_for(rows * S, kGrain);
  std::vector<double> part(static_cast<size_t>(nt) * 2 * C, 0.0);
  std::vector<double> k(C), c1(C), q(C);
#pragma omp parallel num_threads(nt)
  {
    const int t = omp_get_thread_num(), T = omp_get_num_threads();
    int64_t r0, r1;
    row_range(rows, t, T, r0, r1);
    double* p = part.data() + static_cast<size_t>(t) * 2 * C;
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t c = r % C;
      row_bwd_stats(S, x + r * S, gy + r * S, mean[c], p[2 * c], p[2 * c + 1]);
    }
#pragma omp barrier
#pragma omp single
    for (int64_t c = 0; c < C; ++c) {
      double sg = 0, sgx = 0;
      for (int u = 0; u < T; ++u)
        sg += part[(static_cast<size_t>(u) * C + c) * 2], sgx += part[(static_cast<size_t>(u) * C + c) * 2 + 1];
      const double invstd = 1.0 / std::sqrt(static_cast<double>(var[c]) + eps);
      if (gw) gw[c] = static_cast<float>(invstd * sgx);
      if (gb) gb[c] = static_cast<float>(sg);
      k[c] = (w ? w[c] : 1.0) * invstd;
      c1[c] = batch_stats ? sg / M : 0.0;
      q[c] = batch_stats ? invstd * invstd * sgx / M : 0.0;
    }
    if (gx)
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t c = r % C;
        row_bwd(S, x + r * S, gy + r * S, mean[c], k[c], c1[c], q[c], gx + r * S);
      }
  }
}

}  // namespace convnet::kernels::cpu

namespace convnet::kernels {
void register_cpu_batch_norm() {
  add<BatchNormFwdTrainFn<float>>("batch_norm_fwd_train", "cpu", 10, &cpu::batch_norm_fwd_train);
  add<BatchNormFwdEvalFn<float>>("batch_norm_fwd_eval", "cpu", 10, &cpu::batch_norm_fwd_eval);
  add<BatchNormBwdFn<float>>("batch_norm_bwd", "cpu", 10, &cpu::batch_norm_bwd);
}
}  // namespace convnet::kernels
