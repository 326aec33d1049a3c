#include <cstdlib>
#include <stdexcept>
#include <string>

#include "convnet/core/profiler.h"
#include "kernels/cpu/onednn_common.h"

namespace convnet::kernels::onednn {

dnnl::engine& engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

bool bf16_primitives() {
  static const bool ok = [] {
    using dnnl::memory;
    try {
      const memory::desc x({2, 16}, dt::bf16, tag::ab), w({16, 16}, dt::bf16, tag::ab), y({2, 16}, dt::bf16, tag::ab);
      dnnl::matmul::primitive_desc mm(dnnl::matmul::desc(x, w, y), engine());
      const memory::desc cx({1, 16, 4, 4}, dt::bf16, tag::any), cw({16, 16, 3, 3}, dt::bf16, tag::any),
          cy({1, 16, 4, 4}, dt::bf16, tag::any);
      dnnl::convolution_forward::primitive_desc conv(
          dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, cx,
                                          cw, cy, {1, 1}, {1, 1}, {1, 1}),
          engine());
      return true;
    } catch (const dnnl::error&) {
      return false;
    }
  }();
  return ok;
}

bool amx_primitives() {
  static const bool yes = dnnl::get_effective_cpu_isa() == dnnl::cpu_isa::avx512_core_amx;
  return yes;
}

dnnl::stream& stream() {
  thread_local dnnl::stream s(engine());
  return s;
}

int32_t preferred_block() {
  static const int32_t b = [] {
    if (const char* env = std::getenv("CONVNET_BLOCKED"); env && std::string(env) == "0") return 0;
    const dnnl::cpu_isa isa = dnnl::get_effective_cpu_isa();
    if (isa == dnnl::cpu_isa::avx512_core || isa == dnnl::cpu_isa::avx512_core_vnni ||
        isa == dnnl::cpu_isa::avx512_core_bf16 || isa == dnnl::cpu_isa::avx512_core_amx)
      return 16;
    if (isa == dnnl::cpu_isa::avx2 || isa == dnnl::cpu_isa::avx2_vnni) return 8;
    return 0;
  }();
  return b;
}

dnnl::memory::desc activation_md(const dims& d, int32_t block, dt type) {
  // With C = 8 or 16, channels-last is also nChw8c / nChw16c; oneDNN compares descriptors,
  // not bytes, and would reorder between the two: describe it as the primitives of this
  // type want it (float32: blocked, bfloat16 on AMX: channels-last).
  if (block != 0 && block == d[1] && (type != dt::f32 || (block != 8 && block != 16)))
    return dnnl::memory::desc(d, type, tag::nhwc);
  switch (block) {
    case 0:
      return dnnl::memory::desc(d, type, tag::nchw);
    case 8:
      return dnnl::memory::desc(d, type, tag::nChw8c);
    case 16:
      return dnnl::memory::desc(d, type, tag::nChw16c);
  }
  throw std::invalid_argument("oneDNN kernels: unsupported channel block " + std::to_string(block));
}

namespace {
struct PackedKey {
  uint64_t id;
  const void* ptr;
  const void* kind;  // the packing: a Reorder, or a kernel's own transform
  bool operator==(const PackedKey& o) const { return id == o.id && ptr == o.ptr && kind == o.kind; }
};
struct PackedKeyHash {
  size_t operator()(const PackedKey& k) const {
    size_t h = std::hash<uint64_t>()(k.id);
    h = h * 1099511628211ull ^ std::hash<const void*>()(k.ptr);
    return h * 1099511628211ull ^ std::hash<const void*>()(k.kind);
  }
};
struct PackedCache {
  std::mutex mu;
  struct Slot {
    std::shared_ptr<const Packed> packed;
    uint64_t last_use = 0;
  };
  std::unordered_map<PackedKey, Slot, PackedKeyHash> map;
  size_t bytes = 0, limit = 0;
  uint64_t tick = 0;
  PackedCache() {
    const char* env = std::getenv("CONVNET_PACKED_WEIGHTS_MB");
    limit = (env ? static_cast<size_t>(std::atoll(env)) : 512) << 20;
  }
  // Drops the least recently used entries until `bytes` fits the limit (a linear scan: the
  // map holds one entry per weight and primitive, a few hundred at most).
  void evict() {
    while (bytes > limit && !map.empty()) {
      auto oldest = map.begin();
      for (auto it = map.begin(); it != map.end(); ++it)
        if (it->second.last_use < oldest->second.last_use) oldest = it;
      bytes -= oldest->second.packed->buf->bytes();
      map.erase(oldest);
    }
  }
};
PackedCache& packed_cache() {
  static PackedCache c;
  return c;
}
}  // namespace

