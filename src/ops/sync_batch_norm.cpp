// SyncBatchNorm (ops/batch_norm.h): batch normalization over the global batch of a
// data-parallel run. The per-channel sums are reduced over the process group in double.
#include <cmath>
#include <vector>

#include "convnet/autograd/autograd.h"
#include "convnet/core/error.h"
#include "convnet/dist/dist.h"
#include "convnet/ops/batch_norm.h"

namespace convnet::ops {

Tensor sync_batch_norm(const Tensor& x_in, Tensor running_mean, Tensor running_var, const Tensor& weight,
                       const Tensor& bias, double momentum, double eps, dist::ProcessGroup& group,
                       const std::string& layer) {
  CONVNET_CHECK(x_in.defined() && x_in.dim() >= 2 && x_in.device().is_cpu() && is_floating(x_in.dtype()), layer,
                ": sync batch norm needs a floating CPU input of at least 2 dimensions");
  CONVNET_CHECK(running_mean.defined() == running_var.defined(), layer,
                ": running_mean and running_var must both be given or both be undefined");
  CONVNET_CHECK(eps >= 0, layer, ": eps must be non-negative, got ", eps);
  // Row-major float32 copies where needed: never rewriting an operand in place, whose storage
  // other tensors may share in the backend's layout.
  const Tensor xa = x_in.dtype() == DType::float32 ? x_in : x_in.to(DType::float32);  // the graph's input
  const Tensor x = xa.in_layout(nullptr);
  const int64_t N = x.size(0), C = x.size(1), L = N * C > 0 ? x.numel() / (N * C) : 0;
  for (const Tensor* t : std::initializer_list<const Tensor*>{&weight, &bias, &running_mean, &running_var})
    CONVNET_CHECK(!t->defined() || (t->dim() == 1 && t->size(0) == C && t->dtype() == DType::float32), layer,
                  ": input of shape ", shape_str(x.shape()), " has ", C,
                  " channels, but a parameter or statistic has shape ", shape_str(t->shape()), " (expected float32 (",
                  C, "))");
  const float* xp = x.raw_data();
  // Per channel: sum and sum of squares over this rank's values, then over all ranks.
  std::vector<double> st(static_cast<size_t>(2 * C + 1), 0.0);
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < C; ++c) {
    double s = 0, ss = 0;
    for (int64_t n = 0; n < N; ++n) {
      const float* p = xp + (n * C + c) * L;
      for (int64_t i = 0; i < L; ++i) s += p[i], ss += static_cast<double>(p[i]) * p[i];
    }
    st[c] = s, st[C + c] = ss;
  }
  st[2 * C] = static_cast<double>(N * L);
  group.allreduce(st.data(), 2 * C + 1, dist::ReduceOp::sum);
  const double M = st[2 * C];
  CONVNET_CHECK(M > 1, layer,
                ": expected more than 1 value per channel over all ranks when training, got input of shape ",
                shape_str(x.shape()));
  auto mean = std::make_shared<std::vector<float>>(C), invstd = std::make_shared<std::vector<float>>(C);
  for (int64_t c = 0; c < C; ++c) {
    const double m = st[c] / M, v = std::max(0.0, st[C + c] / M - m * m);
    (*mean)[c] = static_cast<float>(m), (*invstd)[c] = static_cast<float>(1.0 / std::sqrt(v + eps));
    if (running_mean.defined()) {
      float* rm = running_mean.data();
      float* rv = running_var.data();
      rm[c] = static_cast<float>((1 - momentum) * rm[c] + momentum * m);
      rv[c] = static_cast<float>((1 - momentum) * rv[c] + momentum * v * M / (M - 1));
    }
  }
  const float* w = weight.defined() ? weight.data() : nullptr;
  const float* b = bias.defined() ? bias.data() : nullptr;
  Tensor y = Tensor::empty(x.shape());
  float* yp = y.data();
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c) {
      const float a = (*invstd)[c] * (w ? w[c] : 1.f), sh = (b ? b[c] : 0.f) - (*mean)[c] * a;
      const float* p = xp + (n * C + c) * L;
      float* q = yp + (n * C + c) * L;
      for (int64_t i = 0; i < L; ++i) q[i] = p[i] * a + sh;
    }
  autograd::record(
      y, "sync_batch_norm", {xa, weight, bias},
      [x, weight, has_bias = bias.defined(), mean, invstd, N, C, L, M,
       gp = &group](const Tensor& gy_any) -> std::vector<Tensor> {
        const Tensor gy = (gy_any.dtype() == DType::float32 ? gy_any : gy_any.to(DType::float32)).in_layout(nullptr);
        const float* g = gy.raw_data();
        const float* xp = x.raw_data();
        std::vector<double> red(static_cast<size_t>(2 * C));
        Tensor gw = Tensor::empty({C}), gb = Tensor::empty({C});
        float* gwp = gw.data();
        float* gbp = gb.data();
#pragma omp parallel for schedule(static)
        for (int64_t c = 0; c < C; ++c) {
          double sdy = 0, sdyx = 0;
          const float m = (*mean)[c], is = (*invstd)[c];
          for (int64_t n = 0; n < N; ++n) {
            const float* p = xp + (n * C + c) * L;
            const float* q = g + (n * C + c) * L;
            for (int64_t i = 0; i < L; ++i) sdy += q[i], sdyx += static_cast<double>(q[i]) * (p[i] - m) * is;
          }
          gbp[c] = static_cast<float>(sdy), gwp[c] = static_cast<float>(sdyx);
          red[c] = sdy, red[C + c] = sdyx;
        }
        // The whole batch's sums, each rank's weighted by its share: rank r's dx
        // is the global one divided by its share, which the gradient reducer
        // multiplies back.
        const double wr = dist::grad_weight();
        for (double& v : red) v *= wr;
        gp->allreduce(red.data(), 2 * C, dist::ReduceOp::sum);
        const float* w = weight.defined() ? weight.data() : nullptr;
        Tensor dx = Tensor::empty(x.shape());
        float* dp = dx.data();
#pragma omp parallel for collapse(2) schedule(static)
        for (int64_t n = 0; n < N; ++n)
          for (int64_t c = 0; c < C; ++c) {
            const float m = (*mean)[c], is = (*invstd)[c];
            const auto a = static_cast<float>(red[c] / (M * wr)), bb = static_cast<float>(red[C + c] / (M * wr));
            const float k = is * (w ? w[c] : 1.f);
            const float* p = xp + (n * C + c) * L;
            const float* q = g + (n * C + c) * L;
            float* o = dp + (n * C + c) * L;
            for (int64_t i = 0; i < L; ++i) o[i] = k * (q[i] - a - (p[i] - m) * is * bb);
          }
        return {dx, weight.defined() ? gw : Tensor(), has_bias ? gb : Tensor()};
      });
  return x_in.dtype() == DType::float32 ? y : y.to(x_in.dtype());
}

}  // namespace convnet::ops
