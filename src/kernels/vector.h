#pragma once
// Kernel interface of the small vector operations the training step needs outside the
// network: the gradient norm and its clipping, the NaN/Inf check, EMA of weights, label
// smoothing and MixUp (linear combinations), BatchNorm's running statistics, dropout masks
// from a counter-based generator, and the accuracy count. Kernels trust their callers.
//   keys: sum_squares, sum_squares_many, axpby, affine, batch_norm_update_stats, dropout_mask, count_correct,
//         mix_rows, cutmix_paste
#include <cstdint>

#include "kernels/registry.h"

namespace convnet::kernels {

// out[0] = sum_i x_i^2 in double (not finite if any x_i is not).
using SumSquaresFn = void(int64_t n, const float* x, double* out);
// The same for `count` tensors at once (the gradient norm and the loss scaler's overflow
// check): out[t] = sum_squares of x[t] (n[t] values). n, x and out are host arrays; the
// tensors are on the kernel's device, and a GPU answers all of them with one copy to the
// host instead of one wait per tensor.
using SumSquaresManyFn = void(int64_t count, const int64_t* n, const float* const* x, double* out);
// y_i = a y_i + b x_i, in float32 (EMA: a = decay, b = 1 - decay).
using AxpbyFn = void(int64_t n, float a, float* y, float b, const float* x);
// y_i = a x_i + c (y may be x).
using AffineFn = void(int64_t n, float a, const float* x, float c, float* y);
// Running statistics after a training forward, per channel, in double as PyTorch:
//   rm = (1 - momentum) rm + momentum mean,  rv = (1 - momentum) rv + momentum var unbias.
using BatchNormUpdateStatsFn = void(int64_t C, double momentum, double unbias, const float* mean, const float* var,
                                    float* rm, float* rv);
// mask_i = 0 with probability p, else scale, for the group (i / group): group = 1 drops
// elements (dropout), group = H*W whole feature maps (dropout2d). The draw of group k is
// a function of (seed, k) alone (a counter-based generator: SplitMix64 of seed + k), so a
// mask does not depend on the thread count or the device that makes it.
using DropoutMaskFn = void(int64_t n, int64_t group, float p, uint64_t seed, float scale, float* mask);
// The number of rows n of x (N, K) whose first largest logit is at labels[n].
using CountCorrectFn = void(int64_t N, int64_t K, const float* x, const int64_t* labels, int64_t* correct);
// MixUp of rows: y_i = l x_i + (1 - l) x_{perm[i]}, rows of S values (y is not x).
using MixRowsFn = void(int64_t N, int64_t S, float l, const int64_t* perm, const float* x, float* y);

// CutMix: y = x, except rows [y0, y1) x columns [x0, x1) of every plane of image i, which
// come from image perm[i]. x, y: (N, C, H, W), y is not x.
using CutmixPasteFn = void(int64_t N, int64_t C, int64_t H, int64_t W, int64_t y0, int64_t y1, int64_t x0, int64_t x1,
                           const int64_t* perm, const float* x, float* y);

// The uniform [0, 1) draw of counter k under seed (24 random bits), shared by the kernels.
inline float counter_uniform(uint64_t seed, uint64_t k) {
  uint64_t z = seed + (k + 1) * 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return static_cast<float>(z >> 40) * (1.0f / 16777216.0f);
}

namespace ref {
void sum_squares(int64_t n, const float* x, double* out);
void sum_squares_many(int64_t count, const int64_t* n, const float* const* x, double* out);
void axpby(int64_t n, float a, float* y, float b, const float* x);
void affine(int64_t n, float a, const float* x, float c, float* y);
void batch_norm_update_stats(int64_t C, double momentum, double unbias, const float* mean, const float* var, float* rm,
                             float* rv);
void dropout_mask(int64_t n, int64_t group, float p, uint64_t seed, float scale, float* mask);
void count_correct(int64_t N, int64_t K, const float* x, const int64_t* labels, int64_t* correct);
void mix_rows(int64_t N, int64_t S, float l, const int64_t* perm, const float* x, float* y);
void cutmix_paste(int64_t N, int64_t C, int64_t H, int64_t W, int64_t y0, int64_t y1, int64_t x0, int64_t x1,
                  const int64_t* perm, const float* x, float* y);
}  // namespace ref

namespace keys {
inline Kernel<SumSquaresFn> sum_squares{"sum_squares"};
inline Kernel<SumSquaresManyFn> sum_squares_many{"sum_squares_many"};
inline Kernel<AxpbyFn> axpby{"axpby"};
inline Kernel<AffineFn> affine{"affine"};
inline Kernel<BatchNormUpdateStatsFn> batch_norm_update_stats{"batch_norm_update_stats"};
inline Kernel<DropoutMaskFn> dropout_mask{"dropout_mask"};
inline Kernel<CountCorrectFn> count_correct{"count_correct"};
inline Kernel<MixRowsFn> mix_rows{"mix_rows"};
inline Kernel<CutmixPasteFn> cutmix_paste{"cutmix_paste"};
}  // namespace keys

}  // namespace convnet::kernels
