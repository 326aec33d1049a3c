// The caching allocator behind Storage.
//
// Why: a fresh std::vector<float> of activation size is an mmap'ed block whose pages the
// kernel faults in and zero-fills on first touch, and which munmap gives back at the end
// of its life, so every training step paid for page faults + memset on every activation
// and gradient. Steady-state training asks for the same sizes step after step, so freed
// buffers are kept in per-size-class free lists and handed out again.
//
// Size classes: up to 4 KiB, multiples of 64 bytes; above, 4 classes per power of two
// (2^k, 1.25 2^k, 1.5 2^k, 1.75 2^k), so a buffer is at most 25% larger than asked for.
// The unused tail of a large buffer is never touched by its user, so its pages are not
// resident: the rounding costs address space, rarely memory.
#include "convnet/core/storage.h"

#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "convnet/core/error.h"
#include "core/cuda_backend.h"

namespace convnet {

namespace {

constexpr size_t kAlign = 64;  // a cache line; also what AVX-512 loads like

// A request's size class: its bytes, and the index of its free list (64 classes up to 4 KiB,
// then 4 per power of two from (4 KiB, 8 KiB] to (2^59, 2^60], 48 powers).
constexpr size_t kClasses = 64 + 4 * 48;
struct SizeClass {
  size_t bytes, index;
};
SizeClass size_class(size_t bytes) {
  if (bytes <= 4096) {
    const size_t cls = (bytes + kAlign - 1) / kAlign * kAlign;
    return {cls, cls / kAlign - 1};
  }
  // No machine has 2^60 bytes; past that the rounding below would overflow.
  if (bytes > (size_t{1} << 60))
    throw Error("out of memory: cannot allocate " + std::to_string(bytes) + " bytes on the cpu (over 2^60)");
  size_t p = 4096, k = 0;
  while (p * 2 < bytes) p *= 2, ++k;                             // p < bytes <= 2p
  const size_t step = p / 4, j = (bytes - p + step - 1) / step;  // the class is p + j * step, j in 1..4
  return {p + j * step, 64 + 4 * k + j - 1};
}

class CachingAllocator final : public memory::Allocator {
 public:
  CachingAllocator() {
    if (const char* env = std::getenv("CONVNET_CACHE_MB")) limit_ = static_cast<int64_t>(std::atoll(env)) << 20;
    // Debug aid: fill every new buffer with NaN, so that a kernel reading memory it never
    // wrote shows up in the tests (Tensor::empty is uninitialized, as torch.empty).
    poison_ = std::getenv("CONVNET_POISON_EMPTY") != nullptr;
  }

  void* allocate(size_t bytes) override {
    const SizeClass sc = size_class(bytes == 0 ? 1 : bytes);
    const size_t cls = sc.bytes;
    void* p = nullptr;
    {
      std::lock_guard<std::mutex> lock(mu_);
      std::vector<void*>& list = free_[sc.index];
      if (!list.empty()) {
        p = list.back();
        list.pop_back();
        stats_.cached_bytes -= static_cast<int64_t>(cls);
        ++stats_.reuses;
      } else {
        ++stats_.system_allocs;
      }
      stats_.live_bytes += static_cast<int64_t>(cls);
      note_peak();
    }
    if (!p) {
      p = std::aligned_alloc(kAlign, cls);
      if (!p) {
        // Out of memory: give the cache back and try once more before failing.
        empty_cache();
        p = std::aligned_alloc(kAlign, cls);
        if (!p) {
          {
            std::lock_guard<std::mutex> lock(mu_);
            stats_.live_bytes -= static_cast<int64_t>(cls);
          }
          throw Error("out of memory: could not allocate " + std::to_string(bytes) + " bytes on the cpu (" +
                      std::to_string(stats().live_bytes >> 20) + " MiB held by tensors)");
        }
      }
    }
    if (poison_) {
      float* f = static_cast<float*>(p);
      for (size_t i = 0; i < bytes / sizeof(float); ++i) f[i] = std::numeric_limits<float>::quiet_NaN();
    }
    return p;
  }

  void release(void* p, size_t bytes) override {
    const SizeClass sc = size_class(bytes == 0 ? 1 : bytes);
    const size_t cls = sc.bytes;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stats_.live_bytes -= static_cast<int64_t>(cls);
      if (stats_.cached_bytes + static_cast<int64_t>(cls) <= limit_) {
        free_[sc.index].push_back(p);
        stats_.cached_bytes += static_cast<int64_t>(cls);
        return;
      }
    }
    std::free(p);
  }

  void empty_cache() override {
    std::vector<std::vector<void*>> drop(kClasses);
    {
      std::lock_guard<std::mutex> lock(mu_);
      drop.swap(free_);
      stats_.cached_bytes = 0;
    }
    for (auto& list : drop)
      for (void* p : list) std::free(p);
  }

  void set_cache_limit(int64_t bytes) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      limit_ = bytes;
    }
    empty_cache();
  }

  memory::Stats stats() override {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
  }

 private:
  void note_peak() {
    const int64_t total = stats_.live_bytes + stats_.cached_bytes;
    if (total > stats_.peak_bytes) stats_.peak_bytes = total;
  }

  std::mutex mu_;
  std::vector<std::vector<void*>> free_ = std::vector<std::vector<void*>>(kClasses);  // by SizeClass::index
  memory::Stats stats_;
  int64_t limit_ = int64_t{2} << 30;
  bool poison_ = false;
};

// Never destroyed: tensors held by static objects may be freed after main() returns.
CachingAllocator& cpu_allocator() {
  static CachingAllocator* a = new CachingAllocator;
  return *a;
}

using Factory = memory::Allocator* (*)(int);
Factory& cuda_factory() {
  static Factory f = nullptr;
  return f;
}

}  // namespace

namespace memory {
Allocator& allocator(const Device& device) {
  if (device.is_cpu()) return cpu_allocator();
#ifdef CONVNET_WITH_CUDA
  if (!cuda_factory()) cuda_backend::ensure_installed();
#endif
  Factory f = cuda_factory();
  CONVNET_CHECK(f != nullptr, "no allocator for ", device_name(device),
                ": this build of convnet has no CUDA support (configure with CUDA found)");
  return *f(device.index);
}
void register_allocator(Device::Type type, Allocator* (*for_index)(int index)) {
  CONVNET_CHECK(type == Device::Type::cuda, "register_allocator: the cpu allocator is built in");
  cuda_factory() = for_index;
}
Stats stats() {
  return cpu_allocator().stats();
}
void empty_cache() {
  cpu_allocator().empty_cache();
}
void set_cache_limit(int64_t bytes) {
  cpu_allocator().set_cache_limit(bytes);
}
}  // namespace memory

namespace {
std::atomic<uint64_t> g_next_storage_id{1};
}

Storage::Storage(size_t bytes, Device device)
    : id_(g_next_storage_id.fetch_add(1, std::memory_order_relaxed)),
      bytes_(bytes),
      device_(device),
      alloc_(&memory::allocator(device)) {
  data_ = alloc_->allocate(bytes);
}
Storage::~Storage() {
  alloc_->release(data_, bytes_);
}

}  // namespace convnet
