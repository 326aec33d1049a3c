#pragma once
#pragma GCC visibility push(default)
/// \file
/// DenseNet (Huang et al., "Densely Connected Convolutional Networks", CVPR 2017), the
/// BC form (bottleneck layers + compression 0.5), with its building blocks (DenseLayer,
/// DenseBlock, DenseTransition):
///
/// densenet121/161/169/201: exactly torchvision 0.14's torchvision/models/densenet.py, so
/// its state_dict keys load unchanged ("features.denseblock1.denselayer1.norm1.weight",
/// "features.transition1.conv.weight", "features.norm5.running_var", "classifier.bias"):
/// \verbatim
///   features: conv0 7x7/2 (no bias) - norm0 - relu0 - pool0 maxpool 3/2 pad 1
///             denseblock1 - transition1 - ... - denseblock4 - norm5
///   forward:  features - ReLU - adaptive avg pool 1x1 - flatten - classifier (Linear)
///               name         k   blocks          init features
///               densenet121  32  (6, 12, 24, 16)  64
///               densenet161  48  (6, 12, 36, 24)  96
///               densenet169  32  (6, 12, 32, 32)  64
///               densenet201  32  (6, 12, 48, 32)  64
/// \endverbatim
/// Initialization as torchvision: kaiming_normal_ (fan_in, gain sqrt(2)) for every
/// convolution, BatchNorm weight 1 bias 0, classifier bias 0 (its weight keeps PyTorch's
/// default). bn_size 4, drop_rate 0 (torchvision's defaults).
///
/// densenet_bc_100_12: the paper's CIFAR DenseNet-BC with L = 100, k = 12: conv0 3x3 with
/// 2k = 24 channels and no pooling, three dense blocks of (L - 4) / 6 = 16 bottleneck layers,
/// transitions halving the channels (compression 0.5) and pooling 2x2, then norm5. The
/// same module names as torchvision's DenseNet; 769,162 parameters at 10 classes (the
/// paper's "0.8M").
///
/// Dense layer (k = growth rate): norm1 - relu1 - conv1 1x1 (bn_size * k) - norm2 - relu2 -
/// conv2 3x3 (k). A dense block feeds layer i the concatenation (ops::concat along channels)
/// of the block input and the outputs of layers 1..i-1, so layer i sees C0 + (i-1)k channels
/// and the block returns C0 + L k channels. Transition: norm - relu - conv 1x1 - avgpool 2/2.
///
/// Every forward() here takes (N, C, H, W) float32 on the CPU (bfloat16 / float16 under
/// autocast, see ops/autocast.h). In training mode each BatchNorm needs more than one value
/// per channel, as in PyTorch.
#include <memory>
#include <vector>

#include "convnet/models/registry.h"
#include "convnet/nn/layers.h"
#include "convnet/nn/sequential.h"

namespace convnet::models {

/// torchvision's _DenseLayer; children norm1, relu1, conv1, norm2, relu2, conv2.
/// Input: the concatenated features (N, C, H, W); output: the k new ones (N, k, H, W).
class DenseLayer : public nn::Module {
 public:
  /// A layer taking `in_channels`, with a 1x1 bottleneck of bn_size * growth_rate channels
  /// and `growth_rate` outputs; a Dropout child when `drop_rate` > 0.
  /// \pre  `in_channels`, `growth_rate`, `bn_size` positive; 0 <= `drop_rate` <= 1.
  /// \throws convnet::Error from the layers' constructors otherwise.
  DenseLayer(int64_t in_channels, int64_t growth_rate, int64_t bn_size, double drop_rate = 0.0);
  /// The k = growth_rate new feature maps.
  /// \pre  `x` is (N, in_channels, H, W).
  /// \post (N, growth_rate, H, W).
  /// \throws convnet::Error naming the layer for a wrong rank or channel count.
  Tensor forward(const Tensor& x) override;
  /// "_DenseLayer", torchvision's class name.
  std::string type_name() const override { return "_DenseLayer"; }

 private:
  std::shared_ptr<nn::BatchNorm2d> norm1_, norm2_;
  std::shared_ptr<nn::ReLU> relu1_, relu2_;
  std::shared_ptr<nn::Conv2d> conv1_, conv2_;
  std::shared_ptr<nn::Dropout> dropout_;  // only when drop_rate > 0 (unnamed in torchvision)
};

/// torchvision's _DenseBlock; children denselayer1 .. denselayerL.
class DenseBlock : public nn::Module {
 public:
  /// `num_layers` DenseLayers, layer i taking in_channels + (i-1) * growth_rate channels.
  /// \pre  `num_layers` >= 0; `in_channels`, `bn_size`, `growth_rate` positive;
  ///       0 <= `drop_rate` <= 1.
  /// \post out_channels() = in_channels + num_layers * growth_rate.
  /// \throws convnet::Error from the layers' constructors otherwise.
  DenseBlock(int64_t num_layers, int64_t in_channels, int64_t bn_size, int64_t growth_rate, double drop_rate = 0.0);
  /// The input followed by every layer's new features, along channels.
  /// \pre  `x` is (N, in_channels, H, W).
  /// \post (N, out_channels(), H, W); its first in_channels channels are `x`.
  /// \throws convnet::Error naming the layer for a wrong rank or channel count.
  Tensor forward(const Tensor& x) override;
  /// "_DenseBlock", torchvision's class name.
  std::string type_name() const override { return "_DenseBlock"; }
  /// in_channels + num_layers * growth_rate.
  int64_t out_channels() const { return out_channels_; }

