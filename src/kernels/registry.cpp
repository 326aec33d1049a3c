#include "kernels/registry.h"

#include <cstdlib>

namespace convnet::kernels {

namespace {
std::vector<const KernelBase*>& kernel_list() {
  static std::vector<const KernelBase*> list;
  return list;
}
std::string& forced() {
  static std::string f = [] {
    const char* env = std::getenv("CONVNET_BACKEND");
    return std::string(env ? env : "");
  }();
  return f;
}
}  // namespace

KernelBase::KernelBase(const char* name, DType dtype) : name_(name), dtype_(dtype) { kernel_list().push_back(this); }

const std::vector<const KernelBase*>& all_kernels() {
  ensure_registered();
  return kernel_list();
}

void ensure_registered() {
  static std::once_flag once;
  std::call_once(once, [] {
    register_ref_conv2d();
    register_ref_gemm();
    register_ref_pool();
    register_ref_batch_norm();
    register_ref_activation();
    register_ref_softmax();
    register_ref_loss();
    register_ref_elementwise();
    register_ref_arith();
    register_ref_conv3d();
    register_ref_pool3d();
    register_ref_pad();
    register_ref_clamp();
    register_ref_prelu();
    register_ref_norm();
    register_ref_interp();
    register_ref_strided();
    register_ref_convert();
    register_ref_optim();
    register_ref_vector();
    register_cpu_conv2d();
    register_cpu_gemm();
    register_cpu_activation();
    register_cpu_prelu();
    register_cpu_norm();
    register_cpu_pad();
    register_cpu_strided();
    register_cpu_interp();
    register_cpu_elementwise();
    register_cpu_arith();
    register_cpu_pool3d();
    register_cpu_batch_norm();
    register_cpu_pool();
    register_cpu_softmax();
    register_cpu_loss();
    register_onednn_conv2d();
    register_onednn_conv3d();
    register_cpu_convert();
    register_cpu_optim();
    register_cpu_vector();
    register_ref_conv2d_lowp();
    register_ref_linear_lowp();
    register_ref_batch_norm_lowp();
    register_ref_pool_lowp();
    register_ref_elementwise_lowp();
    register_onednn_conv2d_lowp();
    register_cpu_linear_lowp();
    register_onednn_linear_lowp();
    register_cpu_batch_norm_lowp();
    register_cpu_pool_lowp();
    register_cpu_elementwise_lowp();
  });
}

void force_backend(const std::string& backend) { forced() = backend; }
const std::string& forced_backend() { return forced(); }

}  // namespace convnet::kernels
