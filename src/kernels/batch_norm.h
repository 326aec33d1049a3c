#pragma once
// Kernel interface of batch normalization. Kernels trust the op: shapes are already checked.
// x is seen as (N, C, S): S is the product of the dims after the channel dim (1 for (N, C)).
#include <cstdint>
#include "kernels/registry.h"

namespace convnet::kernels {

struct BatchNormGeom {
  int64_t N, C, S;
  // Layout of x, y, gy, gx: 0 = plain (N, C, S); B > 0 = channel-blocked (N, C/B, S, B),
  // element (n, c, s) at ((n C/B + c/B) S + s) B + c % B (kernels/layout.h).
  int64_t B = 0;
};

// Batch statistics: writes y, and the per-channel mean and BIASED variance (divide by N*S)
// of x. w, b may be null (weight 1, bias 0).
template <class T>
using BatchNormFwdTrainFn = void(const BatchNormGeom&, const T* x, const T* w, const T* b, double eps, T* y, T* mean,
                                 T* var);
// Given statistics (the running ones): y = (x - mean) / sqrt(var + eps) * w + b.
template <class T>
using BatchNormFwdEvalFn = void(const BatchNormGeom&, const T* x, const T* mean, const T* var, const T* w, const T* b,
                                double eps, T* y);
// mean/var: the statistics the forward used. batch_stats: they were the batch's own, so the
// gradient flows through them. gx (N, C, S), gw (C), gb (C) are overwritten; null ones skipped.
template <class T>
using BatchNormBwdFn = void(const BatchNormGeom&, const T* x, const T* gy, const T* mean, const T* var, const T* w,
                            double eps, bool batch_stats, T* gx, T* gw, T* gb);

namespace ref {
template <class T>
void batch_norm_fwd_train(const BatchNormGeom& g, const T* x, const T* w, const T* b, double eps, T* y, T* mean,
                          T* var);
template <class T>
void batch_norm_fwd_eval(const BatchNormGeom& g, const T* x, const T* mean, const T* var, const T* w, const T* b,
                         double eps, T* y);
template <class T>
void batch_norm_bwd(const BatchNormGeom& g, const T* x, const T* gy, const T* mean, const T* var, const T* w,
                    double eps, bool batch_stats, T* gx, T* gw, T* gb);
}  // namespace ref


// The keys (kernels/registry.h): one per kernel of this interface.
namespace keys {
inline Kernel<BatchNormFwdTrainFn<float>> batch_norm_fwd_train{"batch_norm_fwd_train"};
inline Kernel<BatchNormFwdEvalFn<float>> batch_norm_fwd_eval{"batch_norm_fwd_eval"};
inline Kernel<BatchNormBwdFn<float>> batch_norm_bwd{"batch_norm_bwd"};
}  // namespace keys

}  // namespace convnet::kernels
