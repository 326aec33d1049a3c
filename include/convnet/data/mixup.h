#pragma once
// Batch-level MixUp (Zhang et al. 2018) and CutMix (Yun et al. 2019), producing soft targets
// (N, K) for ops::cross_entropy(logits, soft_targets). Both pair sample i with sample
// perm[i] of the same batch (perm a uniform random permutation, as torch.randperm) and take
// lambda ~ Beta(alpha, alpha); the soft target of i is lambda onehot(y[i]) + (1 - lambda)
// onehot(y[perm[i]]).
#include <cstdint>
#include <vector>

#include "convnet/core/rng.h"
#include "convnet/core/tensor.h"

namespace convnet::data {

struct MixInfo {
  double lambda = 1.0;        // the weight of the sample's own label
  std::vector<int64_t> perm;  // sample i is mixed with sample perm[i]
  bool cutmix = false;
  int64_t top = 0, left = 0, height = 0, width = 0;  // CutMix: the pasted box
};

// Beta(a, b) from two Gamma draws (Marsaglia-Tsang); requires a, b > 0.
double sample_beta(double a, double b, Generator& gen);

// lambda onehot(y[i]) + (1 - lambda) onehot(y[perm[i]]) as an (N, K) tensor.
// requires: every label in [0, K).
Tensor mixed_one_hot(const std::vector<int64_t>& y, const std::vector<int64_t>& perm, double lambda, int64_t K);

// MixUp: x[i] <- lambda x[i] + (1 - lambda) x[perm[i]] (x: (N, C, H, W), in place).
Tensor mixup(Tensor& x, const std::vector<int64_t>& y, int64_t K, double alpha, Generator& gen,
             MixInfo* info = nullptr);
// CutMix: a box of about (1 - lambda) H W (cut ratio sqrt(1 - lambda), center uniform, clipped
// to the image) of x[perm[i]] is pasted into x[i]; lambda is then set to the exact kept
// fraction 1 - box area / (H W) before the targets are mixed.
Tensor cutmix(Tensor& x, const std::vector<int64_t>& y, int64_t K, double alpha, Generator& gen,
              MixInfo* info = nullptr);
// Both alphas > 0: CutMix or MixUp with probability 1/2 each (timm's switch_prob 0.5);
// one > 0: that one. Returns an undefined tensor when both are 0.
Tensor mix_batch(Tensor& x, const std::vector<int64_t>& y, int64_t K, double mixup_alpha, double cutmix_alpha,
                 Generator& gen, MixInfo* info = nullptr);

}  // namespace convnet::data
