// Vector operations on the CPU (kernels/vector.h) for the ones over whole parameter or
// activation tensors: chunks split over the threads, vectorized inner loops. sum_squares
// sums each chunk in double and then the chunks, so it can differ from the reference in
// the last bits (the test bounds it); the others are bit-identical.
#include <vector>

#include "kernels/cpu/parallel.h"
#include "kernels/vector.h"

namespace convnet::kernels::cpu {

namespace {
CONVNET_SIMD double squares(int64_t n, const float* x) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += static_cast<double>(x[i]) * x[i];
  return s;
}
CONVNET_SIMD void axpby_chunk(int64_t n, float a, float* y, float b, const float* x) {
  for (int64_t i = 0; i < n; ++i) y[i] = a * y[i] + b * x[i];
}
CONVNET_SIMD void affine_chunk(int64_t n, float a, const float* x, float c, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = a * x[i] + c;
}
}  // namespace

void sum_squares(int64_t n, const float* x, double* out) {
  const int nt = threads_for(n, kGrain);
  std::vector<double> part(static_cast<size_t>(nt), 0.0);
  if (nt <= 1) {
    *out = squares(n, x);
    return;
  }
#pragma omp parallel num_threads(nt)
  {
    int64_t b, e;
    chunk(n, omp_get_thread_num(), omp_get_num_threads(), b, e);
    if (e > b) part[static_cast<size_t>(omp_get_thread_num())] = squares(e - b, x + b);
  }
  double s = 0;
  for (double p : part) s += p;
  *out = s;
}

void sum_squares_many(int64_t count, const int64_t* n, const float* const* x, double* out) {
  for (int64_t t = 0; t < count; ++t) sum_squares(n[t], x[t], &out[t]);
}

void axpby(int64_t n, float a, float* y, float b, const float* x) {
  parallel_chunks(n, [&](int64_t lo, int64_t hi) { axpby_chunk(hi - lo, a, y + lo, b, x + lo); });
}

void affine(int64_t n, float a, const float* x, float c, float* y) {
  parallel_chunks(n, [&](int64_t lo, int64_t hi) { affine_chunk(hi - lo, a, x + lo, c, y + lo); });
}

void dropout_mask(int64_t n, int64_t group, float p, uint64_t seed, float scale, float* mask) {
  parallel_chunks(n, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i)
      mask[i] = counter_uniform(seed, static_cast<uint64_t>(i / group)) < p ? 0.f : scale;
  });
}

}  // namespace convnet::kernels::cpu

namespace convnet::kernels {
void register_cpu_vector() {
  keys::sum_squares.add("cpu", 10, &cpu::sum_squares);
  keys::sum_squares_many.add("cpu", 10, &cpu::sum_squares_many);
  keys::axpby.add("cpu", 10, &cpu::axpby);
  keys::affine.add("cpu", 10, &cpu::affine);
  keys::dropout_mask.add("cpu", 10, &cpu::dropout_mask);
}
}  // namespace convnet::kernels
