#pragma once
// LeNet-5 (LeCun et al. 1998) for 28x28 (padded by 2 to the original 32x32 geometry)
// or 32x32 inputs, 1 or 3 channels:
//   modern:  Conv(C,6,5) ReLU MaxPool2 Conv(6,16,5) ReLU MaxPool2 Flatten
//            Linear(400,120) ReLU Linear(120,84) ReLU Linear(84,K)
//   classic: the same with tanh and average pooling (the 1998 subsampling, without
//            its trainable coefficients, as taught in most courses).
// A Sequential, so parameter names are "0.weight", "3.weight", "7.weight", ... exactly
// as the same nn.Sequential in PyTorch.
#include "convnet/models/registry.h"
#include "convnet/nn/sequential.h"

namespace convnet::models {

std::shared_ptr<nn::Sequential> lenet5(const ModelArgs& args = {});
std::shared_ptr<nn::Sequential> lenet5_classic(const ModelArgs& args = {});

}  // namespace convnet::models