namespace {
// The cached packing of (kind, w, id) at `version`, or null (id 0: never cached).
std::shared_ptr<const Packed> packed_lookup(const void* kind, const void* w, uint64_t id, uint64_t version) {
  if (id == 0) return nullptr;
  PackedCache& c = packed_cache();
  std::lock_guard<std::mutex> lock(c.mu);
  auto it = c.map.find(PackedKey{id, w, kind});
  if (it == c.map.end() || it->second.packed->version != version) return nullptr;
  it->second.last_use = ++c.tick;
  return it->second.packed;
}
}  // namespace

std::shared_ptr<const Packed> packed_weights(const void* kind, const void* w, uint64_t id, uint64_t version,
                                             size_t bytes, const std::function<void(void* dst)>& pack) {
  if (auto hit = packed_lookup(kind, w, id, version)) return hit;
  auto fresh = std::make_shared<Packed>();
  fresh->version = version;
  {
    profiler::Scope scope("weight_reorder");
    fresh->buf = std::make_unique<Storage>(bytes);
    pack(fresh->buf->raw());  // outside the lock; a thread racing on the same weight does the same work
  }
  if (id == 0) return fresh;
  PackedCache& c = packed_cache();
  std::lock_guard<std::mutex> lock(c.mu);
  auto& slot = c.map[PackedKey{id, w, kind}];
  if (slot.packed) c.bytes -= slot.packed->buf->bytes();
  slot.packed = fresh;
  slot.last_use = ++c.tick;
  c.bytes += fresh->buf->bytes();
  c.evict();
  return fresh;
}

std::shared_ptr<const Packed> packed_weights(const Reorder& r, const void* w, uint64_t id, uint64_t version) {
  // Two references: small enough for std::function's inline buffer (no allocation per call).
  return packed_weights(&r, w, id, version, r.to.get_size(), [&r, w](void* dst) {
    dnnl::memory src(r.from, engine(), const_cast<void*>(w)), out(r.to, engine(), dst);
    r.prim->execute(stream(), src, out);
  });
}

dnnl::memory weights_in(const Reorder& r, const void* w, uint64_t id, uint64_t version,
                        std::shared_ptr<const Packed>& keep) {
  if (!r.needed()) return dnnl::memory(r.from, engine(), const_cast<void*>(w));
  keep = packed_weights(r, w, id, version);
  return dnnl::memory(r.to, engine(), keep->data());
}

dnnl::memory Reorder::in(const void* user, Temp& tmp) const {
  dnnl::memory u(from, engine(), const_cast<void*>(user));
  if (!prim) return u;
  tmp = Temp(to.get_size());
  dnnl::memory m(to, engine(), tmp.get());
  prim->execute(stream(), u, m);
  return m;
}

dnnl::memory Reorder::out(void* user, Temp& tmp) const {
  if (!prim) return dnnl::memory(to, engine(), user);
  tmp = Temp(from.get_size());
  return dnnl::memory(from, engine(), tmp.get());
}

void Reorder::finish(const dnnl::memory& produced, void* user) const {
  if (!prim) return;
  dnnl::memory u(to, engine(), user);
  prim->execute(stream(), const_cast<dnnl::memory&>(produced), u);
}

}  // namespace convnet::kernels::onednn
