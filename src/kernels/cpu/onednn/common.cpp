#include <cstdlib>
#include <stdexcept>
#include <string>

#include "kernels/cpu/onednn_common.h"

namespace convnet::kernels::onednn {

dnnl::engine& engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
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
