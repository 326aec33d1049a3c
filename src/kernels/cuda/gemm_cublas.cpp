// The CUDA variant of the float32 gemm key (kernels/gemm.h), on cuBLAS. cuBLAS is
// column-major: the row-major C = op(A) op(B) is computed as the column-major
// C^T = op(B)^T op(A)^T, i.e. with A and B swapped. float32 math (no TF32).
#include "kernels/cuda/runtime.h"
#include "kernels/gemm.h"

namespace convnet::kernels::cuda {
namespace {
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
  const Ctx c = ctx(C);
  const auto i = [](int64_t v) { return static_cast<int>(v); };
  check(cublas_api().sgemm(c.cublas(), trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, i(N),
                           i(M), i(K), &alpha, B, i(ldb), A, i(lda), &beta, C, i(ldc)),
        "cublasSgemm");
}
}  // namespace
}  // namespace convnet::kernels::cuda

namespace convnet::kernels {
void register_cuda_gemm() {
  keys::gemm.add("cuda", 10, &cuda::gemm, Device::Type::cuda);
}
}  // namespace convnet::kernels