 private:
  std::vector<std::shared_ptr<DenseLayer>> layers_;
  int64_t out_channels_;
};

/// torchvision's _Transition (a Sequential): norm, relu, conv 1x1 (no bias), pool avg 2/2.
/// (N, in_channels, H, W) to (N, out_channels, floor(H / 2), floor(W / 2)).
class DenseTransition : public nn::Sequential {
 public:
  /// \pre  `in_channels`, `out_channels` positive.
  /// \throws convnet::Error from the layers' constructors otherwise.
  DenseTransition(int64_t in_channels, int64_t out_channels);
  /// "_Transition", torchvision's class name.
  std::string type_name() const override { return "_Transition"; }
};

/// The architecture of a DenseNet (torchvision's DenseNet constructor arguments, and the
/// CIFAR stem).
struct DenseNetConfig {
  int64_t growth_rate = 32;                          ///< k: channels each dense layer adds
  std::vector<int64_t> block_config{6, 12, 24, 16};  ///< layers per dense block
  int64_t num_init_features = 64;                    ///< channels of conv0
  int64_t bn_size = 4;                               ///< bottleneck width factor: 1x1 conv to bn_size * k
  double drop_rate = 0.0;                            ///< dropout after each dense layer (0: none)
  /// ImageNet stem (7x7/2 conv + 3x3/2 max pool) or CIFAR stem (3x3 conv, no pooling).
  bool imagenet_stem = true;
  double compression = 0.5;  ///< a transition keeps floor(compression * C) channels
  std::string name = "densenet121";  ///< for error messages
};

/// torchvision's DenseNet (see the file comment).
class DenseNet : public nn::Module {
 public:
  /// Builds and initializes the network; children features and classifier.
  /// \pre  `args.num_classes`, `args.in_channels` positive; `cfg` has at least one block,
  ///       positive growth_rate, num_init_features and bn_size, and a compression that
  ///       leaves every transition at least one channel.
  /// \post num_features() = channels after norm5; the classifier is
  ///       Linear(num_features(), args.num_classes); training mode.
  /// \throws convnet::Error naming `cfg.name` for a non-positive num_classes or in_channels,
  ///         no block, or a non-positive growth rate or initial width; from the layers'
  ///         constructors for other sizes they refuse.
  DenseNet(const DenseNetConfig& cfg, const ModelArgs& args);
  /// (N, in_channels, H, W) images to (N, num_classes) logits.
  /// \pre  `x` is 4-D with C = args.in_channels and H, W >= min_input_size().
  /// \post (N, num_classes) logits (float32 outside autocast).
  /// \throws convnet::Error naming the model (`cfg.name`) for an input that is not 4-D or is
  ///         too small; naming the layer for a wrong channel count.
  Tensor forward(const Tensor& x) override;
  /// "DenseNet".
  std::string type_name() const override { return "DenseNet"; }
  /// The smallest H = W the geometry accepts: every stride-2 stage needs at least 1 pixel
  /// left after the last transition.
  int64_t min_input_size() const { return min_input_size_; }
  int64_t num_features() const { return num_features_; }  ///< channels into the classifier

 private:
  std::shared_ptr<nn::Sequential> features_;
  std::shared_ptr<nn::Linear> classifier_;
  std::string name_;
  int64_t min_input_size_;
  int64_t num_features_;
};

/// The configuration of a zoo DenseNet.
/// \pre  `name` is one of densenet121, densenet161, densenet169, densenet201,
///       densenet_bc_100_12.
/// \post the configuration of the file comment's table, with DenseNetConfig::name = `name`.
/// \throws convnet::Error naming `name` and listing the five names otherwise.
DenseNetConfig densenet_config(const std::string& name);  // the five zoo names
/// The smallest H = W a DenseNet of `cfg` accepts (the first size that leaves at least one
/// pixel after the stem and every transition), as DenseNet::min_input_size().
/// \post a value >= 1.
int64_t densenet_min_input_size(const DenseNetConfig& cfg);
/// The zoo DenseNet `name` (as torchvision.models.densenet121 etc.).
/// \pre  `name` as densenet_config(); `args.num_classes`, `args.in_channels` positive.
/// \post a new DenseNet in training mode, initialized as torchvision's; forward() maps
///       (N, args.in_channels, H, W), H, W >= its min_input_size(), to (N, args.num_classes)
///       logits.
/// \throws convnet::Error as densenet_config() and the DenseNet constructor.
std::shared_ptr<DenseNet> densenet(const std::string& name, const ModelArgs& args = {});
/// DenseNet-121 (torchvision.models.densenet121): densenet("densenet121", args).
std::shared_ptr<DenseNet> densenet121(const ModelArgs& args = {});
/// DenseNet-161 (torchvision.models.densenet161): densenet("densenet161", args).
std::shared_ptr<DenseNet> densenet161(const ModelArgs& args = {});
/// DenseNet-169 (torchvision.models.densenet169): densenet("densenet169", args).
std::shared_ptr<DenseNet> densenet169(const ModelArgs& args = {});
/// DenseNet-201 (torchvision.models.densenet201): densenet("densenet201", args).
std::shared_ptr<DenseNet> densenet201(const ModelArgs& args = {});
/// The CIFAR DenseNet-BC (L = 100, k = 12) of the paper: densenet("densenet_bc_100_12", args).
std::shared_ptr<DenseNet> densenet_bc_100_12(const ModelArgs& args = {});

}  // namespace convnet::models
#pragma GCC visibility pop
