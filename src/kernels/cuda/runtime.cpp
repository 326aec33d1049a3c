// The CUDA backend's runtime: device discovery, the caching device allocator, the
// device-pointer probe of the kernel dispatch, streams, library handles and copies.
#include "kernels/cuda/runtime.h"

#include <dlfcn.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "convnet/core/error.h"
#include "convnet/core/storage.h"
#include "core/cuda_backend.h"
#include "kernels/registry.h"

namespace convnet::kernels::cuda {

void check(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return;
  cudaGetLastError();  // clear a sticky-free error so the next call starts clean
  throw Error(std::string("CUDA error in ") + what + ": " + cudaGetErrorString(e));
}
void check(cublasStatus_t e, const char* what) {
  if (e == CUBLAS_STATUS_SUCCESS) return;
  throw Error(std::string("cuBLAS error in ") + what + ": " + cublas_api().status_string(e));
}

const CublasApi& cublas_api() {
  static const CublasApi api = [] {
    const std::string lib = "libcublas.so." + std::to_string(CUBLAS_VER_MAJOR);
    void* h = dlopen(lib.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h) throw Error("CUDA backend: cannot open " + lib + " (cuBLAS, for linear layers): " + dlerror());
    const auto sym = [&](const char* name) {
      void* f = dlsym(h, name);
      if (!f) throw Error("CUDA backend: " + lib + " has no " + name);
      return f;
    };
    CublasApi a{};
    a.create = reinterpret_cast<decltype(a.create)>(sym("cublasCreate_v2"));
    a.set_stream = reinterpret_cast<decltype(a.set_stream)>(sym("cublasSetStream_v2"));
    a.set_math_mode = reinterpret_cast<decltype(a.set_math_mode)>(sym("cublasSetMathMode"));
    a.sgemm = reinterpret_cast<decltype(a.sgemm)>(sym("cublasSgemm_v2"));
    a.gemm_ex = reinterpret_cast<decltype(a.gemm_ex)>(sym("cublasGemmEx"));
    a.status_string = reinterpret_cast<decltype(a.status_string)>(sym("cublasGetStatusString"));
    return a;
  }();
  return api;
}
void check(cudnnStatus_t e, const char* what) {
  if (e == CUDNN_STATUS_SUCCESS) return;
  throw Error(std::string("cuDNN error in ") + what + ": " + cudnnGetErrorString(e));
}

namespace {

struct Discovery {
  int count = 0;
  std::string reason;
};
const Discovery& discovery() {
  static const Discovery d = [] {
    Discovery r;
    int n = 0;
    const cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
      cudaGetLastError();
      r.reason = cudaGetErrorString(e);
    } else if (n == 0) {
      r.reason = "the driver reports no GPU";
    } else {
      r.count = n;
    }
    return r;
  }();
  return d;
}

// Where every live cudaMalloc block is, for device_of() and the dispatch probe.
class Segments {
 public:
  void add(const void* p, size_t bytes, int device) {
    std::unique_lock lock(mu_);
    map_[reinterpret_cast<uintptr_t>(p)] = {bytes, device};
  }
  void remove(const void* p) {
    std::unique_lock lock(mu_);
    map_.erase(reinterpret_cast<uintptr_t>(p));
  }
  int device_of(const void* p) const {
    const auto a = reinterpret_cast<uintptr_t>(p);
    std::shared_lock lock(mu_);
    auto it = map_.upper_bound(a);
    if (it == map_.begin()) return -1;
    --it;
    return a < it->first + it->second.bytes ? it->second.device : -1;
  }

