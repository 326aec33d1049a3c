// PReLU on the CPU: the (sample, channel) planes split over the threads, each plane a
// branch-free loop the compiler vectorizes. The weight gradient is summed per plane in
// double, then per channel in a fixed order, so the result does not depend on the thread
// count.
#include "kernels/prelu.h"

#include <vector>

#include "kernels/cpu/parallel.h"
#include "kernels/registry.h"

namespace convnet::kernels::cpu {

namespace {
CONVNET_SIMD void plane_fwd(int64_t s, float a, const float* x, float* y) {
  for (int64_t k = 0; k < s; ++k) y[k] = x[k] > 0.f ? x[k] : a * x[k];
}
CONVNET_SIMD double plane_bwd(int64_t s, float a, const float* x, const float* gy, float* gx) {
  double acc = 0;
  for (int64_t k = 0; k < s; ++k) {
    const bool pos = x[k] > 0.f;
    gx[k] = pos ? gy[k] : a * gy[k];
    acc += pos ? 0.0 : static_cast<double>(x[k]) * static_cast<double>(gy[k]);
  }
  return acc;
}
}  // namespace

void prelu_fwd(int64_t n, int64_t c, int64_t s, int64_t wc, const float* x, const float* w, float* y) {
  parallel_for(n * c, s, [&](int64_t p) { plane_fwd(s, w[wc == 1 ? 0 : p % c], x + p * s, y + p * s); });
}

void prelu_bwd(int64_t n, int64_t c, int64_t s, int64_t wc, const float* x, const float* w, const float* gy, float* gx,
               float* gw) {
  std::vector<double> part(static_cast<size_t>(n * c));
  parallel_for(n * c, s,
               [&](int64_t p) { part[p] = plane_bwd(s, w[wc == 1 ? 0 : p % c], x + p * s, gy + p * s, gx + p * s); });
  std::vector<double> acc(static_cast<size_t>(wc), 0.0);
  for (int64_t p = 0; p < n * c; ++p) acc[wc == 1 ? 0 : p % c] += part[p];
  for (int64_t j = 0; j < wc; ++j) gw[j] = static_cast<float>(acc[j]);
}

}  // namespace convnet::kernels::cpu

namespace convnet::kernels {
void register_cpu_prelu() {
  keys::prelu_fwd.add("cpu", 10, &cpu::prelu_fwd);
  keys::prelu_bwd.add("cpu", 10, &cpu::prelu_bwd);
}
}  // namespace convnet::kernels
