#pragma once
// Helpers of the reduced-precision kernels (T = bf16_t, f16_t): element conversions, and the
// "compute in float32, round the outputs" pattern of the reference twins.
#include <cstdint>
#include <vector>

#include "convnet/core/dtype.h"

namespace convnet::kernels::lowp {

inline float widen(bf16_t v) {
  return from_bf16(v);
}
inline float widen(f16_t v) {
  return from_f16(v);
}
inline float widen(float v) {
  return v;
}
template <class T>
T narrow(float f);
template <>
inline bf16_t narrow<bf16_t>(float f) {
  return to_bf16(f);
}
template <>
inline f16_t narrow<f16_t>(float f) {
  return to_f16(f);
}
template <>
inline float narrow<float>(float f) {
  return f;
}

// The n values of x as float32 (exact).
template <class T>
std::vector<float> widened(const T* x, int64_t n) {
  std::vector<float> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) out[i] = widen(x[i]);
  return out;
}
// y = x rounded to T (nearest even).
template <class T>
void narrow_into(const float* x, int64_t n, T* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = narrow<T>(x[i]);
}
// The n values of float32 x as T would hold them: rounded to T and back (what a kernel that
// computes in T sees of a float32 weight).
template <class T>
std::vector<float> rounded(const float* x, int64_t n) {
  std::vector<float> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) out[i] = widen(narrow<T>(x[i]));
  return out;
}

}  // namespace convnet::kernels::lowp
