#pragma once
// Vectorizable float transcendental functions for the "cpu" activation kernels: plain
// arithmetic and bit operations only, so that a `#pragma omp simd` loop in a CONVNET_SIMD
// function compiles them to AVX-512 / AVX2 instead of calling libm per element.
#include <bit>
#include <cmath>
#include <cstdint>

namespace convnet::kernels::cpu {

// exp(x) for x <= 0 (and NaN, which it returns), within 2 ulp of libm's expf: Cephes'
// expf. x = n ln2 + r with |r| <= ln2 / 2 (ln2 split in two so that n ln2 is exact), a
// degree-7 polynomial for e^r, and 2^n put into the exponent bits. Below -87.3 (where e^x
// is subnormal) the result is e^-87.3 = 1.2e-38 instead: no caller can tell the difference
// next to the 1 it is added to.
inline float exp_nonpos(float x) {
  x = x < -87.33654f ? -87.33654f : x;  // NaN compares false and stays
  const float n = std::floor(x * 1.44269504088896341f + 0.5f);
  const float r = (x - n * 0.693359375f) + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float y = p * r * r + r + 1.f;
  const auto bits = static_cast<uint32_t>(static_cast<int32_t>(n) + 127) << 23;
  return y * std::bit_cast<float>(bits);
}

// The logistic sigmoid from e = exp(-|x|): 1 / (1 + e) for x >= 0, e / (1 + e) below (no
// overflow, no cancellation); NaN for NaN.
inline float sigmoid_v(float x) {
  const float e = exp_nonpos(-std::fabs(x));
  const float s = 1.f / (1.f + e);
  return x >= 0.f ? s : e * s;
}

}  // namespace convnet::kernels::cpu
