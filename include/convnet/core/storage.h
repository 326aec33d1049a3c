#pragma once
#pragma GCC visibility push(default)
/// \file
/// Storage: the bytes behind one or more tensors (views share it), on one device. Buffers
/// come from that device's allocator (memory::allocator(device)). The CPU's is a
/// size-bucketed caching allocator: a freed buffer goes back to a free list of its size
/// class and the next request of that class reuses it, so a training loop, which asks for
/// the same sizes every step, stops paying for page faults and the kernel's zero-filling of
/// fresh pages after its first step. New buffers are NOT initialized (with the environment
/// variable CONVNET_POISON_EMPTY set, the CPU allocator fills them with NaN, to catch
/// kernels that read what they never wrote).
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "convnet/core/dtype.h"

namespace convnet {

namespace memory {
/// Counters of one allocator (as torch.cuda.memory_stats, for the CPU too). Bytes are
/// counted by size class, so they can exceed the sum of the sizes asked for.
struct Stats {
  int64_t live_bytes = 0;     ///< in buffers held by tensors (rounded to their size class)
  int64_t cached_bytes = 0;   ///< in free buffers kept for reuse
  int64_t peak_bytes = 0;     ///< largest live_bytes + cached_bytes seen
  int64_t system_allocs = 0;  ///< buffers obtained from the system (cache misses)
  int64_t reuses = 0;         ///< requests served from the cache
};

/// One device's memory: the interface that the CPU's caching allocator and a GPU backend's
/// allocator implement. The CPU allocator's members are thread-safe (one mutex).
class Allocator {
 public:
  virtual ~Allocator() = default;
  /// A buffer of at least `bytes` bytes (the CPU allocator rounds up to the size class and
  /// gives a 0-byte request a 64-byte buffer).
  /// \post the buffer is 64-byte aligned and uninitialized; it counts in live_bytes until
  ///       release().
  /// \throws convnet::Error naming the bytes asked for when the device is out of memory
  ///        (after giving its cache back and trying once more).
  virtual void* allocate(size_t bytes) = 0;
  /// Gives back a buffer: the CPU allocator keeps it in its cache while the cache stays
  /// within the cache limit, else frees it.
  /// \pre  `p` came from allocate(`bytes`) of this allocator, with the same `bytes`, and is
  ///       not used afterwards.
  virtual void release(void* p, size_t bytes) = 0;
  /// A snapshot of the counters.
  virtual Stats stats() = 0;
  /// Returns every cached free buffer to the system (as torch.cuda.empty_cache).
  /// \post stats().cached_bytes is 0; buffers held by tensors are untouched.
  virtual void empty_cache() = 0;
  /// Sets the largest number of bytes the cache keeps in free buffers; 0 turns caching off.
  /// \post the CPU allocator also empties its cache (as empty_cache()).
  virtual void set_cache_limit(int64_t bytes) = 0;
};
/// The allocator of `device`: the CPU's caching allocator (limit 2 GiB, or the
/// environment's CONVNET_CACHE_MB, read once at first use), a GPU backend's for CUDA
/// devices.
/// \post a reference valid for the whole program.
/// \throws convnet::Error for a CUDA device when no backend registered an allocator, naming
///        the device ("this build of convnet has no CUDA support").
Allocator& allocator(const Device& device);
/// A backend registers its device type's allocator once, at start-up: `for_index(i)`
/// returns the allocator of GPU `i`.
/// \pre  `type` is Device::Type::cuda; `for_index` returns allocators that live for the
///       whole program.
/// \post allocator(device) of a CUDA device returns `*for_index(device.index)`; a second
///       call replaces the first.
/// \throws convnet::Error for Device::Type::cpu (the CPU allocator is built in).
void register_allocator(Device::Type type, Allocator* (*for_index)(int index));

/// The CPU allocator's counters (`allocator(Device::cpu()).stats()`), as before devices
/// existed.
Stats stats();
/// Empties the CPU allocator's cache (`allocator(Device::cpu()).empty_cache()`).
/// \post stats().cached_bytes is 0.
void empty_cache();
/// Sets the CPU allocator's cache limit in bytes (0 turns caching off) and empties its cache
/// (`allocator(Device::cpu()).set_cache_limit(bytes)`).
/// \post stats().cached_bytes is 0; later releases keep at most `bytes` bytes cached.
void set_cache_limit(int64_t bytes);
}  // namespace memory

/// The bytes behind one or more tensors (as torch.UntypedStorage), on one device, from that
/// device's allocator. Not copyable; tensors share it through a std::shared_ptr.
class Storage {
 public:
  /// `bytes` bytes on `device`: uninitialized, 64-byte aligned.
  /// \post bytes() == `bytes`, device() == `device`, a new id() and version() 0.
  /// \throws convnet::Error when `device` has no allocator (a CUDA device in a build
  ///        without a CUDA backend) or is out of memory (see memory::Allocator::allocate).
  explicit Storage(size_t bytes, Device device = Device::cpu());
  /// Gives the buffer back to the allocator.
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  /// The start of the buffer, on device() (not dereferenceable on the host for a GPU).
  void* raw() { return data_; }
  /// As above, read-only.
  const void* raw() const { return data_; }
  /// The bytes as float32 (what the CPU kernels of a float32 tensor read); a cast only,
  /// nothing is checked.
  float* data() { return static_cast<float*>(data_); }
  /// As above, read-only.
  const float* data() const { return static_cast<const float*>(data_); }
  /// The size asked for, in bytes.
  size_t bytes() const { return bytes_; }
  /// The device the bytes are on.
  const Device& device() const { return device_; }
  /// Identity, for backends that keep a derived copy of the bytes (a weight prepacked into
  /// a kernel's layout): unique for the life of the process (never reused, as an address
  /// is).
  uint64_t id() const { return id_; }
  /// Contents version: changes whenever a Tensor hands out mutable access to the bytes
  /// (Tensor::data() and the other non-const accessors), so a derived copy made at one
  /// version is stale at another.
  uint64_t version() const { return version_.load(std::memory_order_acquire); }
  /// Marks the contents as (possibly) changed; thread-safe.
  /// \post version() has increased by one.
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
#pragma GCC visibility pop
