#pragma once
#pragma GCC visibility push(default)
/// \file
/// MNASNet B1 (Tan et al. 2019, "MnasNet: Platform-Aware Neural Architecture Search for
/// Mobile"), exactly torchvision 0.14's models/mnasnet.py (its version-2 layout):
/// \verbatim
///   layers.0..7   3x3/2 conv, BN, ReLU; depthwise 3x3, BN, ReLU; 1x1 conv, BN
///   layers.8..13  stacks of inverted residuals (kernel, stride, expansion, repeats):
///                 (3,2,3,3) (5,2,3,3) (5,2,6,3) (3,1,6,2) (5,2,6,4) (3,1,6,1)
///   layers.14..16 1x1 conv to 1280, BN, ReLU; mean over H and W
///   classifier    Dropout(0.2), Linear(1280, K)
/// \endverbatim
/// BatchNorm momentum 0.0003 (TensorFlow's 0.9997 decay). Widths scale by `alpha`, rounded
/// to multiples of 8 (make_divisible). Init as torchvision: conv kaiming_normal_(fan_out),
/// BN 1/0, Linear kaiming_uniform_(fan_out, gain 1), biases 0.
#include <memory>
#include <string>

#include "convnet/models/registry.h"
#include "convnet/nn/layers.h"
#include "convnet/nn/sequential.h"

namespace convnet::models {

/// MNASNet's inverted residual: 1x1 expansion, kxk depthwise, 1x1 projection, each with
/// BatchNorm, ReLU after the first two; the input is added when the shape is unchanged.
class MNASNetBlock : public nn::Module {
 public:
  /// A block from `in` to `out` channels with `in * expansion` hidden channels.
  /// \pre  sizes positive; `kernel` 3 or 5; `stride` 1 or 2.
  /// \throws convnet::Error for another kernel size or stride.
  MNASNetBlock(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t expansion, double bn_momentum);
  /// The block on `x`.
  /// \pre  `x` is (N, in, H, W).
  /// \post (N, out, H', W'), H' = floor((H - 1) / stride) + 1 (W' alike).
  /// \throws convnet::Error naming the layer for a wrong rank or channel count.
  Tensor forward(const Tensor& x) override;
  /// "_InvertedResidual".
  std::string type_name() const override { return "_InvertedResidual"; }
  std::shared_ptr<nn::Sequential> layers;  ///< the eight layers, named "0" .. "7"
  bool apply_residual;                     ///< in == out and stride 1
};

/// torchvision's MNASNet (see the file comment).
class MNASNet : public nn::Module {
 public:
  /// Builds and initializes the network with width multiplier `alpha`.
  /// \pre  `alpha` > 0; `args.num_classes`, `args.in_channels` positive; 0 <= dropout <= 1.
  /// \post training mode.
  /// \throws convnet::Error naming `name` for a non-positive alpha, num_classes or in_channels.
  MNASNet(const std::string& name, double alpha, const ModelArgs& args, double dropout = 0.2);
  /// (N, in_channels, H, W) images to (N, num_classes) logits.
  /// \pre  `x` is 4-D with C = args.in_channels.
  /// \post (N, num_classes) logits.
  /// \throws convnet::Error naming the model for an input that is not 4-D; naming the layer
  ///         for a wrong channel count.
  Tensor forward(const Tensor& x) override;
  /// "MNASNet".
  std::string type_name() const override { return "MNASNet"; }
  /// \var layers
  /// The stem, the six stacks and the last 1x1 convolution (see the file comment).
  /// \var classifier
  /// Dropout, then Linear(1280, num_classes).
  std::shared_ptr<nn::Sequential> layers, classifier;
  std::string name;  ///< the zoo name, e.g. "mnasnet1_0"
};

/// torchvision.models.mnasnet0_5 (2.22M parameters at 1000 classes).
/// \pre  `args.num_classes`, `args.in_channels` positive.
/// \throws convnet::Error as MNASNet's constructor.
std::shared_ptr<MNASNet> mnasnet0_5(const ModelArgs& args = {});
/// torchvision.models.mnasnet0_75 (3.17M parameters at 1000 classes).
/// \pre  `args.num_classes`, `args.in_channels` positive.
/// \throws convnet::Error as MNASNet's constructor.
std::shared_ptr<MNASNet> mnasnet0_75(const ModelArgs& args = {});
/// torchvision.models.mnasnet1_0 (4.38M parameters at 1000 classes).
/// \pre  `args.num_classes`, `args.in_channels` positive.
/// \throws convnet::Error as MNASNet's constructor.
std::shared_ptr<MNASNet> mnasnet1_0(const ModelArgs& args = {});
/// torchvision.models.mnasnet1_3 (6.28M parameters at 1000 classes).
/// \pre  `args.num_classes`, `args.in_channels` positive.
/// \throws convnet::Error as MNASNet's constructor.
std::shared_ptr<MNASNet> mnasnet1_3(const ModelArgs& args = {});

}  // namespace convnet::models
#pragma GCC visibility pop
