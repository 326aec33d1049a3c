// Cross-entropy on the CPU: the rows (samples) are independent, so they are split over
// the threads. The forward computes every row's log-sum-exp and loss with the reference
// kernel on one-row blocks (kernels/ref/loss.cpp) and then reduces the per-row losses in
// row order as the reference does, so the result is the reference's, bit for bit.
// The other losses stay on the reference: they are cheap next to any network.
#include <cmath>
#include <vector>

#include "kernels/cpu/parallel.h"
#include "kernels/loss.h"
#include "kernels/registry.h"

namespace convnet::kernels::cpu {

void cross_entropy_fwd(int64_t N, int64_t K, const float* x, const int64_t* target, float eps, Reduction r, float* loss,
                       float* lse) {
  std::vector<float> per_row;
  float* rows = loss;
  if (r != Reduction::None) {
    per_row.resize(static_cast<size_t>(N));
    rows = per_row.data();
  }
  parallel_for(N, K * 4, [&](int64_t n) {
    ref::cross_entropy_fwd<float>(1, K, x + n * K, target + n, eps, Reduction::None, rows + n, lse + n);
  });
  if (r == Reduction::None) return;
  float acc = 0;
  for (int64_t n = 0; n < N; ++n) acc += rows[n];
  loss[0] = r == Reduction::Mean ? acc / static_cast<float>(N) : acc;
}

// gx_nk = g_n (exp(x_nk - lse_n) - q_nk), q the smoothed one-hot target.
void cross_entropy_bwd(int64_t N, int64_t K, const float* x, const int64_t* target, float eps, const float* lse,
                       Reduction r, const float* gy, float* gx) {
  parallel_for(N, K * 4, [&](int64_t n) {
    const float g = r == Reduction::None ? gy[n] : (r == Reduction::Mean ? gy[0] / static_cast<float>(N) : gy[0]);
    for (int64_t k = 0; k < K; ++k) {
      const float q = (k == target[n] ? 1.f - eps : 0.f) + eps / static_cast<float>(K);
      gx[n * K + k] = g * (std::exp(x[n * K + k] - lse[n]) - q);
    }
  });
}

}  // namespace convnet::kernels::cpu

namespace convnet::kernels {
void register_cpu_loss() {
  keys::cross_entropy_fwd.add("cpu", 10, &cpu::cross_entropy_fwd);
  keys::cross_entropy_bwd.add("cpu", 10, &cpu::cross_entropy_bwd);
}
}  // namespace convnet::kernels
