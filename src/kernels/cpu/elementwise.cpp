// Elementwise arithmetic, sum and concat on the CPU: vectorized loops over one contiguous
// chunk per thread (see parallel.h). The sum accumulates each chunk in double, like the
// reference, and adds the per-thread partial sums in thread order, so a given thread
// count always gives the same result.
#include <cstring>
#include <vector>

#include "kernels/cpu/parallel.h"
#include "kernels/elementwise.h"
#include "kernels/registry.h"

namespace convnet::kernels::cpu {

namespace {

CONVNET_SIMD void add_f(int64_t n, const float* a, const float* b, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = a[i] + b[i];
}
CONVNET_SIMD void sub_f(int64_t n, const float* a, const float* b, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = a[i] - b[i];
}
CONVNET_SIMD void mul_f(int64_t n, const float* a, const float* b, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = a[i] * b[i];
}
CONVNET_SIMD void scale_f(int64_t n, float s, const float* x, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = s * x[i];
}
// Accumulated in double like the reference (a float running sum of n terms of the same
// sign drifts by up to ~n ulp): 8 double lanes, explicit vectors because the compiler
// may not reorder a sum itself.
typedef double v8d __attribute__((vector_size(64)));
typedef float v8f __attribute__((vector_size(32)));
CONVNET_SIMD double sum_f(int64_t n, const float* x) {
  v8d lane = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    v8f v;
    __builtin_memcpy(&v, x + i, sizeof v);
    lane += __builtin_convertvector(v, v8d);
  }
  double acc = 0;
  for (int j = 0; j < 8; ++j) acc += lane[j];
  for (; i < n; ++i) acc += x[i];
  return acc;
}

}  // namespace

void add(int64_t n, const float* a, const float* b, float* y) {
  parallel_chunks(n, [&](int64_t lo, int64_t hi) { add_f(hi - lo, a + lo, b + lo, y + lo); });
}
void sub(int64_t n, const float* a, const float* b, float* y) {
  parallel_chunks(n, [&](int64_t lo, int64_t hi) { sub_f(hi - lo, a + lo, b + lo, y + lo); });
}
void mul(int64_t n, const float* a, const float* b, float* y) {
  parallel_chunks(n, [&](int64_t lo, int64_t hi) { mul_f(hi - lo, a + lo, b + lo, y + lo); });
}
void scale(int64_t n, float s, const float* x, float* y) {
  parallel_chunks(n, [&](int64_t lo, int64_t hi) { scale_f(hi - lo, s, x + lo, y + lo); });
}

void sum(int64_t n, const float* x, float* y) {
  const int nt = threads_for(n, kGrain);
  if (nt <= 1) {
    y[0] = static_cast<float>(sum_f(n, x));
    return;
  }
  std::vector<double> part(static_cast<size_t>(nt), 0.0);
#pragma omp parallel num_threads(nt)
  {
    int64_t lo, hi;
    chunk(n, omp_get_thread_num(), omp_get_num_threads(), lo, hi);
    part[omp_get_thread_num()] = sum_f(hi - lo, x + lo);
  }
  double acc = 0;
  for (double p : part) acc += p;
  y[0] = static_cast<float>(acc);
}

// Each outer row is independent: the rows are split over the threads. Copies, so one
// template serves every element type (float32, and the 16-bit bfloat16 / float16).
template <class T>
void concat_fwd(int64_t outer, int64_t inner, int64_t count, const int64_t* sizes, const T* const* xs, T* y) {
  int64_t total = 0;
  for (int64_t i = 0; i < count; ++i) total += sizes[i];
  parallel_for(outer, total * inner, [&](int64_t o) {
    T* row = y + o * total * inner;
    for (int64_t i = 0; i < count; ++i) {
      const int64_t len = sizes[i] * inner;
      std::memcpy(row, xs[i] + o * len, sizeof(T) * len);
      row += len;
    }
  });
}

template <class T>
void concat_bwd(int64_t outer, int64_t inner, int64_t count, const int64_t* sizes, const T* gy, T* const* gxs) {
  int64_t total = 0;
  for (int64_t i = 0; i < count; ++i) total += sizes[i];
  parallel_for(outer, total * inner, [&](int64_t o) {
    const T* row = gy + o * total * inner;
    for (int64_t i = 0; i < count; ++i) {
      const int64_t len = sizes[i] * inner;
      if (gxs[i]) std::memcpy(gxs[i] + o * len, row, sizeof(T) * len);
      row += len;
    }
  });
}

}  // namespace convnet::kernels::cpu

namespace convnet::kernels {
void register_cpu_elementwise() {
  keys::add.add("cpu", 10, &cpu::add);
  keys::sub.add("cpu", 10, &cpu::sub);
  keys::mul.add("cpu", 10, &cpu::mul);
  keys::scale.add("cpu", 10, &cpu::scale);
  keys::sum.add("cpu", 10, &cpu::sum);
  keys::concat_fwd.add("cpu", 10, &cpu::concat_fwd<float>);
  keys::concat_bwd.add("cpu", 10, &cpu::concat_bwd<float>);
  keys::concat_fwd_bf16.add("cpu", 10, &cpu::concat_fwd<bf16_t>);
  keys::concat_bwd_bf16.add("cpu", 10, &cpu::concat_bwd<bf16_t>);
}
}  // namespace convnet::kernels
