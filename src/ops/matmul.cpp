// Batched matrix product, as torch.matmul of two (..., M, K) x (..., K, N) tensors with the
// same batch dimensions, on the registered GEMM (one call per matrix). With L a scalar loss:
//   Y_b = A_b B_b,   dL/dA_b = dY_b B_b^T,   dL/dB_b = A_b^T dY_b
#include "convnet/autograd/autograd.h"
#include "convnet/autograd/trace.h"
#include "convnet/core/error.h"
#include "convnet/ops/linear.h"
#include "kernels/gemm.h"
#include "kernels/registry.h"
#include "ops/checks.h"

namespace convnet::ops {

Tensor matmul(const Tensor& a_arg, const Tensor& b_arg, const std::string& layer) {
  CONVNET_CHECK(a_arg.defined() && b_arg.defined(), layer, ": both operands must be defined");
  // Row-major float32 operands (ops/autocast.h: float32 kernels only).
  const Tensor a = as_fp32(a_arg).in_layout(nullptr), b = as_fp32(b_arg).in_layout(nullptr);
  check_operands(layer, {{"a", &a}, {"b", &b}});
  CONVNET_CHECK(a.dim() >= 2 && b.dim() == a.dim(), layer,
                ": expected two operands (..., M, K) and (..., K, N) of the same rank >= 2, got ", shape_str(a.shape()),
                " and ", shape_str(b.shape()));
  for (int64_t d = 0; d + 2 < a.dim(); ++d)
    CONVNET_CHECK(a.size(d) == b.size(d), layer, ": the batch dimensions of ", shape_str(a.shape()), " and ",
                  shape_str(b.shape()), " differ (broadcast them first)");
  CONVNET_CHECK(a.size(-1) == b.size(-2), layer, ": shapes ", shape_str(a.shape()), " and ", shape_str(b.shape()),
                " cannot be multiplied (", a.size(-1), " columns against ", b.size(-2), " rows)");
  const int64_t M = a.size(-2), K = a.size(-1), N = b.size(-1);
  int64_t batch = 1;
  for (int64_t d = 0; d + 2 < a.dim(); ++d) batch *= a.size(d);
  Shape out = a.shape();
  out.back() = N;
  Tensor y = Tensor::zeros(out);  // beta 0 over zeros: an empty K leaves zeros, as torch
  for (int64_t i = 0; i < batch; ++i)
    kernels::keys::gemm(false, false, M, N, K, 1.f, a.data() + i * M * K, K, b.data() + i * K * N, N, 0.f,
                        y.data() + i * M * N, N);
  autograd::record(y, "matmul", {a, b}, [a, b, batch, M, K, N](const Tensor& g_arg) {
    const Tensor g = g_arg.in_layout(nullptr);
    Tensor ga = a.requires_grad() ? Tensor::zeros(a.shape()) : Tensor();
    Tensor gb = b.requires_grad() ? Tensor::zeros(b.shape()) : Tensor();
    for (int64_t i = 0; i < batch; ++i) {
      if (ga.defined())  // (M, N) x (N, K): dY B^T
        kernels::keys::gemm(false, true, M, K, N, 1.f, g.data() + i * M * N, N, b.data() + i * K * N, N, 0.f,
                            ga.data() + i * M * K, K);
      if (gb.defined())  // (K, M) x (M, N): A^T dY
        kernels::keys::gemm(true, false, K, N, M, 1.f, a.data() + i * M * K, K, g.data() + i * M * N, N, 0.f,
                            gb.data() + i * K * N, N);
    }
    return std::vector<Tensor>{ga, gb};
  });
  if (trace::active()) trace::record("matmul", {a, b}, y);
  return y;
}

}  // namespace convnet::ops
