#pragma once
#pragma GCC visibility push(default)
/// \file
/// LeNet-5 (LeCun et al. 1998) for 28x28 (padded by 2 to the original 32x32 geometry)
/// or 32x32 inputs, 1 or 3 channels:
/// \verbatim
///   modern:  Conv(C,6,5) ReLU MaxPool2 Conv(6,16,5) ReLU MaxPool2 Flatten
///            Linear(400,120) ReLU Linear(120,84) ReLU Linear(84,K)
///   classic: the same with tanh and average pooling (the 1998 subsampling, without
///            its trainable coefficients, as taught in most courses).
/// \endverbatim
/// A Sequential, so parameter names are "0.weight", "3.weight", "7.weight", ... exactly
/// as the same nn.Sequential in PyTorch. Inputs below 32x32 get the padding of 2 in the
/// first convolution; other sizes change the first Linear's input width (16 * s * s).
#include "convnet/models/registry.h"
#include "convnet/nn/sequential.h"

namespace convnet::models {

/// LeNet-5 in its modern form (ReLU, max pooling).
/// The geometry is built for `args.input_size` (0: 28 when `args.in_channels` is 1, else 32).
/// \pre  `args.num_classes` >= 1, `args.in_channels` >= 1, the input size (given or default)
///       at least 12.
/// \post a Sequential that maps (N, args.in_channels, S, S) float32 on the CPU, S the input
///       size it was built for, to (N, args.num_classes) logits; PyTorch's default init.
/// \throws convnet::Error naming "lenet5" for a non-positive num_classes or in_channels, or
///         an input size below 12x12.
std::shared_ptr<nn::Sequential> lenet5(const ModelArgs& args = {});
/// LeNet-5 in its classic form (tanh, average pooling); otherwise as lenet5().
/// \pre  as lenet5().
/// \post as lenet5().
/// \throws convnet::Error as lenet5() (the message names "lenet5").
std::shared_ptr<nn::Sequential> lenet5_classic(const ModelArgs& args = {});

}  // namespace convnet::models
#pragma GCC visibility pop
