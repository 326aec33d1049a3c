#pragma once
#pragma GCC visibility push(default)
/// \file
/// Inference-time folding of BatchNorm into the convolution before it.
///
/// In eval mode a BatchNorm is a per-channel affine map, `y = (x - mean) * s + beta` with
/// `s = gamma / sqrt(var + eps)`; when x is the output of a convolution used nowhere else,
/// the map folds into the convolution:
/// \code{.unparsed}
///   W'[c] = W[c] * s[c],  b'[c] = (b[c] - mean[c]) * s[c] + beta[c]
/// \endcode
/// The network then computes the same function (up to float rounding) with one op and one
/// pass over memory less per pair, what oneDNN and PyTorch's torch.fx fuse_conv_bn_eval do.
///
/// Which convolution feeds which BatchNorm is read from one traced forward pass (see
/// autograd/trace.h), so it works for any model, whatever its forward() does between the
/// layers. A pair is folded only when the Conv2d and BatchNorm modules each run exactly
/// once per forward, the BatchNorm reads the convolution's output directly, and nothing
/// else reads that output.
///
/// The model is changed in place and is for inference only afterwards: the convolutions
/// get the folded weights (and a bias, registered as a parameter, where they had none), and
/// the folded BatchNorm modules become identities that refuse to run in training mode.
#include <string>
#include <vector>

#include "convnet/core/tensor.h"
#include "convnet/nn/module.h"

namespace convnet::nn {

/// An eval-mode BatchNorm as the per-channel affine map `y = x * scale + shift` (in double):
/// `scale = gamma / sqrt(var + eps)`, `shift = beta - mean * scale`; gamma / beta null = 1 / 0.
struct ChannelAffine {
  /// scale: the per-channel factor, one per channel.
  std::vector<double> scale, shift;  ///< shift: the per-channel offset, added after the scaling.
};
/// The affine map of an eval-mode BatchNorm over `channels` channels, from its running
/// statistics and parameters (each an array of `channels` floats).
/// \pre  `mean` and `var` point to `channels` values each (var + eps > 0); `gamma` and `beta`
///       likewise, or null (weight 1 / bias 0, affine=False).
/// \post scale and shift hold `channels` values each, computed in double.
ChannelAffine batch_norm_affine(int64_t channels, const float* mean, const float* var, const float* gamma,
                                const float* beta, double eps);
/// Folds `a` into a convolution's parameters in place: `w[c, ...] *= scale[c]` over the
/// `per_channel` weights of each of the `channels` outputs, `b[c] = b[c] * scale[c] + shift[c]`.
/// \pre  `w` points to `channels * per_channel` floats (output channel major, as a Conv2d
///       weight), `b` to `channels` floats (not null); `a` holds `channels` scales and shifts.
/// \post w and b hold the folded values, rounded to float.
void fold_affine_into(float* w, float* b, int64_t channels, int64_t per_channel, const ChannelAffine& a);

/// One Conv2d and the BatchNorm folded into it, by their module paths.
struct FoldedPair {
  /// conv: the Conv2d's module path, for example "features.0".
  std::string conv, batch_norm;  ///< batch_norm: the BatchNorm's module path, for example "features.1".
};

/// Puts `model` in eval mode, traces one forward pass on zeros of `input_shape` (N, C, H, W;
/// traced with N = 1) and folds every eligible Conv2d -> BatchNorm pair; returns the pairs
/// folded.
/// Eligible: the BatchNorm uses running statistics (it has them) and is not folded yet, it
/// reads the output of a Conv2d op that nothing else reads, and each of the two modules runs
/// one op, once per forward.
/// \pre  `input_shape` has 4 dimensions and `model` accepts a float32 CPU input of that
///       shape (with N = 1); the parameters and statistics of the pairs it folds are float32
///       on the CPU.
/// \post `model` is in eval mode; each folded Conv2d has the folded weight and a bias (a new
///       parameter where it had none), and each folded BatchNorm is an identity in eval mode
///       and throws in training mode (BatchNorm::mark_folded). The pairs are listed in the
///       order the BatchNorms ran; an empty list when nothing was eligible.
/// \throws convnet::Error when `input_shape` is not 4-D (naming it), when a pair to fold
///       holds tensors that are not float32 on the CPU, or what the traced forward pass throws.
std::vector<FoldedPair> fold_batch_norms(Module& model, const Shape& input_shape);

}  // namespace convnet::nn
#pragma GCC visibility pop
