#pragma once
// Element types and devices of tensors, with PyTorch's names.
//
// DType: float32 (the default, and what parameters, optimizer state and checkpoints keep),
// bfloat16 and float16 (reduced precision, for mixed-precision compute), int64, int32,
// uint8 and bool. bfloat16 / float16 are 16-bit storage types here: bf16_t / f16_t hold the
// bits, and the conversions below round to nearest even, as PyTorch's .to() does.
//
// Device: the CPU, or CUDA GPU `index` ("cuda:0"). Whether a device can be used is a
// property of the build and the machine (core/device.cpp says which).
#include <cstdint>
#include <cstring>
#include <string>

namespace convnet {

enum class DType : uint8_t { float32, bfloat16, float16, int64, int32, uint8, bool_ };

// Bytes per element.
constexpr int64_t dtype_size(DType t) {
  switch (t) {
    case DType::float32:
    case DType::int32:
      return 4;
    case DType::bfloat16:
    case DType::float16:
      return 2;
    case DType::int64:
      return 8;
    case DType::uint8:
    case DType::bool_:
      return 1;
  }
  return 0;
}
constexpr bool is_floating(DType t) { return t == DType::float32 || t == DType::bfloat16 || t == DType::float16; }
// "float32", "bfloat16", "float16", "int64", "int32", "uint8", "bool" (torch.float32 ...).
const char* dtype_name(DType t);
// The inverse of dtype_name, also accepting "fp32", "bf16", "fp16"; throws convnet::Error
// naming the choices for anything else.
DType parse_dtype(const std::string& s);

// The bits of a bfloat16 / float16 value.
struct bf16_t {
  uint16_t bits;
};
struct f16_t {
  uint16_t bits;
};

// float32 -> bfloat16, round to nearest even (NaN stays a quiet NaN).
inline bf16_t to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return {static_cast<uint16_t>((u >> 16) | 0x40)};
  u += 0x7fffu + ((u >> 16) & 1u);
  return {static_cast<uint16_t>(u >> 16)};
}
inline float from_bf16(bf16_t h) {
  const uint32_t u = static_cast<uint32_t>(h.bits) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
// float32 <-> IEEE half, round to nearest even; overflow gives +-inf, as PyTorch.
f16_t to_f16(float f);
float from_f16(f16_t h);

struct Device {
  enum class Type : uint8_t { cpu, cuda };
  Type type = Type::cpu;
  int index = 0;  // for cuda
  static Device cpu() { return {}; }
  static Device cuda(int index = 0) { return {Type::cuda, index}; }
  bool is_cpu() const { return type == Type::cpu; }
  bool operator==(const Device& o) const { return type == o.type && (type == Type::cpu || index == o.index); }
  bool operator!=(const Device& o) const { return !(*this == o); }
};
// "cpu", "cuda:0".
std::string device_name(const Device& d);
// "cpu", "cuda", "cuda:N". Throws convnet::Error for anything else, and for a device this
// build or machine cannot use: "this build of convnet has no CUDA support (configure with
// CUDA found)" / the list of devices that exist.
Device parse_device(const std::string& s);
// Whether this build has a CUDA backend, and how many GPUs it sees (0 without CUDA).
bool cuda_built();
int cuda_device_count();

}  // namespace convnet
