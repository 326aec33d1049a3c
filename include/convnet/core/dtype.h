#pragma once
#pragma GCC visibility push(default)
/// \file
/// Element types and devices of tensors, with PyTorch's names.
///
/// DType: float32 (the default, and what parameters, optimizer state and checkpoints keep),
/// bfloat16 and float16 (reduced precision, for mixed-precision compute), int64, int32,
/// uint8 and bool. bfloat16 / float16 are 16-bit storage types here: bf16_t / f16_t hold the
/// bits, and the conversions below round to nearest even, as PyTorch's .to() does.
///
/// Device: the CPU, or CUDA GPU `index` ("cuda:0"). Whether a device can be used is a
/// property of the build and the machine: cuda_built(), cuda_device_count() and
/// parse_device() say which.
#include <cstdint>
#include <cstring>
#include <string>

namespace convnet {

/// The element type of a tensor (torch.dtype).
enum class DType : uint8_t {
  float32,   ///< 32-bit IEEE float (torch.float32), the default.
  bfloat16,  ///< 16-bit brain float (torch.bfloat16), stored as bf16_t.
  float16,   ///< 16-bit IEEE half (torch.float16), stored as f16_t.
  int64,     ///< 64-bit signed integer (torch.int64), e.g. class labels.
  int32,     ///< 32-bit signed integer (torch.int32).
  uint8,     ///< 8-bit unsigned integer (torch.uint8), e.g. image bytes.
  bool_      ///< Boolean (torch.bool), one byte per element holding 0 or 1.
};

/// Bytes per element of `t`: 4 for float32 and int32, 2 for bfloat16 and float16, 8 for
/// int64, 1 for uint8 and bool.
/// \post the size in bytes (0 only for a value outside the enumeration).
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
/// Whether `t` is a floating-point type: float32, bfloat16 or float16 (as
/// torch.dtype.is_floating_point).
constexpr bool is_floating(DType t) { return t == DType::float32 || t == DType::bfloat16 || t == DType::float16; }
/// The name of `t`: "float32", "bfloat16", "float16", "int64", "int32", "uint8", "bool"
/// (PyTorch's, without "torch.").
/// \post a pointer to a static string; "?" for a value outside the enumeration.
const char* dtype_name(DType t);
/// The DType named `s`: the inverse of dtype_name, also accepting "fp32" and "float" for
/// float32, "bf16" for bfloat16, "fp16" and "half" for float16 (case-sensitive).
/// \post `dtype_name(parse_dtype(dtype_name(t))) == dtype_name(t)` for every DType `t`.
/// \throws convnet::Error for any other string, naming it and the choices.
DType parse_dtype(const std::string& s);

/// One bfloat16 value: the upper 16 bits of a float32 (1 sign, 8 exponent, 7 mantissa
/// bits). The element type of a DType::bfloat16 tensor (`Tensor::data_as<bf16_t>()`).
struct bf16_t {
  uint16_t bits;  ///< The raw bits.
};
/// One IEEE 754 half-precision value (1 sign, 5 exponent, 10 mantissa bits). The element
/// type of a DType::float16 tensor (`Tensor::data_as<f16_t>()`).
struct f16_t {
  uint16_t bits;  ///< The raw bits.
};

/// float32 to bfloat16, rounded to nearest even, as `torch.Tensor.to(torch.bfloat16)`.
/// \post a NaN stays a quiet NaN (sign kept); values beyond the bfloat16 range round to
///       +-inf; every bfloat16 value converts back exactly with from_bf16.
inline bf16_t to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return {static_cast<uint16_t>((u >> 16) | 0x40)};
  u += 0x7fffu + ((u >> 16) & 1u);
  return {static_cast<uint16_t>(u >> 16)};
}
/// bfloat16 to float32, exact (the bits shifted into the upper half).
inline float from_bf16(bf16_t h) {
  const uint32_t u = static_cast<uint32_t>(h.bits) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
/// float32 to IEEE half, rounded to nearest even, as `torch.Tensor.to(torch.float16)`.
/// \post magnitudes that round to 65520 or more give +-inf; magnitudes below 2^-14 give
///       half subnormals (or +-0); a NaN stays a quiet NaN (sign kept).
f16_t to_f16(float f);
/// IEEE half to float32, exact (subnormals, infinities and NaN included).
float from_f16(f16_t h);

/// Where a tensor's storage lives (torch.device): the CPU, or CUDA GPU `index`. A value
/// only names a device: making one checks nothing; parse_device and the allocator check
/// that the device exists.
struct Device {
  /// The kind of device.
  enum class Type : uint8_t {
    cpu,  ///< Host memory, the CPU kernels.
    cuda  ///< A CUDA GPU (needs a build with a CUDA backend).
  };
  Type type = Type::cpu;  ///< The kind of device; the CPU by default.
  int index = 0;  ///< The GPU number for cuda ("cuda:1" has index 1); ignored for the CPU.
  /// The CPU (as `torch.device("cpu")`).
  static Device cpu() { return {}; }
  /// CUDA GPU `index` (as `torch.device("cuda", index)`); not checked to exist.
  static Device cuda(int index = 0) { return {Type::cuda, index}; }
  /// Whether this is the CPU.
  bool is_cpu() const { return type == Type::cpu; }
  /// Same type, and for cuda the same index (the index of a CPU device is ignored).
  bool operator==(const Device& o) const { return type == o.type && (type == Type::cpu || index == o.index); }
  /// The negation of `operator==`.
  bool operator!=(const Device& o) const { return !(*this == o); }
};
/// The name of `d` as PyTorch prints it: "cpu", "cuda:0".
/// \post "cpu" for a CPU device, else "cuda:" followed by the index.
std::string device_name(const Device& d);
/// The device named `s`, as the `--device` option of the tools takes it: "cpu", "cuda"
/// (= "cuda:0") or "cuda:N" (N of up to 4 digits).
/// \post a device that this build and machine can use: the CPU, or a GPU with index below
///       cuda_device_count().
/// \throws convnet::Error for any other string ("unknown device", with the choices), and for
///        a device this build or machine cannot use: "this build of convnet has no CUDA
///        support (configure with CUDA found)", "no CUDA device was found" with the
///        driver's reason, or "no such device" with the list of devices that exist.
Device parse_device(const std::string& s);
/// Whether this build of convnet was configured with CUDA (`CONVNET_WITH_CUDA`).
bool cuda_built();
/// How many CUDA GPUs the library can use: those the driver reports, in a build with the
/// CUDA backend; 0 without one, without a driver or without a GPU.
int cuda_device_count();

}  // namespace convnet
#pragma GCC visibility pop