 private:
  struct Seg {
    size_t bytes;
    int device;
  };
  mutable std::shared_mutex mu_;
  std::map<uintptr_t, Seg> map_;
};
Segments& segments() {
  static Segments* s = new Segments;  // never destroyed: tensors may die after main()
  return *s;
}

// The size class of a request: 512-byte steps up to 1 MiB, then 2 MiB steps (as PyTorch's
// small and large pools), so a training step's requests hit the same classes every step.
size_t size_class(size_t bytes) {
  if (bytes == 0) bytes = 1;
  if (bytes <= (size_t{1} << 20)) return (bytes + 511) / 512 * 512;
  const size_t big = size_t{2} << 20;
  return (bytes + big - 1) / big * big;
}

// One GPU's caching allocator: a freed block goes to the free list of its size class and is
// reused by the next request of that class. All work runs on the device's one stream, so a
// block freed by the host after queuing work that uses it is safe to hand to later work.
class DeviceAllocator final : public memory::Allocator {
 public:
  explicit DeviceAllocator(int device) : device_(device) {}

  void* allocate(size_t bytes) override {
    const size_t cls = size_class(bytes);
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = free_.find(cls);
      if (it != free_.end() && !it->second.empty()) {
        void* p = it->second.back();
        it->second.pop_back();
        stats_.cached_bytes -= static_cast<int64_t>(cls);
        stats_.live_bytes += static_cast<int64_t>(cls);
        ++stats_.reuses;
        return p;
      }
    }
    void* p = system_alloc(cls);
    if (!p) {
      empty_cache();
      p = system_alloc(cls);
    }
    if (!p) {
      const memory::Stats s = stats();
      size_t free_b = 0, total_b = 0;
      cudaMemGetInfo(&free_b, &total_b);
      cudaGetLastError();
      throw Error("out of GPU memory on cuda:" + std::to_string(device_) + ": asked for " + std::to_string(bytes) +
                  " bytes; " + std::to_string(s.live_bytes) + " bytes are held by tensors, " + std::to_string(free_b) +
                  " of " + std::to_string(total_b) + " bytes are free on the device");
    }
    std::lock_guard<std::mutex> lock(mu_);
    stats_.live_bytes += static_cast<int64_t>(cls);
    ++stats_.system_allocs;
    note_peak();
    return p;
  }
  void release(void* p, size_t bytes) override {
    const size_t cls = size_class(bytes);
    std::lock_guard<std::mutex> lock(mu_);
    stats_.live_bytes -= static_cast<int64_t>(cls);
    if (stats_.cached_bytes + static_cast<int64_t>(cls) <= limit_) {
      free_[cls].push_back(p);
      stats_.cached_bytes += static_cast<int64_t>(cls);
      return;
    }
    system_free(p);
  }
  memory::Stats stats() override {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
  }
  void empty_cache() override {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [cls, list] : free_)
      for (void* p : list) system_free(p);
    free_.clear();
    stats_.cached_bytes = 0;
  }
  void set_cache_limit(int64_t bytes) override {
    empty_cache();
    std::lock_guard<std::mutex> lock(mu_);
    limit_ = bytes;
  }

 private:
  void* system_alloc(size_t cls) {
    int prev = 0;
    check(cudaGetDevice(&prev), "cudaGetDevice");
    check(cudaSetDevice(device_), "cudaSetDevice");
    void* p = nullptr;
    const cudaError_t e = cudaMalloc(&p, cls);
    cudaSetDevice(prev);
    if (e == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      return nullptr;
    }
    check(e, "cudaMalloc");
    segments().add(p, cls, device_);
    return p;
  }
  void system_free(void* p) {
    // Work queued on the stream may still read the block: wait for it before the driver
    // gets the memory back (cudaFree synchronizes the device anyway).
    segments().remove(p);
    cudaFree(p);
  }
  void note_peak() {
    const int64_t total = stats_.live_bytes + stats_.cached_bytes;
    if (total > stats_.peak_bytes) stats_.peak_bytes = total;
  }

  int device_;
  std::mutex mu_;
  std::unordered_map<size_t, std::vector<void*>> free_;
  memory::Stats stats_;
  int64_t limit_ = std::numeric_limits<int64_t>::max();
};

