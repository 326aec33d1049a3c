#pragma once
// Argument checks shared by the ops: the dtype and device of their tensor operands.
#include <initializer_list>
#include <string>
#include <utility>

#include "convnet/core/error.h"
#include "convnet/core/tensor.h"
#include "convnet/ops/autocast.h"
#include "kernels/registry.h"

namespace convnet::ops {

// The defined tensors of `args` ({"input", &x}, {"weight", &w}, ...) must share one device
// and one dtype, and have a kernel: float32 on the cpu. The message names the op and the
// two operands that differ: "conv1 (Conv2d): operands of two dtypes: input is bfloat16,
// weight is float32".
inline void check_operands(const std::string& op, std::initializer_list<std::pair<const char*, const Tensor*>> args) {
  const std::pair<const char*, const Tensor*>* first = nullptr;
  for (const auto& a : args) {
    if (!a.second || !a.second->defined()) continue;
    if (!first) {
      first = &a;
      continue;
    }
    const Tensor &t0 = *first->second, &t = *a.second;
    CONVNET_CHECK(t.device() == t0.device(), op, ": operands on two devices: ", first->first, " is on ",
                  device_name(t0.device()), ", ", a.first, " is on ", device_name(t.device()));
    CONVNET_CHECK(t.dtype() == t0.dtype(), op, ": operands of two dtypes: ", first->first, " is ",
                  dtype_name(t0.dtype()), ", ", a.first, " is ", dtype_name(t.dtype()));
  }
  if (!first) return;
  const Tensor& t0 = *first->second;
  CONVNET_CHECK(t0.device().is_cpu() || cuda_built(), op, ": no kernel for tensors on ", device_name(t0.device()),
                " in this build");
  CONVNET_CHECK(t0.dtype() == DType::float32, op, ": no kernel for ", dtype_name(t0.dtype()),
                " tensors (this op computes in float32; reduced precision runs under convnet::autocast, "
                "ops/autocast.h)");
}

// The kernel calls of an op on `x`'s device: the pointer-less ones (a layout query, host
// arrays of device pointers) go there too (kernels/registry.h: DeviceScope).
inline kernels::DeviceScope device_scope(const Tensor& x) {
  return kernels::DeviceScope(x.defined() ? x.device().type : Device::Type::cpu);
}

// The float32 elements of an operand for a kernel, on its device: data() on the CPU
// (row-major, rewritten so if a backend layout held it), the stored elements on a GPU, where
// tensors have no backend layout. Null for an undefined tensor.
inline const float* kdata(const Tensor& t) {
  if (!t.defined()) return nullptr;
  return t.device().is_cpu() ? t.data() : t.raw_data();
}
inline float* kdata(Tensor& t) {
  if (!t.defined()) return nullptr;
  return t.device().is_cpu() ? t.data() : t.raw_data();
}

// The same for an element type T of the tensor's dtype (data_as<T>() on the CPU).
template <class T>
const T* kdata_as(const Tensor& t) {
  if (!t.defined()) return nullptr;
  return t.device().is_cpu() ? t.data_as<T>() : t.stored_as<T>();
}
template <class T>
T* kdata_as(Tensor& t) {
  if (!t.defined()) return nullptr;
  return t.device().is_cpu() ? t.data_as<T>() : t.stored_as<T>();
}

inline bool is_reduced(DType t) {
  return t == DType::bfloat16 || t == DType::float16;
}

// The input of an op with float32 kernels only: a bfloat16 / float16 tensor cast to float32
// (differentiably), as torch.autocast does for its float32 ops; anything else as it is.
inline Tensor as_fp32(const Tensor& x) {
  return x.defined() && is_reduced(x.dtype()) ? x.to(DType::float32) : x;
}

// The input of conv2d and linear: under an autocast guard, a floating input cast to the
// guard's dtype (ops/autocast.h); else as it is.
inline Tensor autocast_input(const Tensor& x) {
  const DType t = autocast_dtype();
  return t != DType::float32 && x.defined() && is_floating(x.dtype()) ? x.to(t) : x;
}

// The parameters (weight, bias, running statistics) of an op whose input x is in a reduced
// precision: float32 on x's device (the masters), converted if they came in another
// floating dtype (a model moved to bfloat16 with Module::to); `what` names them in errors.
inline Tensor param_fp32(const std::string& op, const char* what, const Tensor& p, const Tensor& x) {
  if (!p.defined()) return p;
  CONVNET_CHECK(p.device() == x.device(), op, ": operands on two devices: input is on ", device_name(x.device()), ", ",
                what, " is on ", device_name(p.device()));
  CONVNET_CHECK(is_floating(p.dtype()), op, ": ", what, " is ", dtype_name(p.dtype()), ", not a floating dtype");
  return p.to(DType::float32);
}

}  // namespace convnet::ops
