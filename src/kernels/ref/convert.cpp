// Reference dtype conversion: one element at a time through double (exact for every
// source type here, so the only rounding is the destination's).
#include "kernels/convert.h"

namespace convnet::kernels::ref {

namespace {
double load(DType t, const void* p, int64_t i) {
  switch (t) {
    case DType::float32:
      return static_cast<const float*>(p)[i];
    case DType::bfloat16:
      return from_bf16(static_cast<const bf16_t*>(p)[i]);
    case DType::float16:
      return from_f16(static_cast<const f16_t*>(p)[i]);
    case DType::int64:
      return static_cast<double>(static_cast<const int64_t*>(p)[i]);
    case DType::int32:
      return static_cast<const int32_t*>(p)[i];
    case DType::uint8:
      return static_cast<const uint8_t*>(p)[i];
    case DType::bool_:
      return static_cast<const uint8_t*>(p)[i] != 0;
  }
  return 0;
}
void store(DType t, void* p, int64_t i, double v) {
  switch (t) {
    case DType::float32:
      static_cast<float*>(p)[i] = static_cast<float>(v);
      break;
    case DType::bfloat16:  // through float32: round once, to bf16 (v is a float32 value or an integer)
      static_cast<bf16_t*>(p)[i] = to_bf16(static_cast<float>(v));
      break;
    case DType::float16:
      static_cast<f16_t*>(p)[i] = to_f16(static_cast<float>(v));
      break;
    case DType::int64:
      static_cast<int64_t*>(p)[i] = static_cast<int64_t>(v);
      break;
    case DType::int32:
      static_cast<int32_t*>(p)[i] = static_cast<int32_t>(v);
      break;
    case DType::uint8:
      static_cast<uint8_t*>(p)[i] = static_cast<uint8_t>(static_cast<int64_t>(v));
      break;
    case DType::bool_:
      static_cast<uint8_t*>(p)[i] = v != 0;
      break;
  }
}
}  // namespace

void convert(int64_t n, DType from, const void* x, DType to, void* y) {
  for (int64_t i = 0; i < n; ++i) store(to, y, i, load(from, x, i));
}

}  // namespace convnet::kernels::ref

namespace convnet::kernels {
void register_ref_convert() {
  keys::convert.add("ref", 0, &ref::convert);
}
}  // namespace convnet::kernels
