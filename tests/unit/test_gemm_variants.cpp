// Every registered "gemm" variant against ref::gemm<float>: sizes from 1 to large enough
// for the threaded path, odd sizes, all four transpose combinations, padded leading
// dimensions, and alpha/beta values (beta = 0 must ignore what C held, even NaN).
#include <cmath>

#include "kernels/gemm.h"
#include "kernels/registry.h"
#include "util/test_util.h"
#include "util/variants.h"

using namespace convnet;
using namespace convnet::testing;

namespace {

struct Dims {
  int64_t M, N, K;
};

const std::vector<Dims> kSizes = {{1, 1, 1},
                                  {1, 7, 3},
                                  {5, 1, 4},
                                  {3, 4, 1},
                                  {7, 5, 3},
                                  {17, 13, 11},
                                  {64, 33, 31},
                                  {2, 300, 5},
                                  {129, 65, 257},
                                  {300, 200, 100},
                                  {511, 3, 97},
                                  // Large enough to be threaded: one row (a matrix-vector product, the
                                  // columns split), a few rows (columns split), a ragged column count.
                                  {1, 1000, 512},
                                  {3, 700, 200},
                                  {1, 37, 9000}};

}  // namespace

TEST(GemmVariants, EveryRegisteredKernelMatchesReference) {
  const auto vars = convnet::testing::fast_variants(kernels::keys::gemm);  // against ref::gemm below
  const std::vector<std::pair<float, float>> alpha_beta = {{1.f, 0.f}, {1.f, 1.f}, {0.5f, -2.f}, {-1.5f, 0.25f}};
  int cases = 0;
  for (size_t si = 0; si < kSizes.size(); ++si) {
    const auto [M, N, K] = kSizes[si];
    for (int t = 0; t < 4; ++t) {
      const bool ta = t & 1, tb = t & 2;
      // op(A) is M x K, op(B) is K x N; stored rows get a few extra columns (ld > minimum)
      // on every other size so that ld is honoured, not assumed.
      const int64_t pad = si % 2;
      const int64_t lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
      const int64_t a_rows = ta ? K : M, b_rows = tb ? N : K;
      auto A = to_float(random_doubles(a_rows * lda, 1000 + si * 4 + t));
      auto B = to_float(random_doubles(b_rows * ldb, 2000 + si * 4 + t));
      auto C0 = to_float(random_doubles(M * ldc, 3000 + si * 4 + t));
      for (const auto& [alpha, beta] : alpha_beta) {
        std::vector<float> C_ref = C0;
        kernels::ref::gemm<float>(ta, tb, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, C_ref.data(), ldc);
        for (const auto& v : vars) {
          SCOPED_TRACE("backend " + v.backend + " M=" + std::to_string(M) + " N=" + std::to_string(N) +
                       " K=" + std::to_string(K) + " trans_a=" + std::to_string(ta) + " trans_b=" + std::to_string(tb) +
                       " alpha=" + std::to_string(alpha) + " beta=" + std::to_string(beta));
          std::vector<float> C = C0;
          if (beta == 0.f)
            for (int64_t m = 0; m < M; ++m)
              for (int64_t n = 0; n < N; ++n) C[m * ldc + n] = NAN;
          v.fn(ta, tb, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, C.data(),
                                                   ldc);
          // Padding columns of C are never written.
          for (int64_t m = 0; m < M; ++m)
            for (int64_t n = N; n < ldc; ++n) ASSERT_EQ(C[m * ldc + n], C0[m * ldc + n]);
          // Tolerance grows with K: the terms are in [-1, 1), float sums in any order.
          const double atol = 1e-6 * (K + 1) * 4;
          EXPECT_TRUE(all_close(std::vector<double>(C.begin(), C.end()),
                                std::vector<double>(C_ref.begin(), C_ref.end()), 1e-5, atol));
          ++cases;
          convnet::testing::count_compared(kernels::keys::gemm);
        }
      }
    }
  }
  EXPECT_GT(cases, 0);
  convnet::testing::expect_compared({&kernels::keys::gemm});
}

TEST(GemmReference, SmallProductByHand) {
  // A = [[1, 2], [3, 4]], B = [[5, 6], [7, 8]]: A B = [[19, 22], [43, 50]], A^T B = [[26, 30], [38, 44]],
  // A B^T = [[17, 23], [39, 53]], A^T B^T = [[23, 31], [34, 46]].
  const float A[] = {1, 2, 3, 4}, B[] = {5, 6, 7, 8};
  const std::vector<std::vector<float>> want = {{19, 22, 43, 50}, {26, 30, 38, 44}, {17, 23, 39, 53}, {23, 31, 34, 46}};
  for (const auto& v : kernels::keys::gemm.variants())
    for (int t = 0; t < 4; ++t) {
      std::vector<float> C = {1, 1, 1, 1};
      v.fn(t & 1, t & 2, 2, 2, 2, 2.f, A, 2, B, 2, 10.f, C.data(), 2);
      for (int i = 0; i < 4; ++i) EXPECT_EQ(C[i], 2 * want[t][i] + 10) << v.backend << " t=" << t << " i=" << i;
    }
}
