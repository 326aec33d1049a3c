#include "convnet/core/dtype.h"

#include <cmath>

#include "convnet/core/error.h"
#include "core/cuda_backend.h"

namespace convnet {

const char* dtype_name(DType t) {
  switch (t) {
    case DType::float32:
      return "float32";
    case DType::bfloat16:
      return "bfloat16";
    case DType::float16:
      return "float16";
    case DType::int64:
      return "int64";
    case DType::int32:
      return "int32";
    case DType::uint8:
      return "uint8";
    case DType::bool_:
      return "bool";
  }
  return "?";
}

DType parse_dtype(const std::string& s) {
  if (s == "float32" || s == "fp32" || s == "float") return DType::float32;
  if (s == "bfloat16" || s == "bf16") return DType::bfloat16;
  if (s == "float16" || s == "fp16" || s == "half") return DType::float16;
  if (s == "int64") return DType::int64;
  if (s == "int32") return DType::int32;
  if (s == "uint8") return DType::uint8;
  if (s == "bool") return DType::bool_;
  throw Error("unknown dtype '" + s + "'; choose float32 (fp32), bfloat16 (bf16), float16 (fp16), int64, int32, " +
              "uint8 or bool");
}

// IEEE 754 binary16: 1 sign, 5 exponent (bias 15), 10 mantissa bits.
f16_t to_f16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  const uint32_t sign = (u >> 16) & 0x8000u;
  const uint32_t absu = u & 0x7fffffffu;
  if (absu > 0x7f800000u) return {static_cast<uint16_t>(sign | 0x7e00u)};  // NaN
  if (absu >= 0x477ff000u) return {static_cast<uint16_t>(sign | 0x7c00u)};  // rounds to >= 65520: inf
  if (absu < 0x38800000u) {                                                 // below 2^-14: subnormal or 0
    // value = absf; subnormal step 2^-24: round(absf / 2^-24) to nearest even.
    float absf;
    std::memcpy(&absf, &absu, 4);
    const float scaled = absf * 16777216.f;  // exact (power of two)
    const float r = std::nearbyint(scaled);  // the default rounding mode: to nearest even
    return {static_cast<uint16_t>(sign | static_cast<uint32_t>(r))};
  }
  // Normal: rebias the exponent (127 -> 15) and round 23 -> 10 mantissa bits, nearest even.
  uint32_t v = absu - (112u << 23);
  v += 0xfffu + ((v >> 13) & 1u);
  return {static_cast<uint16_t>(sign | (v >> 13))};
}

float from_f16(f16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h.bits & 0x8000u) << 16;
  const uint32_t exp = (h.bits >> 10) & 0x1fu, man = h.bits & 0x3ffu;
  uint32_t u;
  if (exp == 0) {
    const float v = std::ldexp(static_cast<float>(man), -24);
    std::memcpy(&u, &v, 4);
    u |= sign;
  } else if (exp == 31) {
    u = sign | 0x7f800000u | (man << 13);
  } else {
    u = sign | ((exp + 112u) << 23) | (man << 13);
  }
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

std::string device_name(const Device& d) {
  return d.is_cpu() ? std::string("cpu") : "cuda:" + std::to_string(d.index);
}

bool cuda_built() {
#ifdef CONVNET_WITH_CUDA
  return true;
#else
  return false;
#endif
}

int cuda_device_count() {
#ifdef CONVNET_WITH_CUDA
  return cuda_backend::device_count();
#else
  return 0;
#endif
}

Device parse_device(const std::string& s) {
  if (s == "cpu") return Device::cpu();
  int index = 0;
  if (s == "cuda") {
    index = 0;
  } else if (s.rfind("cuda:", 0) == 0 && s.size() > 5 && s.find_first_not_of("0123456789", 5) == std::string::npos &&
             s.size() < 10) {
    index = std::stoi(s.substr(5));
  } else {
    throw Error("unknown device '" + s + "'; choose cpu, cuda or cuda:N");
  }
  if (!cuda_built()) throw Error("--device " + s + ": this build of convnet has no CUDA support (configure with CUDA found)");
  const int n = cuda_device_count();
#ifdef CONVNET_WITH_CUDA
  if (n == 0) throw Error("--device " + s + ": no CUDA device was found (" + cuda_backend::no_device_reason() + ")");
#endif
  if (index >= n) {
    std::string have = "cpu";
    for (int i = 0; i < n; ++i) have += ", cuda:" + std::to_string(i);
    throw Error("--device " + s + ": no such device; this machine has " + have);
  }
  return Device::cuda(index);
}

}  // namespace convnet
