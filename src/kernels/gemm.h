#pragma once
// Row-major GEMM: C (M x N) = alpha * op(A) (M x K) * op(B) (K x N) + beta * C,
// op(X) = X or X^T. Used by linear and by the im2col convolution.
#include <cstdint>
#include "kernels/registry.h"

namespace convnet::kernels {

template <class T>
using GemmFn = void(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
                    const T* B, int64_t ldb, T beta, T* C, int64_t ldc);

namespace ref {
template <class T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B,
          int64_t ldb, T beta, T* C, int64_t ldc);
}
namespace cpu {
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc);
}


// The keys (kernels/registry.h): one per kernel of this interface.
namespace keys {
inline Kernel<GemmFn<float>> gemm{"gemm"};
}  // namespace keys

}  // namespace convnet::kernels
