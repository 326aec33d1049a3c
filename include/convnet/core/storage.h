#pragma once
// Storage: the bytes behind one or more tensors (views share it), on one device. Buffers
// come from that device's allocator (memory::allocator(device)). The CPU's is a
// size-bucketed caching allocator: a freed buffer goes back to a free list of its size
// class and the next request of that class reuses it, so a training loop, which asks for
// the same sizes every step, stops paying for page faults and the kernel's zero-filling of
// fresh pages after its first step. New buffers are NOT initialized.
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "convnet/core/dtype.h"

namespace convnet {

namespace memory {
struct Stats {
  int64_t live_bytes = 0;     // in buffers held by tensors (rounded to their size class)
  int64_t cached_bytes = 0;   // in free buffers kept for reuse
  int64_t peak_bytes = 0;     // largest live_bytes + cached_bytes seen
  int64_t system_allocs = 0;  // buffers obtained from the system (cache misses)
  int64_t reuses = 0;         // requests served from the cache
};

// One device's memory. allocate() throws convnet::Error naming the bytes asked for when
// the device is out of memory (after giving its cache back and trying once more).
class Allocator {
 public:
  virtual ~Allocator() = default;
  virtual void* allocate(size_t bytes) = 0;  // 64-byte aligned, uninitialized
  virtual void release(void* p, size_t bytes) = 0;
  virtual Stats stats() = 0;
  virtual void empty_cache() = 0;  // returns every cached free buffer to the system
  // Largest number of bytes the cache keeps in free buffers; 0 turns caching off.
  virtual void set_cache_limit(int64_t bytes) = 0;
};
// The allocator of `device`: the CPU's caching allocator (limit 2 GiB, or the
// environment's CONVNET_CACHE_MB), a GPU backend's for CUDA devices; throws for a device
// this build has no backend for.
Allocator& allocator(const Device& device);
// A backend registers its device type's allocator once, at start-up.
void register_allocator(Device::Type type, Allocator* (*for_index)(int index));

// The CPU allocator's, as before devices existed.
Stats stats();
void empty_cache();
void set_cache_limit(int64_t bytes);
}  // namespace memory

class Storage {
 public:
  explicit Storage(size_t bytes, Device device = Device::cpu());  // uninitialized, 64-byte aligned
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  void* raw() { return data_; }
  const void* raw() const { return data_; }
  // The bytes as float32 (what the CPU kernels of a float32 tensor read).
  float* data() { return static_cast<float*>(data_); }
  const float* data() const { return static_cast<const float*>(data_); }
  size_t bytes() const { return bytes_; }
  const Device& device() const { return device_; }
  // Identity and contents version, for backends that keep a derived copy of the bytes (a
  // weight prepacked into a kernel's layout). The id is unique for the life of the process
  // (never reused, as an address is); the version changes whenever a Tensor hands out
  // mutable access to the bytes (Tensor::data() and the other non-const accessors).
  uint64_t id() const { return id_; }
  uint64_t version() const { return version_.load(std::memory_order_acquire); }
  void bump_version() { version_.fetch_add(1, std::memory_order_acq_rel); }

 private:
  uint64_t id_;
  std::atomic<uint64_t> version_{0};
  void* data_;
  size_t bytes_;
  Device device_;
  memory::Allocator* alloc_;
};

}  // namespace convnet
