// Reference 3-D pooling: the planes one after another through the per-plane definitions of
// kernels/vol.h (cpu/pool3d.cpp splits the same planes over threads); also in double, for the
// gradient checks.
#include "kernels/registry.h"
#include "kernels/vol.h"

namespace convnet::kernels::ref {

template <class T>
void max_pool3d_fwd(const Pool3dGeom& g, const T* x, T* y, int64_t* argmax) {
  const int64_t in = g.in[0] * g.in[1] * g.in[2], out = g.out[0] * g.out[1] * g.out[2];
  for (int64_t nc = 0; nc < g.N * g.C; ++nc)
    max_pool3d_plane(g, x + nc * in, y + nc * out, argmax ? argmax + nc * out : nullptr);
}
template <class T>
void max_pool3d_bwd(const Pool3dGeom& g, const T* gy, const int64_t* argmax, T* gx) {
  const int64_t in = g.in[0] * g.in[1] * g.in[2], out = g.out[0] * g.out[1] * g.out[2];
  for (int64_t nc = 0; nc < g.N * g.C; ++nc) max_pool3d_plane_bwd(g, gy + nc * out, argmax + nc * out, gx + nc * in);
}
template <class T>
void avg_pool3d_fwd(const Pool3dGeom& g, const T* x, T* y) {
  const int64_t in = g.in[0] * g.in[1] * g.in[2], out = g.out[0] * g.out[1] * g.out[2];
  for (int64_t nc = 0; nc < g.N * g.C; ++nc) avg_pool3d_plane(g, x + nc * in, y + nc * out);
}
template <class T>
void avg_pool3d_bwd(const Pool3dGeom& g, const T* gy, T* gx) {
  const int64_t in = g.in[0] * g.in[1] * g.in[2], out = g.out[0] * g.out[1] * g.out[2];
  for (int64_t nc = 0; nc < g.N * g.C; ++nc) avg_pool3d_plane_bwd(g, gy + nc * out, gx + nc * in);
}

#define INSTANTIATE(T)                                                              \
  template void max_pool3d_fwd<T>(const Pool3dGeom&, const T*, T*, int64_t*);       \
  template void max_pool3d_bwd<T>(const Pool3dGeom&, const T*, const int64_t*, T*); \
  template void avg_pool3d_fwd<T>(const Pool3dGeom&, const T*, T*);                 \
  template void avg_pool3d_bwd<T>(const Pool3dGeom&, const T*, T*);
INSTANTIATE(float)
INSTANTIATE(double)
#undef INSTANTIATE

}  // namespace convnet::kernels::ref

namespace convnet::kernels {
void register_ref_pool3d() {
  keys::max_pool3d_fwd.add("ref", 0, &ref::max_pool3d_fwd<float>);
  keys::max_pool3d_bwd.add("ref", 0, &ref::max_pool3d_bwd<float>);
  keys::avg_pool3d_fwd.add("ref", 0, &ref::avg_pool3d_fwd<float>);
  keys::avg_pool3d_bwd.add("ref", 0, &ref::avg_pool3d_bwd<float>);
}
}  // namespace convnet::kernels
