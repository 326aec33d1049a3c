// bfloat16 batch normalization on the CPU, for channels-last activations (NHWC: what the AMX
// convolutions produce, kernels/layout.h): x is P = N*S positions of C channels. The same
// scheme as the float32 kernel (kernels/cpu/batch_norm.cpp): positions split evenly over the
// threads, per-thread per-channel partial sums in double combined in thread order (a thread
// count always gives the same bits), shifted-data statistics in one pass, one parallel region.
// The elementwise passes compute in float32 and round once. Other layouts are widened to
// float32 and go through the float32 kernel.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/batch_norm.h"
#include "kernels/cpu/bf16.h"
#include "kernels/cpu/parallel.h"
#include "kernels/registry.h"

namespace convnet::kernels::cpu {

namespace {

// (Vectors of 16 floats pass between always-inline helpers: no ABI is involved.)
#pragma GCC diagnostic ignored "-Wpsabi"

// Channels in chunks of 16 V (V = 1, 2 or 4 AVX-512 registers; a chunk of 64 channels is two
// whole cache lines of bfloat16), each chunk over all the positions with stride C, its sums in
// registers: float32 over at most 64 positions at a time (the shifted values are small, so
// that loses nothing a bfloat16 input has), then added to the double per-channel sums.
constexpr int64_t kRun = 64;

int chunk_vectors(int64_t C) {
  return C % 64 == 0 ? 4 : C % 32 == 0 ? 2 : 1;
}

template <int V>
[[gnu::always_inline]] inline void stats_chunk(int64_t P, int64_t C, const uint16_t* x, const float* K, double* s1,
                                               double* s2) {
  v16f k[V];
  for (int v = 0; v < V; ++v) k[v] = loadf16(K + 16 * v);
  for (int64_t p0 = 0; p0 < P; p0 += kRun) {
    const int64_t p1 = std::min(P, p0 + kRun);
    v16f a1[V] = {}, a2[V] = {};
    for (int64_t p = p0; p < p1; ++p)
      for (int v = 0; v < V; ++v) {
        const v16f d = load16(x + p * C + 16 * v) - k[v];
        a1[v] += d;
        a2[v] += d * d;
      }
    for (int v = 0; v < V; ++v)
      for (int j = 0; j < 16; ++j) s1[16 * v + j] += a1[v][j], s2[16 * v + j] += a2[v][j];
  }
}
// s1[c] += sum (x - K[c]), s2[c] += sum (x - K[c])^2 over P positions; C % 16 == 0.
CONVNET_SIMD void cl_stats(int64_t P, int64_t C, const uint16_t* x, const float* K, double* s1, double* s2) {
  const int V = chunk_vectors(C);
  for (int64_t c = 0; c < C; c += 16 * V) {
    if (V == 4)
      stats_chunk<4>(P, C, x + c, K + c, s1 + c, s2 + c);
    else if (V == 2)
      stats_chunk<2>(P, C, x + c, K + c, s1 + c, s2 + c);
    else
      stats_chunk<1>(P, C, x + c, K + c, s1 + c, s2 + c);
  }
}

template <int V>
[[gnu::always_inline]] inline void bwd_stats_chunk(int64_t P, int64_t C, const uint16_t* x, const uint16_t* gy,
                                                   const float* m, double* sg, double* sgx) {
  v16f mv[V];
  for (int v = 0; v < V; ++v) mv[v] = loadf16(m + 16 * v);
  for (int64_t p0 = 0; p0 < P; p0 += kRun) {
    const int64_t p1 = std::min(P, p0 + kRun);
    v16f a1[V] = {}, a2[V] = {};
    for (int64_t p = p0; p < p1; ++p)
      for (int v = 0; v < V; ++v) {
        const v16f g = load16(gy + p * C + 16 * v);
        a1[v] += g;
        a2[v] += g * (load16(x + p * C + 16 * v) - mv[v]);
      }
    for (int v = 0; v < V; ++v)
      for (int j = 0; j < 16; ++j) sg[16 * v + j] += a1[v][j], sgx[16 * v + j] += a2[v][j];
  }
}
// sg[c] += sum gy, sgx[c] += sum gy (x - m[c]); C % 16 == 0.
CONVNET_SIMD void cl_bwd_stats(int64_t P, int64_t C, const uint16_t* x, const uint16_t* gy, const float* m, double* sg,
                               double* sgx) {
  const int V = chunk_vectors(C);
  for (int64_t c = 0; c < C; c += 16 * V) {
    if (V == 4)
      bwd_stats_chunk<4>(P, C, x + c, gy + c, m + c, sg + c, sgx + c);
    else if (V == 2)
      bwd_stats_chunk<2>(P, C, x + c, gy + c, m + c, sg + c, sgx + c);
    else
      bwd_stats_chunk<1>(P, C, x + c, gy + c, m + c, sg + c, sgx + c);
  }
}
// y = (x - m) a + b, position by position; C % 16 == 0.
CONVNET_SIMD void cl_affine(int64_t P, int64_t C, const uint16_t* x, const float* m, const float* a, const float* b,
                            uint16_t* y) {
  for (int64_t p = 0; p < P; ++p, x += C, y += C)
    for (int64_t c = 0; c < C; c += 16)
      store16(y + c, (load16(x + c) - loadf16(m + c)) * loadf16(a + c) + loadf16(b + c));
}
// gx = (gy - c1 - (x - m) q) k; C % 16 == 0.
CONVNET_SIMD void cl_bwd(int64_t P, int64_t C, const uint16_t* x, const uint16_t* gy, const float* m, const float* k,
                         const float* c1, const float* q, uint16_t* gx) {
  for (int64_t p = 0; p < P; ++p, x += C, gy += C, gx += C)
    for (int64_t c = 0; c < C; c += 16)
      store16(gx + c,
              (load16(gy + c) - loadf16(c1 + c) - (load16(x + c) - loadf16(m + c)) * loadf16(q + c)) * loadf16(k + c));
}

// The vector loops take channels-last tensors with whole 16-channel vectors (the CNNs' 16,
// 32, 64, ... channels).
bool channels_last(const BatchNormGeom& g) {
  return g.B != 0 && g.B == g.C && g.C % 16 == 0;
}

// Positions [p0, p1) of thread t of T.
void pos_range(int64_t P, int t, int T, int64_t& p0, int64_t& p1) {
  p0 = P * t / T;
  p1 = P * (t + 1) / T;
}

}  // namespace

void batch_norm_fwd_train_bf16(const BatchNormGeom& g, const bf16_t* x, const float* w, const float* b, double eps,
                               bf16_t* y, float* mean, float* var) {
  const int64_t C = g.C, P = g.N * g.S;
  if (!channels_last(g)) {
    return via_float32(x, P * C, y, P * C,
                       [&](const float* in, float* out) { batch_norm_fwd_train(g, in, w, b, eps, out, mean, var); });
  }
  const double M = static_cast<double>(P);
  const int nt = threads_for(P * C, kGrain);
  std::vector<double> part(static_cast<size_t>(nt) * 2 * C, 0.0);
  std::vector<float> shift(C), mu(C), a(C), bb(C);
  for (int64_t c = 0; c < C; ++c) shift[c] = bf2f(bits(x)[c]);  // position 0
#pragma omp parallel num_threads(nt)
  {
    const int t = omp_get_thread_num(), T = omp_get_num_threads();
    int64_t p0, p1;
    pos_range(P, t, T, p0, p1);
    double* s1 = part.data() + static_cast<size_t>(t) * 2 * C;
    cl_stats(p1 - p0, C, bits(x) + p0 * C, shift.data(), s1, s1 + C);
#pragma omp barrier
#pragma omp single
    for (int64_t c = 0; c < C; ++c) {
      double t1 = 0, t2 = 0;
      for (int u = 0; u < T; ++u)
        t1 += part[static_cast<size_t>(u) * 2 * C + c], t2 += part[static_cast<size_t>(u) * 2 * C + C + c];
      const double d = t1 / M;
      mean[c] = static_cast<float>(shift[c] + d);
      var[c] = static_cast<float>(std::max(0.0, t2 / M - d * d));
      mu[c] = mean[c];
      a[c] = static_cast<float>((w ? w[c] : 1.0) / std::sqrt(static_cast<double>(var[c]) + eps));
      bb[c] = b ? b[c] : 0.f;
    }
    cl_affine(p1 - p0, C, bits(x) + p0 * C, mu.data(), a.data(), bb.data(), bits(y) + p0 * C);
  }
}

void batch_norm_fwd_eval_bf16(const BatchNormGeom& g, const bf16_t* x, const float* mean, const float* var,
                              const float* w, const float* b, double eps, bf16_t* y) {
  const int64_t C = g.C, P = g.N * g.S;
  if (!channels_last(g)) {
    return via_float32(x, P * C, y, P * C,
                       [&](const float* in, float* out) { batch_norm_fwd_eval(g, in, mean, var, w, b, eps, out); });
  }
  std::vector<float> a(C), bb(C);
  for (int64_t c = 0; c < C; ++c) {
    a[c] = static_cast<float>((w ? w[c] : 1.0) / std::sqrt(static_cast<double>(var[c]) + eps));
    bb[c] = b ? b[c] : 0.f;
  }
  parallel_chunks(
      P,
      [&](int64_t p0, int64_t p1) {
        cl_affine(p1 - p0, C, bits(x) + p0 * C, mean, a.data(), bb.data(), bits(y) + p0 * C);
      },
      kGrain / C);
}

// The float32 kernel's equations (kernels/cpu/batch_norm.cpp), per position row.
void batch_norm_bwd_bf16(const BatchNormGeom& g, const bf16_t* x, const bf16_t* gy, const float* mean, const float* var,
                         const float* w, double eps, bool batch_stats, bf16_t* gx, float* gw, float* gb) {
  const int64_t C = g.C, P = g.N * g.S;
  if (!channels_last(g)) {
    const FloatBuffer xf = widened(x, P * C), gyf = widened(gy, P * C);
    FloatBuffer gxf(gx ? P * C : 0);
    batch_norm_bwd(g, xf.data(), gyf.data(), mean, var, w, eps, batch_stats, gx ? gxf.data() : nullptr, gw, gb);
    if (gx) narrow_into(gxf.data(), P * C, gx);
    return;
  }
  const double M = static_cast<double>(P);
  const int nt = threads_for(P * C, kGrain);
  std::vector<double> part(static_cast<size_t>(nt) * 2 * C, 0.0);
  std::vector<float> mu(C), k(C), c1(C), q(C);
  for (int64_t c = 0; c < C; ++c) mu[c] = mean[c];
#pragma omp parallel num_threads(nt)
  {
    const int t = omp_get_thread_num(), T = omp_get_num_threads();
    int64_t p0, p1;
    pos_range(P, t, T, p0, p1);
    double* sg = part.data() + static_cast<size_t>(t) * 2 * C;
    cl_bwd_stats(p1 - p0, C, bits(x) + p0 * C, bits(gy) + p0 * C, mu.data(), sg, sg + C);
#pragma omp barrier
#pragma omp single
    for (int64_t c = 0; c < C; ++c) {
      double t1 = 0, t2 = 0;
      for (int u = 0; u < T; ++u)
        t1 += part[static_cast<size_t>(u) * 2 * C + c], t2 += part[static_cast<size_t>(u) * 2 * C + C + c];
      const double invstd = 1.0 / std::sqrt(static_cast<double>(var[c]) + eps);
      if (gw) gw[c] = static_cast<float>(invstd * t2);
      if (gb) gb[c] = static_cast<float>(t1);
      k[c] = static_cast<float>((w ? w[c] : 1.0) * invstd);
      c1[c] = static_cast<float>(batch_stats ? t1 / M : 0.0);
      q[c] = static_cast<float>(batch_stats ? invstd * invstd * t2 / M : 0.0);
    }
    if (gx)
      cl_bwd(p1 - p0, C, bits(x) + p0 * C, bits(gy) + p0 * C, mu.data(), k.data(), c1.data(), q.data(),
             bits(gx) + p0 * C);
  }
}

}  // namespace convnet::kernels::cpu

namespace convnet::kernels {
void register_cpu_batch_norm_lowp() {
  keys::batch_norm_fwd_train_bf16.add("cpu", 10, &cpu::batch_norm_fwd_train_bf16);
  keys::batch_norm_fwd_eval_bf16.add("cpu", 10, &cpu::batch_norm_fwd_eval_bf16);
  keys::batch_norm_bwd_bf16.add("cpu", 10, &cpu::batch_norm_bwd_bf16);
}
}  // namespace convnet::kernels
