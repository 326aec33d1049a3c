#pragma once
// Element loads and stores of the backend's kernels, for T = float, bf16_t and f16_t: a value
// is read as float32 (exact) and a float32 result is rounded to T to nearest even, bit for bit
// as convnet::to_bf16 / to_f16 on the host (NaN stays a quiet NaN, sign kept), so a kernel
// templated on T computes in float32 and rounds its output once, as the reference twins do.
#include <cuda_runtime.h>

#include <cstdint>

#include "convnet/core/dtype.h"

namespace convnet::kernels::cuda::launch {

__device__ inline float ld(float v) {
  return v;
}
__device__ inline float ld(bf16_t v) {
  return __uint_as_float(static_cast<uint32_t>(v.bits) << 16);
}
__device__ inline float ld(f16_t v) {
  const uint32_t sign = static_cast<uint32_t>(v.bits & 0x8000u) << 16;
  const uint32_t exp = (v.bits >> 10) & 0x1fu, man = v.bits & 0x3ffu;
  if (exp == 0) return __uint_as_float(__float_as_uint(ldexpf(static_cast<float>(man), -24)) | sign);
  if (exp == 31) return __uint_as_float(sign | 0x7f800000u | (man << 13));
  return __uint_as_float(sign | ((exp + 112u) << 23) | (man << 13));
}

template <class T>
__device__ inline T st(float f);
template <>
__device__ inline float st<float>(float f) {
  return f;
}
template <>
__device__ inline bf16_t st<bf16_t>(float f) {
  uint32_t u = __float_as_uint(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return {static_cast<uint16_t>((u >> 16) | 0x40)};
  u += 0x7fffu + ((u >> 16) & 1u);
  return {static_cast<uint16_t>(u >> 16)};
}
template <>
__device__ inline f16_t st<f16_t>(float f) {
  const uint32_t u = __float_as_uint(f);
  const uint32_t sign = (u >> 16) & 0x8000u;
  const uint32_t absu = u & 0x7fffffffu;
  if (absu > 0x7f800000u) return {static_cast<uint16_t>(sign | 0x7e00u)};   // NaN
  if (absu >= 0x477ff000u) return {static_cast<uint16_t>(sign | 0x7c00u)};  // rounds to >= 65520: inf
  if (absu < 0x38800000u) {  // below 2^-14: subnormal steps of 2^-24, nearest even
    const float r = rintf(__uint_as_float(absu) * 16777216.f);
    return {static_cast<uint16_t>(sign | static_cast<uint32_t>(r))};
  }
  uint32_t v = absu - (112u << 23);
  v += 0xfffu + ((v >> 13) & 1u);
  return {static_cast<uint16_t>(sign | (v >> 13))};
}

}  // namespace convnet::kernels::cuda::launch
