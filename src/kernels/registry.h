#pragma once
// The kernel registry, with typed keys.
//
// Every kernel signature has one key object, declared once next to its interface in
// kernels/<op>.h, in namespace kernels::keys:
//
//   inline Kernel<ActFwdFn<float>> relu_fwd{"relu_fwd"};
//
// A backend registers its variants in its registration function (one per family and
// backend, all called from registry.cpp: the one way to register a kernel):
//
//   keys::relu_fwd.add("cpu", 10, &cpu::relu_fwd);       // another signature: no compile
//
// and an op calls the selected variant like a function, timed under the key's name when
// the profiler is on (convnet bench --profile):
//
//   kernels::keys::relu_fwd(n, a, x, y);                  // wrong arguments: no compile
//
// Selection: the variant of the highest priority for the device, unless a backend is
// forced (CONVNET_BACKEND=ref in the environment, or force_backend() from code): then that
// backend's variant, else the reference ("ref") one, which every key has; keys named in
// CONVNET_REF_KERNELS always take their reference variant. The element type
// is part of the signature (a bf16 kernel is another key), the device a column of the table.
#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "convnet/core/dtype.h"
#include "convnet/core/error.h"
#include "convnet/core/profiler.h"

namespace convnet::kernels {

// Registers every backend's kernels, once (explicit calls: a static library drops
// unreferenced objects, so self-registering globals would silently vanish).
void ensure_registered();
void force_backend(const std::string& backend);  // "" = automatic
const std::string& forced_backend();
// Whether key `name` must run its reference variant: CONVNET_REF_KERNELS=relu_fwd,bn_bwd in
// the environment (comma-separated key names, or a prefix ending in '*': "bn_*") names keys
// that take "ref" whatever else is selected, to find which fast kernel a numerical
// difference comes from by bisection. force_ref_kernels() sets the list from code ("" = none).
bool ref_forced(const char* name);
void force_ref_kernels(const std::string& keys);
// Bumped after every change that can change a selection (a registration, force_backend,
// force_ref_kernels): a key's remembered selection holds while the epoch it was made at is
// the current one.
std::atomic<uint64_t>& selection_epoch();

// Which device a kernel call runs on. A kernel's pointer arguments say it: a call that passes
// a pointer into a GPU backend's memory runs that backend's variant (the backend installs the
// test with set_device_pointer_probe when it first allocates; until then every call is a CPU
// call and pays one relaxed load). A call without device pointers (a kernel that answers a
// question from a geometry, or takes host arrays of device pointers) runs on the device of
// the innermost DeviceScope of the thread, the CPU by default. Ops open one on their
// operands' device where their kernels need it (ops/checks.h: device_scope).
using DevicePointerProbe = bool (*)(const void* p);
void set_device_pointer_probe(DevicePointerProbe probe);
namespace detail {
extern std::atomic<DevicePointerProbe> g_device_probe;
Device::Type scope_device();
template <class A>
bool on_device(DevicePointerProbe probe, const A& a) {
  if constexpr (std::is_pointer_v<std::remove_cvref_t<A>>)
    return a != nullptr && probe(static_cast<const void*>(a));
  else
    return false;
}
template <class... Args>
Device::Type device_of(const Args&... args) {
  const DevicePointerProbe probe = g_device_probe.load(std::memory_order_relaxed);
  if (!probe) return scope_device();
  if ((on_device(probe, args) || ...)) return Device::Type::cuda;
  return scope_device();
}
}  // namespace detail
// Sets the device of the pointer-less kernel calls of this thread while it lives (nested
// scopes restore the outer one).
class DeviceScope {
 public:
  explicit DeviceScope(Device::Type dev);
  ~DeviceScope();
  DeviceScope(const DeviceScope&) = delete;
  DeviceScope& operator=(const DeviceScope&) = delete;

