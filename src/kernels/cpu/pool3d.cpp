// 3-D pooling on the CPU: the reference's per-plane loops (kernels/vol.h), the (n, c) planes
// split over the threads (a threaded reference: volumetric pooling is memory-bound and
// rare enough in CNNs that a vectorized window scan has not been worth its code yet).
#include <omp.h>

#include "kernels/cpu/parallel.h"
#include "kernels/registry.h"
#include "kernels/vol.h"

namespace convnet::kernels::cpu {

namespace {
template <class F>
void over_planes(const Pool3dGeom& g, F&& f) {
  const int64_t planes = g.N * g.C, in = g.in[0] * g.in[1] * g.in[2];
  const int nt = threads_for(planes * in, kGrain);
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (int64_t nc = 0; nc < planes; ++nc) f(nc);
}
int64_t in_size(const Pool3dGeom& g) {
  return g.in[0] * g.in[1] * g.in[2];
}
int64_t out_size(const Pool3dGeom& g) {
  return g.out[0] * g.out[1] * g.out[2];
}
}  // namespace

void max_pool3d_fwd(const Pool3dGeom& g, const float* x, float* y, int64_t* argmax) {
  const int64_t in = in_size(g), out = out_size(g);
  over_planes(
      g, [&](int64_t nc) { max_pool3d_plane(g, x + nc * in, y + nc * out, argmax ? argmax + nc * out : nullptr); });
}
void max_pool3d_bwd(const Pool3dGeom& g, const float* gy, const int64_t* argmax, float* gx) {
  const int64_t in = in_size(g), out = out_size(g);
  over_planes(g, [&](int64_t nc) { max_pool3d_plane_bwd(g, gy + nc * out, argmax + nc * out, gx + nc * in); });
}
void avg_pool3d_fwd(const Pool3dGeom& g, const float* x, float* y) {
  const int64_t in = in_size(g), out = out_size(g);
  over_planes(g, [&](int64_t nc) { avg_pool3d_plane(g, x + nc * in, y + nc * out); });
}
void avg_pool3d_bwd(const Pool3dGeom& g, const float* gy, float* gx) {
  const int64_t in = in_size(g), out = out_size(g);
  over_planes(g, [&](int64_t nc) { avg_pool3d_plane_bwd(g, gy + nc * out, gx + nc * in); });
}

}  // namespace convnet::kernels::cpu

namespace convnet::kernels {
void register_cpu_pool3d() {
  keys::max_pool3d_fwd.add("cpu", 10, &cpu::max_pool3d_fwd);
  keys::max_pool3d_bwd.add("cpu", 10, &cpu::max_pool3d_bwd);
  keys::avg_pool3d_fwd.add("cpu", 10, &cpu::avg_pool3d_fwd);
  keys::avg_pool3d_bwd.add("cpu", 10, &cpu::avg_pool3d_bwd);
}
}  // namespace convnet::kernels
