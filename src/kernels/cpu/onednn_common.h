#pragma once
// Shared plumbing of the oneDNN kernels: the CPU engine, a stream per thread, temporary
// buffers from the tensor caching allocator, and a thread-safe cache of primitives keyed
// by geometry (creating a oneDNN primitive JIT-compiles code: milliseconds, so it is done
// once per shape, never per call).
#include <array>
#include <cstdint>
#include <dnnl.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "convnet/core/storage.h"

namespace convnet::kernels::onednn {

dnnl::engine& engine();
dnnl::stream& stream();  // one per calling thread: streams are not meant to be shared
// Whether oneDNN has bfloat16 convolutions and matmuls on this CPU (it needs AVX-512, or
// AVX2 with the newest extensions): probed once by creating a small primitive of each.
// Without them the bfloat16 kernels compute in float32 through oneDNN's float32 primitives,
// rounding at the edges as their reference twins do.
bool bf16_primitives();
// Whether oneDNN runs AMX kernels on this CPU (its effective ISA is avx512_core_amx).
bool amx_primitives();

using dims = dnnl::memory::dims;
using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

inline dnnl::memory::desc plain_md(const dims& d, tag t) {
  return dnnl::memory::desc(d, dt::f32, t);
}

// The channel block of the activations layout oneDNN's f32 convolutions compute in on
// this CPU (16 with AVX-512, 8 with AVX2), or 0: keep tensors plain. CONVNET_BLOCKED=0 in
// the environment turns blocked activations off.
int32_t preferred_block();
// An activation tensor (N, C, H, W): plain NCHW (block 0), channel-blocked nChw{block}c, or
// channels-last NHWC (block C); see kernels/layout.h.
dnnl::memory::desc activation_md(const dims& d, int32_t block, dt type = dt::f32);

// A buffer for `md` (a reorder target or a scratchpad), released when it goes out of scope.
class Temp {
 public:
  Temp() = default;
  explicit Temp(size_t bytes) : buf_(bytes ? std::make_unique<Storage>(bytes) : nullptr) {}
  void* get() const { return buf_ ? buf_->data() : nullptr; }

 private:
  std::unique_ptr<Storage> buf_;
};

// `user` memory as the primitive wants it (`want`): the user's own buffer when the formats
// agree, else a reordered copy in `tmp` (the reorder primitive is cached in `r`).
struct Reorder {
  dnnl::memory::desc from, to;
  std::unique_ptr<dnnl::reorder> prim;  // null: no reorder needed
  Reorder() = default;
  Reorder(const dnnl::memory::desc& f, const dnnl::memory::desc& t) : from(f), to(t) {
    if (f != t) prim = std::make_unique<dnnl::reorder>(dnnl::reorder::primitive_desc(engine(), f, engine(), t));
  }
  bool needed() const { return prim != nullptr; }
  // In: returns memory in `to` format holding the user's data.
  dnnl::memory in(const void* user, Temp& tmp) const;
  // Out: returns memory in `from` format the primitive writes; call finish() afterwards to
  // reorder it into the user's `to` buffer.
  dnnl::memory out(void* user, Temp& tmp) const;
  void finish(const dnnl::memory& produced, void* user) const;
};

// Weights prepacked once: `w` (float32, as the user holds it) in the layout `r.to` wants,
// reordered on the first call and kept while the weight's storage (`id`) and contents
// (`version`, Tensor::version) stay the same; a step of the optimizer changes the version, so
// training repacks each step and inference never. Entries of weights that died age out: the
// cache keeps the most recently used ones within CONVNET_PACKED_WEIGHTS_MB (default 512).
// id == 0 (an anonymous buffer): reordered for this call only. Every reorder done here is
// timed and counted as the profiler row "weight_reorder".
struct Packed {
  uint64_t version = 0;
  std::unique_ptr<Storage> buf;
  void* data() const { return buf->raw(); }
};
std::shared_ptr<const Packed> packed_weights(const Reorder& r, const void* w, uint64_t id, uint64_t version);
// The same cache for a kernel's own packing: `pack` writes the `bytes` of the packed form of
// `w` to `dst`; `kind` (the address of something of the kernel's) tells packings apart. (Pass
// a large packing functor as std::ref(f): std::function copies one past two pointers to the
// heap, on every call.)
std::shared_ptr<const Packed> packed_weights(const void* kind, const void* w, uint64_t id, uint64_t version,
                                             size_t bytes, const std::function<void(void* dst)>& pack);
// The memory of `w` as the primitive wants it: the user's own when no reorder is needed, else
// the prepacked copy (held in `keep` until the call is over).
dnnl::memory weights_in(const Reorder& r, const void* w, uint64_t id, uint64_t version,
                        std::shared_ptr<const Packed>& keep);

// Fixed-size integer key of a primitive geometry.
template <size_t K>
struct Key {
  std::array<int64_t, K> v{};
  bool operator==(const Key& o) const { return v == o.v; }
};
template <size_t K>
struct KeyHash {
  size_t operator()(const Key<K>& k) const {
    size_t h = 1469598103934665603ull;
    for (int64_t x : k.v) h = (h ^ static_cast<size_t>(x)) * 1099511628211ull;
    return h;
  }
};

// get_or_create(key, make): the cached entry for `key`, built by make() on first use.
// Entries are never evicted: a model has a few dozen distinct layer shapes.
template <size_t K, class Entry>
class Cache {
 public:
  // `make` is any callable (a template, not std::function: a capturing lambda would be copied
  // to the heap on every call, hit or miss).
  template <class Make>
  std::shared_ptr<Entry> get(const Key<K>& key, Make&& make) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = map_.find(key);
      if (it != map_.end()) return it->second;
    }
    auto e = make();  // outside the lock: JIT compilation is slow
    std::lock_guard<std::mutex> lock(mu_);
    return map_.emplace(key, e).first->second;
  }

 private:
  std::mutex mu_;
  std::unordered_map<Key<K>, std::shared_ptr<Entry>, KeyHash<K>> map_;
};

}  // namespace convnet::kernels::onednn
