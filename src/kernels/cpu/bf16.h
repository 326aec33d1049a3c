#pragma once
// bfloat16 <-> float32 on the bits, written so that GCC vectorizes loops over them (the
// CONVNET_SIMD loops of the bf16 kernels): widening is a shift, narrowing rounds to nearest
// even with integer adds, NaN stays a quiet NaN (as to_bf16 in core/dtype.h, bit for bit).
#include <cstdint>
#include <cstring>
#include <memory>

#include "convnet/core/dtype.h"
#include "convnet/core/storage.h"
#include "kernels/convert.h"

namespace convnet::kernels::cpu {

[[gnu::always_inline]] inline float bf2f(uint16_t b) {
  const uint32_t u = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
[[gnu::always_inline]] inline uint16_t f2bf(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  const uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
  const uint32_t nan = (u >> 16) | 0x40u;
  return static_cast<uint16_t>((u & 0x7fffffffu) > 0x7f800000u ? nan : rounded);
}
// 16 lanes: one AVX-512 register of float32, loaded from / stored to 16 bfloat16 values.
// (GCC's generic vectors: the x86-64-v4 clones of CONVNET_SIMD functions compile them to
// AVX-512, the others to pairs or quads of narrower registers. -Wpsabi warns that such
// vectors have no stable ABI without AVX-512: these helpers are always inlined.)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"  // (files that instantiate these in templates say so too)
typedef float v16f __attribute__((vector_size(64)));
typedef uint32_t v16u __attribute__((vector_size(64)));
typedef int32_t v16i __attribute__((vector_size(64)));
typedef uint16_t v16h __attribute__((vector_size(32)));
[[gnu::always_inline]] inline v16f load16(const uint16_t* p) {
  v16h h;
  std::memcpy(&h, p, sizeof h);
  const v16u w = __builtin_convertvector(h, v16u) << 16;
  v16f f;
  std::memcpy(&f, &w, sizeof f);
  return f;
}
[[gnu::always_inline]] inline void store16(uint16_t* p, v16f f) {
  v16u u;
  std::memcpy(&u, &f, sizeof u);
  const v16u rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
  const v16u nan = (u >> 16) | 0x40u;
  const v16i is_nan = (u & 0x7fffffffu) > 0x7f800000u;  // lanes of all ones where NaN
  const v16u r = is_nan ? nan : rounded;
  const v16h h = __builtin_convertvector(r, v16h);
  std::memcpy(p, &h, sizeof h);
}
[[gnu::always_inline]] inline v16f loadf16(const float* p) {
  v16f f;
  std::memcpy(&f, p, sizeof f);
  return f;
}
[[gnu::always_inline]] inline void storef16(float* p, v16f f) {
  std::memcpy(p, &f, sizeof f);
}
#pragma GCC diagnostic pop

// A float32 scratch buffer from the tensor caching allocator (uninitialized: no pass to zero
// it), and the conversions of the bfloat16 kernels through the threaded convert kernel.
class FloatBuffer {
 public:
  explicit FloatBuffer(int64_t n) : s_(std::make_unique<Storage>(static_cast<size_t>(n > 0 ? n : 1) * sizeof(float))) {}
  float* data() { return s_->data(); }
  const float* data() const { return s_->data(); }

 private:
  std::unique_ptr<Storage> s_;
};
inline void widen_into(const bf16_t* x, int64_t n, float* y) {
  convert(n, DType::bfloat16, x, DType::float32, y);
}
inline void narrow_into(const float* x, int64_t n, bf16_t* y) {
  convert(n, DType::float32, x, DType::bfloat16, y);
}
inline FloatBuffer widened(const bf16_t* x, int64_t n) {
  FloatBuffer b(n);
  widen_into(x, n, b.data());
  return b;
}
// A bfloat16 kernel through its float32 counterpart: `in` (n_in values) widened, f(in32,
// out32), the n_out results rounded once.
template <class F>
void via_float32(const bf16_t* in, int64_t n_in, bf16_t* out, int64_t n_out, F&& f) {
  const FloatBuffer a = widened(in, n_in);
  FloatBuffer b(n_out);
  f(a.data(), b.data());
  narrow_into(b.data(), n_out, out);
}
// float32 values as bfloat16 holds them (rounded to nearest even and back): what a kernel
// that computes in bfloat16 sees of a float32 weight.
inline FloatBuffer rounded_bf16(const float* w, int64_t n) {
  FloatBuffer b(n);
  Storage tmp(static_cast<size_t>(n > 0 ? n : 1) * sizeof(bf16_t));
  convert(n, DType::float32, w, DType::bfloat16, tmp.raw());
  convert(n, DType::bfloat16, tmp.raw(), DType::float32, b.data());
  return b;
}

// The bits of bf16 arrays.
inline const uint16_t* bits(const bf16_t* p) {
  return reinterpret_cast<const uint16_t*>(p);
}
inline uint16_t* bits(bf16_t* p) {
  return reinterpret_cast<uint16_t*>(p);
}

}  // namespace convnet::kernels::cpu
