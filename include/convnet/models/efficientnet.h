#pragma once
#pragma GCC visibility push(default)
/// \file
/// EfficientNet B0-B3 (Tan & Le 2019), exactly torchvision 0.14's models/efficientnet.py:
/// \verbatim
///   features.0     3x3/2 conv, BN, SiLU
///   features.1..7  stages of MBConv blocks (expansion, kernel, stride, in, out, layers):
///                  (1,3,1,32,16,1) (6,3,2,16,24,2) (6,5,2,24,40,2) (6,3,2,40,80,3)
///                  (6,5,1,80,112,3) (6,5,2,112,192,4) (6,3,1,192,320,1)
///   features.8     1x1 conv to 4x the last width, BN, SiLU
///   avgpool, flatten, classifier  Dropout, Linear
/// \endverbatim
/// Widths scale by width_mult (make_divisible(c * w, 8)), layer counts by depth_mult
/// (ceil). Each block's stochastic depth probability grows linearly from 0 to 0.2 over the
/// blocks. Parameter names equal torchvision's ("features.2.0.block.1.0.weight").
/// Init as torchvision: conv kaiming_normal_(fan_out), BN 1/0, Linear U(-1/sqrt(K), 1/sqrt(K)).
#include <memory>
#include <string>

#include "convnet/models/registry.h"
#include "convnet/nn/layers.h"
#include "convnet/nn/sequential.h"

namespace convnet::models {

/// EfficientNet's mobile inverted bottleneck (torchvision's MBConv): optional 1x1
/// expansion, kxk depthwise, squeeze-and-excitation (SiLU, sigmoid; squeezed to in / 4),
/// 1x1 projection, each convolution followed by BatchNorm and all but the projection by
/// SiLU; with stride 1 and unchanged width, x + stochastic_depth(block(x)).
class MBConv : public nn::Module {
 public:
  /// A block from `in` to `out` channels, expanded to make_divisible(in * expand_ratio, 8).
  /// \pre  sizes positive; `kernel` odd; `stride` 1 or 2; 0 <= `stochastic_depth_prob` <= 1.
  /// \throws convnet::Error for another stride; from the layers' constructors.
  MBConv(double expand_ratio, int64_t kernel, int64_t stride, int64_t in, int64_t out, double stochastic_depth_prob);
  /// The block on `x`.
  /// \pre  `x` is (N, in, H, W).
  /// \post (N, out, H', W'), H' = floor((H - 1) / stride) + 1 (W' alike).
  /// \throws convnet::Error naming the layer for a wrong rank or channel count.
  Tensor forward(const Tensor& x) override;
  /// "MBConv".
  std::string type_name() const override { return "MBConv"; }
  std::shared_ptr<nn::Sequential> block;                  ///< expansion, depthwise, SE, projection
  std::shared_ptr<nn::StochasticDepth> stochastic_depth;  ///< drop path of the residual branch
  bool use_res_connect;                                   ///< stride 1 and in == out
};

/// torchvision's EfficientNet (B0-B7 layout; see the file comment).
class EfficientNet : public nn::Module {
 public:
  /// Builds and initializes the network.
  /// \pre  `width_mult`, `depth_mult` positive; 0 <= `dropout`, `stochastic_depth_prob` <= 1;
  ///       `args.num_classes`, `args.in_channels` positive.
  /// \post training mode.
  /// \throws convnet::Error naming `name` for a non-positive num_classes or in_channels.
  EfficientNet(const std::string& name, double width_mult, double depth_mult, double dropout, const ModelArgs& args,
               double stochastic_depth_prob = 0.2);
  /// (N, in_channels, H, W) images to (N, num_classes) logits.
  /// \pre  `x` is 4-D with C = args.in_channels.
  /// \post (N, num_classes) logits.
  /// \throws convnet::Error naming the model for an input that is not 4-D; naming the layer
  ///         for a wrong channel count.
  Tensor forward(const Tensor& x) override;
  /// "EfficientNet".
  std::string type_name() const override { return "EfficientNet"; }
  /// \var features
  /// The stem, the seven stages and the last 1x1 convolution.
  /// \var classifier
  /// Dropout, then Linear(last width, num_classes).
  std::shared_ptr<nn::Sequential> features, classifier;
  std::string name;  ///< the zoo name, e.g. "efficientnet_b0"
};

/// torchvision.models.efficientnet_b0 (width 1.0, depth 1.0, dropout 0.2; 5.29M parameters).
/// \pre  `args.num_classes`, `args.in_channels` positive.
/// \throws convnet::Error as EfficientNet's constructor.
std::shared_ptr<EfficientNet> efficientnet_b0(const ModelArgs& args = {});
/// torchvision.models.efficientnet_b1 (width 1.0, depth 1.1, dropout 0.2; 7.79M parameters).
/// \pre  `args.num_classes`, `args.in_channels` positive.
/// \throws convnet::Error as EfficientNet's constructor.
std::shared_ptr<EfficientNet> efficientnet_b1(const ModelArgs& args = {});
/// torchvision.models.efficientnet_b2 (width 1.1, depth 1.2, dropout 0.3; 9.11M parameters).
/// \pre  `args.num_classes`, `args.in_channels` positive.
/// \throws convnet::Error as EfficientNet's constructor.
std::shared_ptr<EfficientNet> efficientnet_b2(const ModelArgs& args = {});
/// torchvision.models.efficientnet_b3 (width 1.2, depth 1.4, dropout 0.3; 12.2M parameters).
/// \pre  `args.num_classes`, `args.in_channels` positive.
/// \throws convnet::Error as EfficientNet's constructor.
std::shared_ptr<EfficientNet> efficientnet_b3(const ModelArgs& args = {});

}  // namespace convnet::models
#pragma GCC visibility pop
