#pragma once
#pragma GCC visibility push(default)
/// \file
/// Layer normalization (Ba et al. 2016) and group normalization (Wu & He 2018), as
/// torch.nn.functional.layer_norm and group_norm:
/// \code{.unparsed}
///   layer_norm: each sample's last k dimensions (normalized_shape) form one group;
///               y = (x - mean) / sqrt(var + eps) * weight + bias, weight and bias of shape
///               normalized_shape (per element).
///   group_norm: (N, C, *) with C split into G groups of C/G channels; the statistics are
///               over a group's channels and all their positions; weight and bias (C), per
///               channel.
///   var is the biased variance (divide by the group size), as PyTorch. No running
///   statistics: training and eval compute the same thing.
/// \endcode
/// Both run on the norm kernels (kernels/norm.h: a reference twin and a vectorized OpenMP
/// kernel).
#include <string>
#include <vector>

#include "convnet/core/tensor.h"

namespace convnet::ops {

/// Layer norm over the last `normalized_shape.size()` dimensions of `x`.
/// \pre  `x` defined, float32 (bfloat16 / float16 are converted to float32) on the CPU;
///       `normalized_shape` non-empty and equal to the last dimensions of x; `weight` and
///       `bias` undefined or of shape normalized_shape; `eps` > 0.
/// \post y: float32, x's shape. Backward gives dx, dweight and dbias.
/// \throws convnet::Error naming `layer`, normalized_shape and x's shape when they do not
///         match; naming the parameter and both shapes for a wrong weight or bias shape.
Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight = {}, const Tensor& bias = {},
                  double eps = 1e-5, const std::string& layer = "layer_norm");

/// Group norm of (N, C, *) `x` in `num_groups` groups of channels.
/// \pre  `x` defined with at least 2 dimensions, float32 (bfloat16 / float16 are converted)
///       on the CPU; `num_groups` positive and divides C; `weight` and `bias` undefined or of
///       shape (C); `eps` > 0.
/// \post y: float32, x's shape. Backward gives dx, dweight and dbias.
/// \throws convnet::Error naming `layer`, the group count and x's shape when the groups do
///         not divide the channels; naming the parameter and both shapes for a wrong weight
///         or bias shape.
Tensor group_norm(const Tensor& x, int64_t num_groups, const Tensor& weight = {}, const Tensor& bias = {},
                  double eps = 1e-5, const std::string& layer = "group_norm");

}  // namespace convnet::ops
#pragma GCC visibility pop