 private:
  Device::Type saved_;
};

// The type-erased view of a key, for tests and tools (which kernels exist, which backends
// registered one, which one runs).
class KernelBase {
 public:
  const char* name() const { return name_; }
  DType dtype() const { return dtype_; }
  virtual std::vector<std::string> backends(Device::Type dev = Device::Type::cpu) const = 0;
  virtual std::string selected_backend(Device::Type dev = Device::Type::cpu) const = 0;

 protected:
  KernelBase(const char* name, DType dtype);
  ~KernelBase() = default;

 private:
  const char* name_;
  DType dtype_;
};
// Every key, in declaration order.
const std::vector<const KernelBase*>& all_kernels();
const std::string& ref_name();  // "ref"

template <class Fn>
struct Variant {
  std::string backend;
  int priority = 0;
  Fn* fn = nullptr;
  Device::Type device = Device::Type::cpu;
};

template <class Fn>
class Kernel final : public KernelBase {
 public:
  explicit Kernel(const char* name, DType dtype = DType::float32) : KernelBase(name, dtype) {}
  Kernel(const Kernel&) = delete;
  Kernel& operator=(const Kernel&) = delete;

  void add(const std::string& backend, int priority, Fn* fn, Device::Type dev = Device::Type::cpu) {
    std::lock_guard<std::mutex> lock(mu_);
    table_.push_back({backend, priority, fn, dev});
    // Highest priority first; equal priorities keep their registration order.
    for (size_t i = table_.size() - 1; i > 0 && table_[i - 1].priority < table_[i].priority; --i)
      std::swap(table_[i - 1], table_[i]);
    selection_epoch().fetch_add(1, std::memory_order_acq_rel);
  }

  // Every registered variant for `dev`, highest priority first.
  std::vector<Variant<Fn>> variants(Device::Type dev = Device::Type::cpu) const {
    ensure_registered();
    std::vector<Variant<Fn>> out;
    for (const auto& v : table_)
      if (v.device == dev) out.push_back(v);
    return out;
  }

  // The variant an op gets (see the header comment); throws if there is none. Remembered per
  // device with the selection epoch it was made at (one atomic word: the epoch and the
  // variant's index), so that a call in the steady state compares two words instead of
  // walking the table and comparing backend names.
  const Variant<Fn>& select(Device::Type dev = Device::Type::cpu) const {
    std::atomic<uint64_t>& memo = memo_[dev == Device::Type::cpu ? 0 : 1];
    const uint64_t m = memo.load(std::memory_order_acquire);
    if ((m & 0xffff) != 0 && (m >> 16) == selection_epoch().load(std::memory_order_acquire))
      return table_[(m & 0xffff) - 1];
    ensure_registered();
    const uint64_t epoch = selection_epoch().load(std::memory_order_acquire);
    const Variant<Fn>& v = select_now(dev);
    memo.store((epoch << 16) | static_cast<uint64_t>(&v - table_.data() + 1), std::memory_order_release);
    return v;
  }
  // The same, worked out from the table.
  const Variant<Fn>& select_now(Device::Type dev) const {
    const std::string& forced = ref_forced(name()) ? ref_name() : forced_backend();
    const Variant<Fn>* best = nullptr;
    const Variant<Fn>* ref = nullptr;
    for (const auto& v : table_) {
      if (v.device != dev) continue;
      if (!best) best = &v;
      if (v.backend == "ref" && !ref) ref = &v;
      if (!forced.empty() && v.backend == forced) return v;
    }
    if (!forced.empty() && ref) return *ref;
    CONVNET_CHECK(best != nullptr, "kernel registry: no kernel '", name(), "' (", dtype_name(dtype()), ") for ",
                  dev == Device::Type::cpu ? "the cpu" : "cuda");
    return *best;
  }
  Fn* get(Device::Type dev = Device::Type::cpu) const { return select(dev).fn; }

