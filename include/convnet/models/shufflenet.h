#pragma once
#pragma GCC visibility push(default)
/// \file
/// ShuffleNetV2 (Ma et al. 2018), exactly torchvision 0.14's models/shufflenetv2.py:
/// \verbatim
///   conv1       Conv2d(C, 24, 3, stride 2, padding 1), BatchNorm, ReLU
///   maxpool     MaxPool2d(3, 2, padding 1)
///   stage2..4   a stride-2 block, then stride-1 blocks (repeats 4, 8, 4)
///   conv5       Conv2d 1x1 to 1024 (2048 for x2_0), BatchNorm, ReLU
///   mean over H and W, fc Linear
/// \endverbatim
/// A stride-1 block splits the channels in two halves, transforms the second and
/// concatenates; a stride-2 block transforms the input in both branches. Both end in a
/// channel shuffle of 2 groups (ops::channel_shuffle). PyTorch's default initialization.
#include <memory>
#include <string>
#include <vector>

#include "convnet/models/registry.h"
#include "convnet/nn/layers.h"
#include "convnet/nn/sequential.h"

namespace convnet::models {

/// One ShuffleNetV2 unit (torchvision's shufflenetv2.InvertedResidual).
class ShuffleUnit : public nn::Module {
 public:
  /// A unit from `inp` to `oup` channels.
  /// \pre  `stride` in [1, 3]; with stride 1, inp == oup, even.
  /// \throws convnet::Error for an illegal stride or an odd or mismatched channel count.
  ShuffleUnit(int64_t inp, int64_t oup, int64_t stride);
  /// The unit on `x`.
  /// \pre  `x` is (N, inp, H, W).
  /// \post (N, oup, H', W'), H' = floor((H - 1) / stride) + 1 (W' alike).
  /// \throws convnet::Error naming the layer for a wrong rank or channel count.
  Tensor forward(const Tensor& x) override;
  /// "InvertedResidual".
  std::string type_name() const override { return "InvertedResidual"; }
  /// \var branch1
  /// Stride > 1: depthwise 3x3 + BN, 1x1 + BN + ReLU; empty for stride 1.
  /// \var branch2
  /// 1x1 + BN + ReLU, depthwise 3x3 + BN, 1x1 + BN + ReLU.
  std::shared_ptr<nn::Sequential> branch1, branch2;
  int64_t stride;  ///< 1, 2 or 3
};

/// torchvision's ShuffleNetV2 (see the file comment).
class ShuffleNetV2 : public nn::Module {
 public:
  /// The network with `stages_repeats` (3 entries) and `stages_out_channels` (5 entries).
  /// \pre  sizes positive; `args.num_classes`, `args.in_channels` positive.
  /// \post training mode, PyTorch's default initialization.
  /// \throws convnet::Error naming `name` for lists of the wrong length or a non-positive
  ///         num_classes or in_channels.
  ShuffleNetV2(const std::string& name, const std::vector<int64_t>& stages_repeats,
               const std::vector<int64_t>& stages_out_channels, const ModelArgs& args);
  /// (N, in_channels, H, W) images to (N, num_classes) logits.
  /// \pre  `x` is 4-D with C = args.in_channels.
  /// \post (N, num_classes) logits.
  /// \throws convnet::Error naming the model for an input that is not 4-D; naming the layer
  ///         for a wrong channel count.
  Tensor forward(const Tensor& x) override;
  /// "ShuffleNetV2".
  std::string type_name() const override { return "ShuffleNetV2"; }
  /// \var conv1
  /// The stem: 3x3 stride-2 conv, BN, ReLU.
  /// \var stage2
  /// The first stage of units.
  /// \var stage3
  /// The second stage of units.
  /// \var stage4
  /// The third stage of units.
  /// \var conv5
  /// 1x1 conv, BN, ReLU.
  std::shared_ptr<nn::Sequential> conv1, stage2, stage3, stage4, conv5;
  std::shared_ptr<nn::MaxPool2d> maxpool;  ///< 3x3, stride 2, padding 1
  std::shared_ptr<nn::Linear> fc;          ///< the classifier
  std::string name;                        ///< the zoo name, e.g. "shufflenet_v2_x1_0"
};

/// torchvision.models.shufflenet_v2_x0_5 (1.37M parameters at 1000 classes).
/// \pre  `args.num_classes`, `args.in_channels` positive.
/// \throws convnet::Error as ShuffleNetV2's constructor.
std::shared_ptr<ShuffleNetV2> shufflenet_v2_x0_5(const ModelArgs& args = {});
/// torchvision.models.shufflenet_v2_x1_0 (2.28M parameters at 1000 classes).
/// \pre  `args.num_classes`, `args.in_channels` positive.
/// \throws convnet::Error as ShuffleNetV2's constructor.
std::shared_ptr<ShuffleNetV2> shufflenet_v2_x1_0(const ModelArgs& args = {});
/// torchvision.models.shufflenet_v2_x1_5 (3.50M parameters at 1000 classes).
/// \pre  `args.num_classes`, `args.in_channels` positive.
/// \throws convnet::Error as ShuffleNetV2's constructor.
std::shared_ptr<ShuffleNetV2> shufflenet_v2_x1_5(const ModelArgs& args = {});
/// torchvision.models.shufflenet_v2_x2_0 (7.39M parameters at 1000 classes).
/// \pre  `args.num_classes`, `args.in_channels` positive.
/// \throws convnet::Error as ShuffleNetV2's constructor.
std::shared_ptr<ShuffleNetV2> shufflenet_v2_x2_0(const ModelArgs& args = {});

}  // namespace convnet::models
#pragma GCC visibility pop