// A pinned host buffer that host-to-device copies are staged through, and the event of the
// last copy queued from it.
struct Stage {
  void* host = nullptr;
  size_t cap = 0;
  cudaEvent_t done = nullptr;
};
struct DeviceState {
  std::once_flag once;
  cudaStream_t stream = nullptr;
  cublasHandle_t cublas = nullptr;
  cudnnHandle_t cudnn = nullptr;
  std::mutex lib_mu;
  std::mutex stage_mu;
  std::array<Stage, 2> stages;  // used in turn
  size_t next_stage = 0;
};
std::vector<std::unique_ptr<DeviceState>>& states() {
  static auto* s = [] {
    auto* v = new std::vector<std::unique_ptr<DeviceState>>;
    for (int i = 0; i < discovery().count; ++i) v->push_back(std::make_unique<DeviceState>());
    return v;
  }();
  return *s;
}
DeviceState& state(int device) {
  auto& s = states();
  if (device < 0 || device >= static_cast<int>(s.size()))
    throw Error("cuda:" + std::to_string(device) + ": no such device (this machine has " + std::to_string(s.size()) +
                " CUDA device(s))");
  DeviceState& d = *s[static_cast<size_t>(device)];
  std::call_once(d.once, [&] {
    check(cudaSetDevice(device), "cudaSetDevice");
    check(cudaStreamCreateWithFlags(&d.stream, cudaStreamNonBlocking), "cudaStreamCreate");
  });
  return d;
}

memory::Allocator* allocator_for(int index) {
  static auto* allocs = [] {
    auto* v = new std::vector<std::unique_ptr<DeviceAllocator>>;
    for (int i = 0; i < discovery().count; ++i) v->push_back(std::make_unique<DeviceAllocator>(i));
    return v;
  }();
  if (index < 0 || index >= static_cast<int>(allocs->size())) {
    if (allocs->empty())
      throw Error("cuda:" + std::to_string(index) + ": no CUDA device was found (" + discovery().reason + ")");
    throw Error("cuda:" + std::to_string(index) + ": no such device (this machine has " +
                std::to_string(allocs->size()) + " CUDA device(s))");
  }
  return (*allocs)[static_cast<size_t>(index)].get();
}

bool probe(const void* p) {
  return segments().device_of(p) >= 0;
}

}  // namespace

int device_of(const void* p) {
  return segments().device_of(p);
}

Ctx ctx(const void* p) {
  const int d = device_of(p);
  CONVNET_CHECK(d >= 0, "CUDA kernel: a pointer that is not GPU memory of this backend");
  DeviceState& s = state(d);
  int cur = -1;
  cudaGetDevice(&cur);
  if (cur != d) check(cudaSetDevice(d), "cudaSetDevice");
  return {d, s.stream};
}
Ctx current_ctx() {
  int d = 0;
  check(cudaGetDevice(&d), "cudaGetDevice");
  return {d, state(d).stream};
}

cublasHandle_t Ctx::cublas() const {
  DeviceState& s = state(device);
  std::lock_guard<std::mutex> lock(s.lib_mu);
  if (!s.cublas) {
    const CublasApi& api = cublas_api();
    check(api.create(&s.cublas), "cublasCreate");
    check(api.set_stream(s.cublas, s.stream), "cublasSetStream");
    // float32 stays float32 (no TF32), as the CPU kernels and PyTorch's default for matmul.
    check(api.set_math_mode(s.cublas, CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
  }
  return s.cublas;
}
cudnnHandle_t Ctx::cudnn() const {
  DeviceState& s = state(device);
  std::lock_guard<std::mutex> lock(s.lib_mu);
  if (!s.cudnn) {
    check(cudnnCreate(&s.cudnn), "cudnnCreate");
    check(cudnnSetStream(s.cudnn, s.stream), "cudnnSetStream");
  }
  return s.cudnn;
}

Scratch::Scratch(const Ctx& c, size_t bytes) : device_(c.device), bytes_(bytes) {
  if (bytes_ > 0) p_ = allocator_for(device_)->allocate(bytes_);
}
Scratch::~Scratch() {
  if (p_) allocator_for(device_)->release(p_, bytes_);
}

void to_host(const Ctx& c, void* dst, const void* src, size_t bytes) {
  check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, c.stream), "cudaMemcpyAsync (to the host)");
  check(cudaStreamSynchronize(c.stream), "cudaStreamSynchronize");
}

}  // namespace convnet::kernels::cuda

