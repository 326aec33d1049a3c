#pragma once
// Argument checks shared by the ops: the dtype and device of their tensor operands.
#include <initializer_list>
#include <string>
#include <utility>

#include "convnet/core/error.h"
#include "convnet/core/tensor.h"

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
  CONVNET_CHECK(t0.device().is_cpu(), op, ": no kernel for tensors on ", device_name(t0.device()), " in this build");
  CONVNET_CHECK(t0.dtype() == DType::float32, op, ": no kernel for ", dtype_name(t0.dtype()),
                " tensors (ops compute in float32; reduced precision runs under convnet::autocast)");
}

}  // namespace convnet::ops
