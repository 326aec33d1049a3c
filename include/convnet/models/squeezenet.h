#pragma once
#pragma GCC visibility push(default)
/// \file
/// SqueezeNet (Iandola et al. 2016), exactly torchvision 0.14's models/squeezenet.py:
/// \verbatim
///   features    1_0: Conv2d(C, 96, 7, stride 2), ReLU, MaxPool(3, 2, ceil), Fire x3, MaxPool,
///                    Fire x4, MaxPool, Fire
///               1_1: Conv2d(C, 64, 3, stride 2), ReLU, MaxPool(3, 2, ceil), Fire x2, MaxPool,
///                    Fire x2, MaxPool, Fire x4
///   classifier  Dropout(0.5), Conv2d(512, K, 1), ReLU, AdaptiveAvgPool2d(1); flatten
/// \endverbatim
/// Parameter names equal torchvision's ("features.3.squeeze.weight", "classifier.1.bias").
/// Init as torchvision: the last conv N(0, 0.01), the others kaiming_uniform_, biases 0.
#include <memory>
#include <string>

#include "convnet/models/registry.h"
#include "convnet/nn/layers.h"
#include "convnet/nn/sequential.h"

namespace convnet::models {

/// The smallest H = W squeezenet1_0 accepts (its max pools need 3x3 inputs).
constexpr int64_t kSqueezeNet10MinInputSize = 21;
/// The smallest H = W squeezenet1_1 accepts.
constexpr int64_t kSqueezeNet11MinInputSize = 17;

/// SqueezeNet's Fire module: a 1x1 squeeze convolution, then 1x1 and 3x3 expand
/// convolutions side by side, each followed by ReLU, concatenated along the channels.
class Fire : public nn::Module {
 public:
  /// A Fire module from `inplanes` channels to expand1x1 + expand3x3 channels.
  /// \pre  all sizes positive.
  /// \throws convnet::Error from the convolutions' constructors for non-positive sizes.
  Fire(int64_t inplanes, int64_t squeeze_planes, int64_t expand1x1_planes, int64_t expand3x3_planes);
  /// The module on `x`.
  /// \pre  `x` is (N, inplanes, H, W).
  /// \post (N, expand1x1 + expand3x3, H, W).
  /// \throws convnet::Error naming the layer for a wrong rank or channel count.
  Tensor forward(const Tensor& x) override;
  /// "Fire".
  std::string type_name() const override { return "Fire"; }
  /// \var squeeze
  /// The 1x1 squeeze convolution.
  /// \var expand1x1
  /// The 1x1 expand convolution.
  /// \var expand3x3
  /// The 3x3 expand convolution (padding 1).
  std::shared_ptr<nn::Conv2d> squeeze, expand1x1, expand3x3;
};

/// torchvision's SqueezeNet, version "1_0" or "1_1" (see the file comment).
class SqueezeNet : public nn::Module {
 public:
  /// Builds and initializes the network as torchvision does.
  /// \pre  `version` "1_0" or "1_1"; `args.num_classes`, `args.in_channels` positive;
  ///       0 <= `dropout` <= 1.
  /// \post training mode.
  /// \throws convnet::Error naming the model for another version or a non-positive
  ///         num_classes or in_channels.
  SqueezeNet(const std::string& version, const ModelArgs& args, double dropout = 0.5);
  /// (N, in_channels, H, W) images to (N, num_classes) logits.
  /// \pre  `x` is 4-D with C = args.in_channels and H, W at least the model's smallest size
  ///       (1_0: 21, 1_1: 17).
  /// \post (N, num_classes) logits.
  /// \throws convnet::Error naming the model for an input that is not 4-D or too small;
  ///         naming the layer for a wrong channel count.
  Tensor forward(const Tensor& x) override;
  /// "SqueezeNet".
  std::string type_name() const override { return "SqueezeNet"; }
  /// \var features
  /// The stem convolution, the max pools and the Fire modules.
  /// \var classifier
  /// Dropout, the final 1x1 convolution to num_classes, ReLU, global average pooling.
  std::shared_ptr<nn::Sequential> features, classifier;
  std::string name;  ///< "squeezenet1_0" or "squeezenet1_1"
};

/// torchvision.models.squeezenet1_0: 1.25M parameters at 1000 classes.
/// \pre  as SqueezeNet's constructor.
/// \throws convnet::Error as SqueezeNet's constructor.
std::shared_ptr<SqueezeNet> squeezenet1_0(const ModelArgs& args = {});
/// torchvision.models.squeezenet1_1: 1.24M parameters, 2.4x fewer operations than 1_0.
/// \pre  as SqueezeNet's constructor.
/// \throws convnet::Error as SqueezeNet's constructor.
std::shared_ptr<SqueezeNet> squeezenet1_1(const ModelArgs& args = {});

}  // namespace convnet::models
#pragma GCC visibility pop
