// The autocast guard (ops/autocast.h): a thread-local dtype the ops read.
#include "convnet/ops/autocast.h"

#include "convnet/core/error.h"
#include "kernels/conv2d.h"

namespace convnet {

namespace {
thread_local DType g_autocast = DType::float32;
}

autocast::autocast(DType dtype) : prev_(g_autocast) {
  CONVNET_CHECK(dtype == DType::float32 || dtype == DType::bfloat16 || dtype == DType::float16,
                "autocast: the compute dtype must be float32 (off), bfloat16 or float16, got ", dtype_name(dtype));
  g_autocast = dtype;
}
autocast::~autocast() {
  g_autocast = prev_;
}

DType autocast_dtype() {
  return g_autocast;
}

DType parse_precision(const std::string& s) {
  if (s == "fp32") return DType::float32;
  if (s == "bf16") return DType::bfloat16;
  if (s == "fp16") return DType::float16;
  throw Error("unknown precision '" + s + "'; choose fp32, bf16 or fp16");
}

}  // namespace convnet

namespace convnet {

std::string precision_note(DType t) {
  if (t == DType::float32) return "";
  const kernels::KernelBase& conv = t == DType::bfloat16
                                        ? static_cast<const kernels::KernelBase&>(kernels::keys::conv2d_fwd_bf16)
                                        : kernels::keys::conv2d_fwd_f16;
  const std::string backend = conv.selected_backend();
  if (backend != "ref") return "";
  const std::string name = t == DType::bfloat16 ? "bf16" : "fp16";
  return "warning: --precision " + name + " runs on the reference kernels here (" + dtype_name(t) +
         " emulated: each op computes in float32 on one thread and rounds its output to " + dtype_name(t) +
         "), which is correct but slow" +
         (t == DType::float16 ? std::string("; this CPU build has fast kernels for bf16, not fp16")
                              : std::string("; this CPU (or CONVNET_BACKEND) gives no fast bfloat16 kernels"));
}

}  // namespace convnet
