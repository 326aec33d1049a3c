#pragma once
// Storage: the float buffer behind one or more tensors (views share it). Buffers come
// from a size-bucketed caching allocator: a freed buffer goes back to a free list of its
// size class and the next request of that class reuses it, so a training loop, which
// asks for the same sizes every step, stops paying for page faults and the kernel's
// zero-filling of fresh pages after its first step. New buffers are NOT initialized.
#include <cstddef>
#include <cstdint>

namespace convnet {

class Storage {
 public:
  explicit Storage(size_t numel);  // uninitialized, 64-byte aligned
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  float* data() { return data_; }
  const float* data() const { return data_; }
  size_t size() const { return numel_; }

 private:
  float* data_;
  size_t numel_;
};

namespace memory {
struct Stats {
  int64_t live_bytes = 0;     // in buffers held by tensors (rounded to their size class)
  int64_t cached_bytes = 0;   // in free buffers kept for reuse
  int64_t peak_bytes = 0;     // largest live_bytes + cached_bytes seen
  int64_t system_allocs = 0;  // buffers obtained from the system (cache misses)
  int64_t reuses = 0;         // requests served from the cache
};
Stats stats();
// Returns every cached free buffer to the system.
void empty_cache();
// Largest number of bytes the cache keeps in free buffers (default 2 GiB, or the
// environment's CONVNET_CACHE_MB); 0 turns caching off.
void set_cache_limit(int64_t bytes);
}  // namespace memory

}  // namespace convnet
