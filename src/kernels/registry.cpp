#include "kernels/registry.h"

#include <cstdlib>
#include <string_view>

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

namespace detail {
std::atomic<DevicePointerProbe> g_device_probe{nullptr};
namespace {
thread_local Device::Type t_scope_device = Device::Type::cpu;
}
Device::Type scope_device() {
  return t_scope_device;
}
}  // namespace detail
void set_device_pointer_probe(DevicePointerProbe probe) {
  detail::g_device_probe.store(probe, std::memory_order_relaxed);
}
DeviceScope::DeviceScope(Device::Type dev) : saved_(detail::t_scope_device) {
  detail::t_scope_device = dev;
}
DeviceScope::~DeviceScope() {
  detail::t_scope_device = saved_;
}

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
#ifdef CONVNET_WITH_CUDA
    register_cuda_runtime();
    register_cuda_elementwise();
    register_cuda_conv2d();
    register_cuda_gemm();
#endif
  });
}

std::atomic<uint64_t>& selection_epoch() {
  static std::atomic<uint64_t> epoch{1};
  return epoch;
}

void force_backend(const std::string& backend) {
  forced() = backend;
  selection_epoch().fetch_add(1, std::memory_order_acq_rel);
}

const std::string& ref_name() {
  static const std::string r = "ref";
  return r;
}

namespace {
std::vector<std::string> parse_key_list(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(',', start);
    if (end == std::string::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}
std::vector<std::string>& ref_keys() {
  static std::vector<std::string> keys = [] {
    const char* env = std::getenv("CONVNET_REF_KERNELS");
    return parse_key_list(env ? env : "");
  }();
  return keys;
}
}  // namespace

void force_ref_kernels(const std::string& keys) {
  ref_keys() = parse_key_list(keys);
  selection_epoch().fetch_add(1, std::memory_order_acq_rel);
}

bool ref_forced(const char* name) {
  const auto& names = ref_keys();
  if (names.empty()) return false;
  const std::string_view n(name);
  for (const auto& k : names) {
    if (k.ends_with('*') ? n.starts_with(std::string_view(k).substr(0, k.size() - 1)) : n == k) return true;
  }
  return false;
}

const std::string& forced_backend() { return forced(); }

}  // namespace convnet::kernels
