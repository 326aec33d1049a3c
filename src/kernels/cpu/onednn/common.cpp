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