  // Calls the selected variant of the device the arguments are on (see DeviceScope).
  // Arguments that do not fit the signature do not compile.
  template <class... Args>
    requires std::is_invocable_v<Fn*, Args...>
  void operator()(Args&&... args) const {
    Fn* fn = get(detail::device_of(args...));
    if (!profiler::enabled()) {
      fn(std::forward<Args>(args)...);
      return;
    }
    profiler::Scope scope(name());
    fn(std::forward<Args>(args)...);
  }
  // The same, returning the kernel's result (for the few kernels that answer a question).
  template <class... Args>
    requires std::is_invocable_v<Fn*, Args...>
    auto value(Args&&... args) const { return get(detail::device_of(args...))(std::forward<Args>(args)...); }

    std::vector<std::string> backends(Device::Type dev = Device::Type::cpu) const override {
      std::vector<std::string> out;
      for (const auto& v : variants(dev)) out.push_back(v.backend);
      return out;
    }
  std::string selected_backend(Device::Type dev = Device::Type::cpu) const override { return select(dev).backend; }

 private:
  std::vector<Variant<Fn>> table_;
  std::mutex mu_;
  mutable std::atomic<uint64_t> memo_[2] = {0, 0};  // cpu, cuda: epoch << 16 | (index + 1), 0 = none
};

// The element type of a floating dtype, for ops that pick a key per dtype:
//   with_floating(x.dtype(), [&]<class T>() { keys::Relu<T>::fwd(...); });
// (float32: float; bfloat16: bf16_t; float16: f16_t; throws for the others).
template <class F>
decltype(auto) with_floating(DType t, F&& f) {
  switch (t) {
    case DType::float32:
      return f.template operator()<float>();
    case DType::bfloat16:
      return f.template operator()<bf16_t>();
    case DType::float16:
      return f.template operator()<f16_t>();
    default:
      break;
  }
  throw Error(std::string("kernel dispatch: ") + dtype_name(t) + " is not a floating dtype");
}

// One registration function per kernel family and backend; ensure_registered() calls them.
void register_ref_conv2d();
void register_ref_gemm();
void register_ref_pool();
void register_ref_batch_norm();
void register_ref_activation();
void register_ref_softmax();
void register_ref_loss();
void register_ref_elementwise();
void register_ref_arith();
void register_ref_conv3d();
void register_ref_pool3d();
void register_ref_pad();
void register_ref_clamp();
void register_ref_prelu();
void register_ref_norm();
void register_ref_interp();
void register_ref_strided();
void register_ref_convert();
void register_ref_optim();
void register_ref_vector();
void register_cpu_conv2d();
void register_cpu_gemm();
void register_cpu_activation();
void register_cpu_prelu();
void register_cpu_norm();
void register_cpu_pad();
void register_cpu_strided();
void register_cpu_interp();
void register_cpu_elementwise();
void register_cpu_arith();
void register_cpu_pool3d();
void register_onednn_conv3d();
void register_onednn_linear_lowp();
void register_cpu_batch_norm();
void register_cpu_pool();
void register_cpu_softmax();
void register_cpu_loss();
void register_onednn_conv2d();
void register_cpu_convert();
void register_cpu_optim();
void register_cpu_vector();
// Reduced precision (bfloat16, float16): the reference twins of each family, and the fast
// bfloat16 kernels.
// The CUDA backend (src/kernels/cuda/, in builds configured with CONVNET_WITH_CUDA).
void register_cuda_runtime();
void register_cuda_elementwise();
void register_cuda_conv2d();
void register_cuda_gemm();
void register_ref_conv2d_lowp();
void register_ref_linear_lowp();
void register_ref_batch_norm_lowp();
void register_ref_pool_lowp();
void register_ref_elementwise_lowp();
void register_onednn_conv2d_lowp();
void register_cpu_linear_lowp();
void register_cpu_batch_norm_lowp();
void register_cpu_pool_lowp();
void register_cpu_elementwise_lowp();

}  // namespace convnet::kernels
