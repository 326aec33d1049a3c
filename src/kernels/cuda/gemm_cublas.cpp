// The CUDA variants of the float32 gemm key (kernels/gemm.h) and of the reduced-precision
// linear keys (kernels/linear.h), on cuBLAS. cuBLAS is column-major: the row-major
// C = op(A) op(B) is computed as the column-major C^T = op(B)^T op(A)^T, i.e. with A and B
// swapped. float32 math (no TF32). In bfloat16 / float16 the products run on the tensor cores
// (cublasGemmEx, T inputs, float32 accumulation) into float32, so the linear layer's output is
// rounded to T once, after its bias (conv2d_lowp.cu's epilogue), and its weight gradient is float32.
#include "convnet/core/error.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/lowp.h"
#include "kernels/cuda/runtime.h"
#include "kernels/gemm.h"
#include "kernels/linear.h"

namespace convnet::kernels::cuda {
namespace {
int as_int(int64_t v) {
  return static_cast<int>(v);
}
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
  const Ctx c = ctx(C);
  check(cublas_api().sgemm(c.cublas(), trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, trans_a ? CUBLAS_OP_T : CUBLAS_OP_N,
                           as_int(N), as_int(M), as_int(K), &alpha, B, as_int(ldb), A, as_int(lda), &beta, C,
                           as_int(ldc)),
        "cublasSgemm");
}

// Column-major C (m x n, float32) = op_a(A) op_b(B), A and B in T, float32 accumulation.
template <class T>
void gemm_to_f32(const Ctx& c, bool ta, bool tb, int64_t m, int64_t n, int64_t k, const T* A, int64_t lda, const T* B,
                 int64_t ldb, float* C, int64_t ldc) {
  const float one = 1.f, zero = 0.f;
  check(cublas_api().gemm_ex(c.cublas(), ta ? CUBLAS_OP_T : CUBLAS_OP_N, tb ? CUBLAS_OP_T : CUBLAS_OP_N, as_int(m),
                             as_int(n), as_int(k), &one, A, Lowp<T>::cuda, as_int(lda), B, Lowp<T>::cuda, as_int(ldb),
                             &zero, C, CUDA_R_32F, as_int(ldc), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
        "cublasGemmEx");
}

// Row-major y (M, OUT) = x (M, IN) W^T + b: column-major y^T (OUT x M) = W'^T x', where the
// row-major W (OUT, IN) is the column-major W' (IN x OUT) and x the column-major x' (IN x M).
template <class T>
void linear_fwd(int64_t M, int64_t IN, int64_t OUT, const T* x, const float* w, const float* b, T* y) {
  if (M == 0 || OUT == 0) return;
  const Ctx c = ctx(y);
  const Rounded<T> wt(c, OUT * IN, w);
  Scratch acc(c, static_cast<size_t>(M * OUT) * sizeof(float));
  float* yf = static_cast<float*>(acc.get());
  if (IN == 0) {
    check(cudaMemsetAsync(yf, 0, static_cast<size_t>(M * OUT) * sizeof(float), c.stream), "cudaMemsetAsync");
  } else {
    gemm_to_f32<T>(c, true, false, OUT, M, IN, wt.get(), IN, x, IN, yf, OUT);
  }
  launch::bias_epilogue<float, T>(M, OUT, 1, yf, b, false, 0, 0.f, 0.f, y, c.stream);
}
// gx (M, IN) = gy (M, OUT) W: column-major gx^T (IN x M) = W' gy' (W' IN x OUT, gy' OUT x M).
// gw (OUT, IN) = gy^T x: column-major gw^T (IN x OUT) = x' gy'^T. gb = the column sums of gy.
template <class T>
void linear_bwd(int64_t M, int64_t IN, int64_t OUT, const T* x, const float* w, const T* gy, T* gx, float* gw,
                float* gb) {
  const void* any = gx ? static_cast<const void*>(gx) : gw ? static_cast<const void*>(gw) : gb;
  if (!any) return;
  const Ctx c = ctx(any);
  const auto zero_f32 = [&](float* p, int64_t n) {
    check(cudaMemsetAsync(p, 0, static_cast<size_t>(n) * sizeof(float), c.stream), "cudaMemsetAsync");
  };
  if (gx && M * IN > 0) {
    Scratch acc(c, static_cast<size_t>(M * IN) * sizeof(float));
    float* gxf = static_cast<float*>(acc.get());
    if (OUT == 0) {
      zero_f32(gxf, M * IN);
    } else {
      const Rounded<T> wt(c, OUT * IN, w);
      gemm_to_f32<T>(c, false, false, IN, M, OUT, wt.get(), IN, gy, OUT, gxf, IN);
    }
    launch::convert(M * IN, DType::float32, gxf, Lowp<T>::dtype, gx, c.stream);
  }
  if (gw && OUT * IN > 0) {
    if (M == 0)
      zero_f32(gw, OUT * IN);
    else
      gemm_to_f32<T>(c, false, true, IN, OUT, M, x, IN, gy, OUT, gw, IN);
  }
  if (gb && OUT > 0) launch::channel_sum<T>(M, OUT, 1, gy, gb, c.stream);
}

template <class T>
void register_gemm_lowp() {
  keys::Linear<T>::fwd->add("cuda", 10, &linear_fwd<T>, Device::Type::cuda);
  keys::Linear<T>::bwd->add("cuda", 10, &linear_bwd<T>, Device::Type::cuda);
}
}  // namespace
}  // namespace convnet::kernels::cuda

namespace convnet::kernels {
void register_cuda_gemm() {
  keys::gemm.add("cuda", 10, &cuda::gemm, Device::Type::cuda);
  cuda::register_gemm_lowp<bf16_t>();
  cuda::register_gemm_lowp<f16_t>();
}
}  // namespace convnet::kernels
