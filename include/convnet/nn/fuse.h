#pragma once
// Inference-time folding of BatchNorm into the convolution before it.
//
// In eval mode a BatchNorm is a per-channel affine map, y = (x - mean) * s + beta with
// s = gamma / sqrt(var + eps); when x is the output of a convolution used nowhere else,
// the map folds into the convolution: W'[c] = W[c] * s[c], b'[c] = (b[c] - mean[c]) * s[c]
// + beta[c]. The network then computes the same function (up to float rounding) with one
// op and one pass over memory less per pair -- what oneDNN and PyTorch's
// torch.fx fuse_conv_bn_eval do.
//
// Which convolution feeds which BatchNorm is read from one traced forward pass (see
// autograd/trace.h), so it works for any model, whatever its forward() does between the
// layers. A pair is folded only when the Conv2d and BatchNorm modules each run exactly
// once per forward, the BatchNorm reads the convolution's output directly, and nothing
// else reads that output.
//
// The model is changed in place and is for inference only afterwards: the convolutions
// get the folded weights (and a bias, registered as a parameter, where they had none), and
// the folded BatchNorm modules become identities that refuse to run in training mode.
#include <string>
#include <vector>

#include "convnet/core/tensor.h"
#include "convnet/nn/module.h"

namespace convnet::nn {

// An eval-mode BatchNorm as the per-channel affine map y = x * scale + shift (in double):
// scale = gamma / sqrt(var + eps), shift = beta - mean * scale; gamma / beta null = 1 / 0.
struct ChannelAffine {
  std::vector<double> scale, shift;
};
ChannelAffine batch_norm_affine(int64_t channels, const float* mean, const float* var, const float* gamma,
                                const float* beta, double eps);
// Folds `a` into a convolution's parameters in place: w[c, ...] *= scale[c] over the
// `per_channel` weights of each of the `channels` outputs, b[c] = b[c] * scale[c] + shift[c].
void fold_affine_into(float* w, float* b, int64_t channels, int64_t per_channel, const ChannelAffine& a);

struct FoldedPair {
  std::string conv, batch_norm;  // module paths
};

// Puts `model` in eval mode, traces one forward pass on zeros of `input_shape` (N, C, H, W;
// traced with N = 1)
// and folds every eligible Conv2d -> BatchNorm pair; returns the pairs folded.
std::vector<FoldedPair> fold_batch_norms(Module& model, const Shape& input_shape);

}  // namespace convnet::nn
