#pragma once
// Helpers for the tests that compare every registered kernel variant with its reference
// twin (test_kernel_variants.cpp, test_conv2d.cpp, test_gemm_variants.cpp,
// test_layout.cpp, test_conv_own_kernels.cpp). They never fall back: a backend that registered a forward kernel but
// not its backward one fails the test instead of being compared with the reference, and a
// test that compared nothing fails too (expect_compared).
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "kernels/lowp.h"
#include "kernels/registry.h"
#include "util/test_util.h"

namespace convnet::testing {

// The variants of `key` other than the reference one.
template <class Fn>
std::vector<kernels::Variant<Fn>> fast_variants(const kernels::Kernel<Fn>& key) {
  std::vector<kernels::Variant<Fn>> out;
  for (const auto& v : key.variants())
    if (v.backend != "ref") out.push_back(v);
  return out;
}
// The variant of `key` that `backend` registered; a test failure (and a null kernel) if
// that backend has none: a family's kernels are compared backend by backend.
template <class Fn>
kernels::Variant<Fn> partner(const kernels::Kernel<Fn>& key, const std::string& backend) {
  for (const auto& v : key.variants())
    if (v.backend == backend) return v;
  ADD_FAILURE() << "backend '" << backend << "' registered no kernel for '" << key.name()
                << "' (a family's kernels are compared backend by backend, never against the reference)";
  return {backend, 0, nullptr};
}
// The "ref" variant's kernel of `key`; a test failure (and null) if there is none.
template <class Fn>
Fn* reference(const kernels::Kernel<Fn>& key) {
  return partner(key, "ref").fn;
}

// How the README's "Backends" table describes each kernel key on the CPU:
//   Fast         "fast": an own vectorized / threaded kernel or a library (oneDNN, OpenBLAS);
//   ThreadedRef  "threaded reference": the reference loop on sub-problems split over threads;
//   Reference    "reference": only the reference kernel.
// Read from README.md at test time, so the words and the registry cannot drift apart.
enum class KernelKind { Fast, ThreadedRef, Reference };
std::map<std::string, KernelKind> readme_kernel_table();

// n floats uniform in [-scale, scale), from random_doubles(n, seed).
inline std::vector<float> rnd(size_t n, uint64_t seed, float scale = 1.f) {
  auto d = random_doubles(n, seed);
  std::vector<float> f(n);
  for (size_t i = 0; i < n; ++i) f[i] = static_cast<float>(d[i]) * scale;
  return f;
}
// all_close on float vectors (default tolerances 1e-4 relative and absolute).
inline ::testing::AssertionResult close(const std::vector<float>& a, const std::vector<float>& e, double rtol = 1e-4,
                                        double atol = 1e-4) {
  return all_close(std::vector<double>(a.begin(), a.end()), std::vector<double>(e.begin(), e.end()), rtol, atol);
}
// Bitwise-equal NaN positions, equal infinities, values close elsewhere.
inline ::testing::AssertionResult close_nan(const std::vector<float>& a, const std::vector<float>& e) {
  std::vector<float> a2 = a, e2 = e;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) != std::isnan(e[i]))
      return ::testing::AssertionFailure() << "NaN mismatch at " << i << ": " << a[i] << " vs " << e[i];
    if (std::isnan(a[i])) a2[i] = e2[i] = 0;
    if (std::isinf(e[i]) && a[i] == e[i]) a2[i] = e2[i] = 0;  // the same infinity (sqrt' at 0)
  }
  return close(a2, e2);
}

// Reduced-precision values (bf16_t, f16_t) bit for bit; NaN for NaN (payloads may differ: a
// twin's rounding quiets them).
template <class T>
::testing::AssertionResult same_bits(const std::vector<T>& a, const std::vector<T>& e) {
  if (a.size() != e.size()) return ::testing::AssertionFailure() << a.size() << " values vs " << e.size();
  for (size_t i = 0; i < a.size(); ++i) {
    const float x = kernels::lowp::widen(a[i]), y = kernels::lowp::widen(e[i]);
    if (std::isnan(x) && std::isnan(y)) continue;
    if (a[i].bits != e[i].bits)
      return ::testing::AssertionFailure()
             << "element " << i << ": " << x << " (bits " << a[i].bits << ") vs " << y << " (bits " << e[i].bits << ")";
  }
  return ::testing::AssertionSuccess();
}

// Elementwise lengths around the threading grain and the 16-element chunk alignment.
inline const std::vector<int64_t> kLengths = {1, 7, 16, 17, 1000, 32768, 65536 + 5, 300001};

// Counts comparisons of a non-reference variant per key; expect_compared(keys) fails for
// each key that the README says has a non-reference kernel and that was compared zero
// times (a loop over variants that ran zero times proves nothing).
void count_compared(const kernels::KernelBase& key);
void expect_compared(const std::vector<const kernels::KernelBase*>& keys);

}  // namespace convnet::testing
