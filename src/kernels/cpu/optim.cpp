// Optimizer updates on the CPU: the whole parameter group as one range of elements
// (tensors back to back), split into one contiguous chunk per thread, so a group of many
// small tensors (biases, BatchNorm) and a few large ones (convolutions) runs in one
// parallel region. Each element's update is the reference's (kernels/optim.h), so the
// result is bit-identical whatever the split.
#include <algorithm>
#include <vector>

#include "kernels/cpu/parallel.h"
#include "kernels/optim.h"

namespace convnet::kernels::cpu {

namespace {
// fn(t, b, e) for the parts of tensor t inside [begin, end) of the concatenated group.
template <class F>
void over_group(int64_t count, const int64_t* n, F&& fn) {
  std::vector<int64_t> start(static_cast<size_t>(count) + 1, 0);
  for (int64_t t = 0; t < count; ++t) start[t + 1] = start[t] + n[t];
  parallel_chunks(start[count], [&](int64_t begin, int64_t end) {
    int64_t t = std::upper_bound(start.begin(), start.end(), begin) - start.begin() - 1;
    for (; t < count && start[t] < end; ++t) {
      const int64_t b = std::max(begin, start[t]) - start[t], e = std::min(end, start[t + 1]) - start[t];
      if (e > b) fn(t, b, e);
    }
  });
}
}  // namespace

void sgd_step(int64_t count, const int64_t* n, float* const* w, const float* const* g, float* const* b,
              const uint8_t* first, const SgdArgs& a) {
  over_group(count, n, [&](int64_t t, int64_t lo, int64_t hi) {
    detail::sgd_range(lo, hi, w[t], g[t], b ? b[t] : nullptr, first[t] != 0, a);
  });
}

void adam_step(int64_t count, const int64_t* n, float* const* w, const float* const* g, float* const* m,
               float* const* v, float* const* vmax, const float* neg_step, const float* bc2_sqrt, const AdamArgs& a) {
  over_group(count, n, [&](int64_t t, int64_t lo, int64_t hi) {
    detail::adam_range(lo, hi, w[t], g[t], m[t], v[t], a.amsgrad ? vmax[t] : nullptr, neg_step[t], bc2_sqrt[t], a);
  });
}

}  // namespace convnet::kernels::cpu

namespace convnet::kernels {
void register_cpu_optim() {
  keys::sgd_step.add("cpu", 10, &cpu::sgd_step);
  keys::adam_step.add("cpu", 10, &cpu::adam_step);
}
}  // namespace convnet::kernels
