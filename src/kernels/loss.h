#pragma once
// Kernel interface of the losses. Kernels trust the op: shapes and labels are checked.
// Reductions: `loss` is (N) per sample for Reduction::None (mse: one per element), else
// one value: the sum, divided by N for Mean. The backward's gy matches: (N) for None,
// else the one upstream gradient (the 1/N of Mean is applied by the kernel).
#include <cstdint>

#include "convnet/ops/loss.h"
#include "kernels/registry.h"

namespace convnet::kernels {

// Cross-entropy with integer labels and label smoothing eps, fused with log_softmax:
//   x: (N, K), target: (N), lse: (N) log-sum-exp of each row (written, for the backward)
//   loss_n = lse_n - sum_k q_nk x_nk,  q_n = (1 - eps) onehot(t_n) + eps / K
template <class T>
using CrossEntropyFwdFn = void(int64_t N, int64_t K, const T* x, const int64_t* target, T eps, Reduction r, T* loss,
                               T* lse);
// gx: (N, K) overwritten with g_n * (softmax(x_n) - q_n).
template <class T>
using CrossEntropyBwdFn = void(int64_t N, int64_t K, const T* x, const int64_t* target, T eps, const T* lse,
                               Reduction r, const T* gy, T* gx);

// Cross-entropy with class probabilities p: (N, K): loss_n = sum_k p_nk (lse_n - x_nk).
template <class T>
using SoftCrossEntropyFwdFn = void(int64_t N, int64_t K, const T* x, const T* p, Reduction r, T* loss, T* lse);
// gx = g_n * (softmax(x_n) * sum_k p_nk - p_n), gp = g_n * (lse_n - x_n); either may be null.
template <class T>
using SoftCrossEntropyBwdFn = void(int64_t N, int64_t K, const T* x, const T* p, const T* lse, Reduction r, const T* gy,
                                   T* gx, T* gp);

// Negative log-likelihood: lp: (N, K) log-probabilities, loss_n = -lp[n, t_n].
template <class T>
using NllLossFwdFn = void(int64_t N, int64_t K, const T* lp, const int64_t* target, Reduction r, T* loss);
// gx: (N, K) overwritten: -g_n at (n, t_n), 0 elsewhere.
template <class T>
using NllLossBwdFn = void(int64_t N, int64_t K, const int64_t* target, Reduction r, const T* gy, T* gx);

// Mean squared error over n elements: loss_i = (x_i - y_i)^2.
template <class T>
using MseLossFwdFn = void(int64_t n, const T* x, const T* y, Reduction r, T* loss);
// gx = 2 g_i (x_i - y_i), gy_target = -gx; either may be null.
template <class T>
using MseLossBwdFn = void(int64_t n, const T* x, const T* y, Reduction r, const T* gy, T* gx, T* gt);

namespace ref {
template <class T>
void cross_entropy_fwd(int64_t N, int64_t K, const T* x, const int64_t* target, T eps, Reduction r, T* loss, T* lse);
template <class T>
void cross_entropy_bwd(int64_t N, int64_t K, const T* x, const int64_t* target, T eps, const T* lse, Reduction r,
                       const T* gy, T* gx);
template <class T>
void soft_cross_entropy_fwd(int64_t N, int64_t K, const T* x, const T* p, Reduction r, T* loss, T* lse);
template <class T>
void soft_cross_entropy_bwd(int64_t N, int64_t K, const T* x, const T* p, const T* lse, Reduction r, const T* gy, T* gx,
                            T* gp);
template <class T>
void nll_loss_fwd(int64_t N, int64_t K, const T* lp, const int64_t* target, Reduction r, T* loss);
template <class T>
void nll_loss_bwd(int64_t N, int64_t K, const int64_t* target, Reduction r, const T* gy, T* gx);
template <class T>
void mse_loss_fwd(int64_t n, const T* x, const T* y, Reduction r, T* loss);
template <class T>
void mse_loss_bwd(int64_t n, const T* x, const T* y, Reduction r, const T* gy, T* gx, T* gt);
}  // namespace ref


// The keys (kernels/registry.h): one per kernel of this interface.
namespace keys {
inline Kernel<CrossEntropyFwdFn<float>> cross_entropy_fwd{"cross_entropy_fwd"};
inline Kernel<CrossEntropyBwdFn<float>> cross_entropy_bwd{"cross_entropy_bwd"};
inline Kernel<SoftCrossEntropyFwdFn<float>> soft_cross_entropy_fwd{"soft_cross_entropy_fwd"};
inline Kernel<SoftCrossEntropyBwdFn<float>> soft_cross_entropy_bwd{"soft_cross_entropy_bwd"};
inline Kernel<NllLossFwdFn<float>> nll_loss_fwd{"nll_loss_fwd"};
inline Kernel<NllLossBwdFn<float>> nll_loss_bwd{"nll_loss_bwd"};
inline Kernel<MseLossFwdFn<float>> mse_loss_fwd{"mse_loss_fwd"};
inline Kernel<MseLossBwdFn<float>> mse_loss_bwd{"mse_loss_bwd"};
}  // namespace keys

}  // namespace convnet::kernels
