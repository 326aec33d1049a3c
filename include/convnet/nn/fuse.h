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

struct FoldedPair {
  std::string conv, batch_norm;  // module paths
};

// Puts `model` in eval mode, traces one forward pass on zeros of `input_shape` (N, C, H, W;
// traced with N = 1)
// and folds every eligible Conv2d -> BatchNorm pair; returns the pairs folded.
std::vector<FoldedPair> fold_batch_norms(Module& model, const Shape& input_shape);

}  // namespace convnet::nn
