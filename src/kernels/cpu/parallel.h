#pragma once
// Threading helpers of the "cpu" kernels (OpenMP).
//
// Loops over elements run as one contiguous chunk per thread, so each thread streams
// through its own part of memory. Below a grain size the loop runs on the calling thread:
// starting a parallel region costs a few microseconds, more than a small loop.
//
// CONVNET_SIMD marks the serial inner loops for function multi-versioning: GCC compiles
// them for AVX-512, AVX2 and baseline x86-64 and picks the best at load time, so the
// library stays portable (no -march=native) yet vectorizes on the machine it runs on.
// (It goes on plain functions the parallel region calls, not on the region itself: the
// outlined OpenMP body would not inherit the target.)
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>

#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define CONVNET_SIMD __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CONVNET_SIMD
#endif

namespace convnet::kernels::cpu {

// Elementwise loops: below this many elements, one thread.
constexpr int64_t kGrain = 1 << 15;

inline int threads_for(int64_t work, int64_t grain) {
  if (omp_in_parallel()) return 1;
  const int64_t by_size = std::max<int64_t>(1, work / grain);
  return static_cast<int>(std::min<int64_t>(omp_get_max_threads(), by_size));
}

// Chunk t of T of [0, n): bounds are multiples of 16 elements (a 64-byte cache line of
// floats), so no two threads write the same line.
inline void chunk(int64_t n, int64_t t, int64_t T, int64_t& b, int64_t& e) {
  b = std::min(n, (n * t / T) & ~int64_t{15});
  e = t + 1 == T ? n : std::min(n, (n * (t + 1) / T) & ~int64_t{15});
}

// fn(begin, end) over one chunk of [0, n) per thread.
template <class F>
void parallel_chunks(int64_t n, F&& fn, int64_t grain = kGrain) {
  const int nt = threads_for(n, grain);
  if (nt <= 1) {
    if (n > 0) fn(int64_t{0}, n);
    return;
  }
#pragma omp parallel num_threads(nt)
  {
    int64_t b, e;
    chunk(n, omp_get_thread_num(), omp_get_num_threads(), b, e);
    if (e > b) fn(b, e);
  }
}

// fn(i) for i in [0, n), statically scheduled; `cost` is the rough work of one item in
// elements, to decide whether threads pay off.
template <class F>
void parallel_for(int64_t n, int64_t cost, F&& fn) {
  const int nt = threads_for(n * std::max<int64_t>(cost, 1), kGrain);
  if (nt <= 1) {
    for (int64_t i = 0; i < n; ++i) fn(i);
    return;
  }
#pragma omp parallel for schedule(static) num_threads(nt)
  for (int64_t i = 0; i < n; ++i) fn(i);
}

// fn(u) for the work units u in [0, units) of a kernel of our own doing `flops` in all: each
// thread takes a contiguous, even share of the units, at least 64 KFLOP of them.
template <class F>
void parallel_units(int64_t units, double flops, F&& fn) {
  const int nt =
      static_cast<int>(std::min<int64_t>(threads_for(static_cast<int64_t>(std::min(flops, 1e18)), 64000), units));
  if (nt <= 1) {
    for (int64_t u = 0; u < units; ++u) fn(u);
    return;
  }
#pragma omp parallel num_threads(nt)
  {
    const int64_t t = omp_get_thread_num(), T = omp_get_num_threads();
    for (int64_t u = units * t / T; u < units * (t + 1) / T; ++u) fn(u);
  }
}

// Whether this CPU runs the AVX2 + FMA kernels of our own (Winograd, few-pixels, direct: their
// register tiles are written in those intrinsics), asked once.
inline bool cpu_has_avx2_fma() {
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return yes;
}

// Whether this CPU runs the AVX-512 kernels of our own (pointwise, rows, the direct kernel's
// blocks of 16), asked once.
inline bool cpu_has_avx512() {
  static const bool yes = __builtin_cpu_supports("avx512f");
  return yes;
}

// Whether the environment variable `name` is "0": how a kernel of our own is turned off for a
// comparison (CONVNET_FEW_PIXELS=0, CONVNET_DIRECT=0, CONVNET_POINTWISE=0, CONVNET_ROWS=0).
inline bool env_is_zero(const char* name) {
  const char* env = std::getenv(name);
  return env && env[0] == '0' && env[1] == '\0';
}

// Limits the OpenMP threads of the calling thread while alive (OpenMP's setting is per
// thread: other threads keep theirs); a limit at or above the current count does nothing.
class ThreadLimit {
 public:
  explicit ThreadLimit(int n) : prev_(omp_get_max_threads()), set_(n < prev_) {
    if (set_) omp_set_num_threads(n);
  }
  ~ThreadLimit() {
    if (set_) omp_set_num_threads(prev_);
  }
  ThreadLimit(const ThreadLimit&) = delete;
  ThreadLimit& operator=(const ThreadLimit&) = delete;

 private:
  int prev_;
  bool set_;
};

}  // namespace convnet::kernels::cpu
