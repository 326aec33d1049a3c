// softmax / log_softmax on the CPU: the (o, i) lines are independent, so blocks of outer
// rows are split over the threads and each block runs the reference loop
// (kernels/ref/softmax.cpp) on its own sub-geometry: identical results, by design.
#include "kernels/cpu/parallel.h"
#include "kernels/registry.h"
#include "kernels/softmax.h"

namespace convnet::kernels::cpu {

namespace {
// f(sub-geometry, element offset) over the outer rows, one row per item.
template <class F>
void over_rows(const SoftmaxGeom& g, F&& f) {
  const int64_t row = g.D * g.inner;
  parallel_for(g.outer, row * 8, [&](int64_t o) { f(SoftmaxGeom{1, g.D, g.inner}, o * row); });
}
}  // namespace

void softmax_fwd(const SoftmaxGeom& g, const float* x, float* y) {
  over_rows(g, [&](const SoftmaxGeom& s, int64_t off) { ref::softmax_fwd<float>(s, x + off, y + off); });
}
void softmax_bwd(const SoftmaxGeom& g, const float* y, const float* gy, float* gx) {
  over_rows(g, [&](const SoftmaxGeom& s, int64_t off) { ref::softmax_bwd<float>(s, y + off, gy + off, gx + off); });
}
void log_softmax_fwd(const SoftmaxGeom& g, const float* x, float* y) {
  over_rows(g, [&](const SoftmaxGeom& s, int64_t off) { ref::log_softmax_fwd<float>(s, x + off, y + off); });
}
void log_softmax_bwd(const SoftmaxGeom& g, const float* y, const float* gy, float* gx) {
  over_rows(g, [&](const SoftmaxGeom& s, int64_t off) { ref::log_softmax_bwd<float>(s, y + off, gy + off, gx + off); });
}

}  // namespace convnet::kernels::cpu

namespace convnet::kernels {
void register_cpu_softmax() {
  keys::softmax_fwd.add("cpu", 10, &cpu::softmax_fwd);
  keys::softmax_bwd.add("cpu", 10, &cpu::softmax_bwd);
  keys::log_softmax_fwd.add("cpu", 10, &cpu::log_softmax_fwd);
  keys::log_softmax_bwd.add("cpu", 10, &cpu::log_softmax_bwd);
}
}  // namespace convnet::kernels
