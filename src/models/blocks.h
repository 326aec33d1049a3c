#pragma once
// Building blocks shared by the torchvision families (internal to the library):
// Conv2dNormActivation with any activation and BatchNorm settings, and torchvision's usual
// initialization.
#include <memory>

#include "convnet/nn/sequential.h"

namespace convnet::models {

// The activation that follows a convolution + BatchNorm.
enum class Act { none, relu, relu6, hardswish, silu };

// torchvision's Conv2dNormActivation: Conv2d (padding (k - 1) / 2, no bias) -> BatchNorm2d
// (eps, momentum) -> the activation (none: no third child); children "0", "1", "2".
std::shared_ptr<nn::Sequential> conv_bn_act(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t groups, Act act,
                                            double bn_eps = 1e-5, double bn_momentum = 0.1);

// A new module for `act` (none: nullptr).
nn::ModulePtr make_activation(Act act);

// The initialization of torchvision's mobile families (MobileNetV2/V3, MNASNet, EfficientNet,
// RegNet): every Conv2d kaiming_normal_(mode="fan_out", gain sqrt(2)) with a zero bias when
// `zero_conv_bias` (RegNet leaves the biases of its squeeze-and-excitation convolutions at
// PyTorch's default), every BatchNorm 1 and 0, every Linear N(0, 0.01) and a zero bias.
void init_like_torchvision(nn::Module& net, bool zero_conv_bias = true);

}  // namespace convnet::models
