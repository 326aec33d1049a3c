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

// Reduced precision (T = bf16_t, f16_t): x, y, gy, gx in T; weight, bias, the statistics and
// the parameter gradients in float32 (as PyTorch's batch norm on a bfloat16 input under
// autocast). For T = float these are the signatures above.
template <class T>
using BatchNormFwdTrainLowpFn = void(const BatchNormGeom&, const T* x, const float* w, const float* b, double eps, T* y,
                                     float* mean, float* var);
template <class T>
using BatchNormFwdEvalLowpFn = void(const BatchNormGeom&, const T* x, const float* mean, const float* var,
                                    const float* w, const float* b, double eps, T* y);
template <class T>
using BatchNormBwdLowpFn = void(const BatchNormGeom&, const T* x, const T* gy, const float* mean, const float* var,
                                const float* w, double eps, bool batch_stats, T* gx, float* gw, float* gb);
namespace ref {
// The reduced-precision twins: x and gy read as float32, the float32 reference, outputs rounded.
template <class T>
void batch_norm_fwd_train_lowp(const BatchNormGeom& g, const T* x, const float* w, const float* b, double eps, T* y,
                               float* mean, float* var);
template <class T>
void batch_norm_fwd_eval_lowp(const BatchNormGeom& g, const T* x, const float* mean, const float* var, const float* w,
                              const float* b, double eps, T* y);
template <class T>
void batch_norm_bwd_lowp(const BatchNormGeom& g, const T* x, const T* gy, const float* mean, const float* var,
                         const float* w, double eps, bool batch_stats, T* gx, float* gw, float* gb);
}  // namespace ref

// The float32 CPU kernels (kernels/cpu/batch_norm.cpp), which the bfloat16 ones reuse for the
// layouts they have no loops of their own for.
namespace cpu {
void batch_norm_fwd_train(const BatchNormGeom& g, const float* x, const float* w, const float* b, double eps, float* y,
                          float* mean, float* var);
void batch_norm_fwd_eval(const BatchNormGeom& g, const float* x, const float* mean, const float* var, const float* w,
                         const float* b, double eps, float* y);
void batch_norm_bwd(const BatchNormGeom& g, const float* x, const float* gy, const float* mean, const float* var,
                    const float* w, double eps, bool batch_stats, float* gx, float* gw, float* gb);
}  // namespace cpu

// The keys (kernels/registry.h): one per kernel of this interface.
namespace keys {
inline Kernel<BatchNormFwdTrainFn<float>> batch_norm_fwd_train{"batch_norm_fwd_train"};
inline Kernel<BatchNormFwdEvalFn<float>> batch_norm_fwd_eval{"batch_norm_fwd_eval"};
inline Kernel<BatchNormBwdFn<float>> batch_norm_bwd{"batch_norm_bwd"};
inline Kernel<BatchNormFwdTrainLowpFn<bf16_t>> batch_norm_fwd_train_bf16{"batch_norm_fwd_train_bf16", DType::bfloat16};
inline Kernel<BatchNormFwdEvalLowpFn<bf16_t>> batch_norm_fwd_eval_bf16{"batch_norm_fwd_eval_bf16", DType::bfloat16};
inline Kernel<BatchNormBwdLowpFn<bf16_t>> batch_norm_bwd_bf16{"batch_norm_bwd_bf16", DType::bfloat16};
inline Kernel<BatchNormFwdTrainLowpFn<f16_t>> batch_norm_fwd_train_f16{"batch_norm_fwd_train_f16", DType::float16};
inline Kernel<BatchNormFwdEvalLowpFn<f16_t>> batch_norm_fwd_eval_f16{"batch_norm_fwd_eval_f16", DType::float16};
inline Kernel<BatchNormBwdLowpFn<f16_t>> batch_norm_bwd_f16{"batch_norm_bwd_f16", DType::float16};
template <class T>
struct BatchNorm;  // the keys of element type T
template <>
struct BatchNorm<float> {
  static constexpr auto* fwd_train = &batch_norm_fwd_train;
  static constexpr auto* fwd_eval = &batch_norm_fwd_eval;
  static constexpr auto* bwd = &batch_norm_bwd;
};
template <>
struct BatchNorm<bf16_t> {
  static constexpr auto* fwd_train = &batch_norm_fwd_train_bf16;
  static constexpr auto* fwd_eval = &batch_norm_fwd_eval_bf16;
  static constexpr auto* bwd = &batch_norm_bwd_bf16;
};
template <>
struct BatchNorm<f16_t> {
  static constexpr auto* fwd_train = &batch_norm_fwd_train_f16;
  static constexpr auto* fwd_eval = &batch_norm_fwd_eval_f16;
  static constexpr auto* bwd = &batch_norm_bwd_f16;
};
}  // namespace keys

}  // namespace convnet::kernels
