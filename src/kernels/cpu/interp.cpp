// 2-D interpolation on the CPU (kernels/interp.h): the (n, c) planes are independent, so they
// are split over the threads, forward and backward alike (each plane's scatter is its own).
// Per output row the two source rows are blended first (one multiply-add per column of the
// source), then each output column reads two entries of the blended row.
#include "kernels/interp.h"

#include <vector>

#include "kernels/cpu/parallel.h"
#include "kernels/registry.h"

namespace convnet::kernels::cpu {

void interp_fwd(const InterpGeom& g, const float* x, float* y) {
  parallel_for(g.planes, g.OH * g.OW * 4, [&](int64_t p) {
    std::vector<float> row(static_cast<size_t>(g.W));
    const float* xp = x + p * g.H * g.W;
    float* yp = y + p * g.OH * g.OW;
    for (int64_t oh = 0; oh < g.OH; ++oh) {
      const float* r0 = xp + g.ih0[oh] * g.W;
      const float* r1 = xp + g.ih1[oh] * g.W;
      const float a0 = g.wh0[oh], a1 = g.wh1[oh];
      for (int64_t w = 0; w < g.W; ++w) row[w] = a0 * r0[w] + a1 * r1[w];
      float* yr = yp + oh * g.OW;
      for (int64_t ow = 0; ow < g.OW; ++ow) yr[ow] = g.ww0[ow] * row[g.iw0[ow]] + g.ww1[ow] * row[g.iw1[ow]];
    }
  });
}

void interp_bwd(const InterpGeom& g, const float* gy, float* gx) {
  parallel_for(g.planes, g.OH * g.OW * 4, [&](int64_t p) {
    InterpGeom one = g;
    one.planes = 1;
    ref::interp_bwd<float>(one, gy + p * g.OH * g.OW, gx + p * g.H * g.W);
  });
}

}  // namespace convnet::kernels::cpu

namespace convnet::kernels {
void register_cpu_interp() {
  keys::interp_fwd.add("cpu", 10, &cpu::interp_fwd);
  keys::interp_bwd.add("cpu", 10, &cpu::interp_bwd);
}
}  // namespace convnet::kernels
