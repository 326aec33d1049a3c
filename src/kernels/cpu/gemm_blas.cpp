// GEMM on OpenBLAS. OpenBLAS runs single-threaded inside our OpenMP regions; large
// GEMMs called from outside a parallel region are split by rows over the threads.
#include <cblas.h>
#include <omp.h>

#include <algorithm>

#include "kernels/gemm.h"
#include "kernels/registry.h"

namespace convnet::kernels::cpu {

void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda, const float* B,
          int64_t ldb, float beta, float* C, int64_t ldc) {
  static const bool init = [] {
    openblas_set_num_threads(1);
    return true;
  }();
  (void)init;
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  const int64_t work = M * N * K;
  // C[:, n0:n1] = alpha op(A) op(B)[:, n0:n1] + beta C[:, n0:n1]; one row of A (a linear layer
  // at batch 1) as a matrix-vector product, which OpenBLAS streams faster than its GEMM.
  auto columns = [&](int64_t n0, int64_t n1) {
    if (n1 <= n0) return;
    const float* Bb = tb ? B + n0 * ldb : B + n0;
    if (M == 1)
      cblas_sgemv(CblasRowMajor, tb ? CblasNoTrans : CblasTrans, tb ? n1 - n0 : K, tb ? K : n1 - n0, alpha, Bb, ldb, A,
                  ta ? lda : 1, beta, C + n0, 1);
    else
      cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, n1 - n0, K, alpha,
                  A, lda, Bb, ldb, beta, C + n0, ldc);
  };
  if (threads <= 1 || work < (1 << 18)) return columns(0, N);
  if (M < 2 * threads) {  // few rows (small batches): split the columns
#pragma omp parallel num_threads(threads)
    {
      const int t = omp_get_thread_num(), nt = omp_get_num_threads();
      // Column chunks in multiples of 16, so no two threads write one cache line of C.
      const int64_t blocks = (N + 15) / 16;
      columns(std::min(N, blocks * t / nt * 16), std::min(N, blocks * (t + 1) / nt * 16));
    }
    return;
  }
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    const int64_t m0 = M * t / nt, m1 = M * (t + 1) / nt;
    if (m1 > m0) {
      const float* Ab = ta ? A + m0 : A + m0 * lda;
      cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m1 - m0, N, K, alpha,
                  Ab, lda, B, ldb, beta, C + m0 * ldc, ldc);
    }
  }
}

}  // namespace convnet::kernels::cpu

namespace convnet::kernels {
void register_cpu_gemm() { keys::gemm.add("cpu", 10, &cpu::gemm); }
}  // namespace convnet::kernels
