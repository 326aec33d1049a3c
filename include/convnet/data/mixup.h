#pragma once
#pragma GCC visibility push(default)
/// \file
/// Batch-level MixUp (Zhang et al. 2018) and CutMix (Yun et al. 2019), producing soft targets
/// (N, K) for ops::cross_entropy(logits, soft_targets). Both pair sample i with sample
/// perm[i] of the same batch (perm a uniform random permutation, as torch.randperm) and take
/// lambda ~ Beta(alpha, alpha); the soft target of i is lambda onehot(y[i]) + (1 - lambda)
/// onehot(y[perm[i]]).
#include <cstdint>
#include <vector>

#include "convnet/core/rng.h"
#include "convnet/core/tensor.h"

namespace convnet::data {

/// What one mixup() / cutmix() call drew (for tests and visualization).
struct MixInfo {
  double lambda = 1.0;        ///< the weight of the sample's own label
  std::vector<int64_t> perm;  ///< sample i is mixed with sample perm[i]
  bool cutmix = false;        ///< true for CutMix, false for MixUp
  /// CutMix: the pasted box's top row (0 for MixUp).
  int64_t top = 0, left = 0, height = 0, width = 0;  ///< CutMix: the pasted box's width (0 for MixUp).
  /// \var left
  /// CutMix: the pasted box's left column (0 for MixUp).

  /// \var height
  /// CutMix: the pasted box's height (0 for MixUp).
};

/// A draw from Beta(a, b), from two Gamma draws (Marsaglia-Tsang), as torch.distributions.Beta(a, b).sample().
/// \pre  `a > 0`, `b > 0`.
/// \post a value in [0, 1]; it consumes draws of `gen`.
/// \throws convnet::Error when a parameter is not positive (naming both).
double sample_beta(double a, double b, Generator& gen);

/// The mixed one-hot targets `lambda onehot(y[i]) + (1 - lambda) onehot(y[perm[i]])` as an (N, K) tensor.
/// \pre  `perm.size() == y.size()` (N), every `perm[i]` in `[0, N)`; `K > 0`; every label in `[0, K)`.
/// \post an (N, K) float32 tensor whose rows sum to 1.
/// \throws convnet::Error when the sizes of `y` and `perm` differ, or when a label is out of
///         range (naming it and K).
Tensor mixed_one_hot(const std::vector<int64_t>& y, const std::vector<int64_t>& perm, double lambda, int64_t K);

/// MixUp: `x[i] <- lambda x[i] + (1 - lambda) x[perm[i]]` in place, with lambda ~ Beta(alpha, alpha)
/// and perm a random permutation.
/// \pre  `x` is an (N, C, H, W) batch; `y.size() == N`; `K > 0`; every label in `[0, K)`; `alpha > 0`.
/// \post `x` holds the mixed images (mixed from the unmixed batch); returns the (N, K) soft
///       targets (mixed_one_hot()); `*info` describes the draw when `info` is not null.
/// \throws convnet::Error when `x` is not 4-d, the counts of images and labels differ,
///         `alpha` or K is not positive, or a label is out of range.
Tensor mixup(Tensor& x, const std::vector<int64_t>& y, int64_t K, double alpha, Generator& gen,
             MixInfo* info = nullptr);
/// CutMix: a box of x[perm[i]] is pasted into x[i], in place.
/// The box covers about (1 - lambda) H W, lambda ~ Beta(alpha, alpha): cut ratio
/// sqrt(1 - lambda), center uniform, clipped to the image (timm's rand_bbox); lambda is then
/// set to the exact kept fraction 1 - box area / (H W) before the targets are mixed.
/// \pre  as mixup().
/// \post `x` holds the pasted images; returns the (N, K) soft targets with the exact lambda;
///       `*info` describes the draw and the box when `info` is not null.
/// \throws convnet::Error as mixup().
Tensor cutmix(Tensor& x, const std::vector<int64_t>& y, int64_t K, double alpha, Generator& gen,
              MixInfo* info = nullptr);
/// MixUp, CutMix or neither, as the alphas say (timm's Mixup with switch_prob 0.5).
/// Both alphas > 0: CutMix or MixUp with probability 1/2 each; one > 0: that one.
/// \pre  both alphas >= 0; when one is > 0, as mixup().
/// \post the result of cutmix() or mixup(); an undefined tensor, with `x` and `*info`
///       untouched, when both alphas are 0.
/// \throws convnet::Error when an alpha is negative (naming both), or as mixup() / cutmix().
Tensor mix_batch(Tensor& x, const std::vector<int64_t>& y, int64_t K, double mixup_alpha, double cutmix_alpha,
                 Generator& gen, MixInfo* info = nullptr);

}  // namespace convnet::data
#pragma GCC visibility pop