namespace convnet::cuda_backend {
using kernels::cuda::check;

void ensure_installed() {
  static std::once_flag once;
  std::call_once(once, [] {
    memory::register_allocator(Device::Type::cuda, &kernels::cuda::allocator_for);
    if (kernels::cuda::discovery().count > 0) kernels::set_device_pointer_probe(&kernels::cuda::probe);
  });
}
int device_count() {
  return kernels::cuda::discovery().count;
}
std::string no_device_reason() {
  return kernels::cuda::discovery().reason;
}

namespace {
// Host-to-device copies up to this size return without waiting for the GPU's queue: the bytes
// are copied into a pinned staging buffer and the transfer is queued on the stream, ordered
// before everything queued after it (a batch, labels, a parameter). A buffer is reused once
// its previous transfer has finished (its event), so the caller's memory is free on return.
constexpr size_t kStageMax = size_t{256} << 20;

bool staged_upload(kernels::cuda::DeviceState& s, void* dst, const void* src, size_t bytes) {
  if (bytes > kStageMax) return false;
  std::lock_guard<std::mutex> lock(s.stage_mu);
  kernels::cuda::Stage& st = s.stages[s.next_stage];
  if (st.done) check(cudaEventSynchronize(st.done), "cudaEventSynchronize (staging buffer)");
  if (st.cap < bytes) {
    if (st.host) check(cudaFreeHost(st.host), "cudaFreeHost");
    st.host = nullptr, st.cap = 0;
    const size_t cap = std::max(bytes, size_t{1} << 20);
    if (cudaMallocHost(&st.host, cap) != cudaSuccess) {  // pinned memory is limited: copy the plain way
      (void)cudaGetLastError();
      st.host = nullptr;
      return false;
    }
    st.cap = cap;
  }
  if (!st.done) check(cudaEventCreateWithFlags(&st.done, cudaEventDisableTiming), "cudaEventCreate");
  std::memcpy(st.host, src, bytes);
  check(cudaMemcpyAsync(dst, st.host, bytes, cudaMemcpyHostToDevice, s.stream), "cudaMemcpyAsync (to the GPU)");
  check(cudaEventRecord(st.done, s.stream), "cudaEventRecord");
  s.next_stage = (s.next_stage + 1) % s.stages.size();
  return true;
}
}  // namespace

void copy(void* dst, const Device& dst_dev, const void* src, const Device& src_dev, size_t bytes) {
  ensure_installed();
  if (bytes == 0) return;
  const Device& gpu = dst_dev.is_cpu() ? src_dev : dst_dev;
  kernels::cuda::DeviceState& s = kernels::cuda::state(gpu.index);
  check(cudaSetDevice(gpu.index), "cudaSetDevice");
  if (!dst_dev.is_cpu() && !src_dev.is_cpu() && dst_dev.index != src_dev.index) {
    // Between two GPUs: wait for the source's queued work, copy, wait for the copy.
    check(cudaStreamSynchronize(kernels::cuda::state(src_dev.index).stream), "cudaStreamSynchronize");
    check(cudaMemcpyPeerAsync(dst, dst_dev.index, src, src_dev.index, bytes, s.stream), "cudaMemcpyPeerAsync");
    check(cudaStreamSynchronize(s.stream), "cudaStreamSynchronize");
    return;
  }
  if (src_dev.is_cpu() && !dst_dev.is_cpu() && staged_upload(s, dst, src, bytes)) return;
  check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, s.stream), "cudaMemcpyAsync");
  // A copy that involves the host returns when the host's side is done; one within a GPU is
  // ordered on its stream like any kernel.
  if (dst_dev.is_cpu() || src_dev.is_cpu()) check(cudaStreamSynchronize(s.stream), "cudaStreamSynchronize");
}
}  // namespace convnet::cuda_backend

namespace convnet::kernels {
void register_cuda_runtime() {
  cuda_backend::ensure_installed();
}
}  // namespace convnet::kernels
