#pragma once
#pragma GCC visibility push(default)
/// \file
/// RegNetX and RegNetY (Radosavovic et al. 2020, "Designing Network Design Spaces"),
/// exactly torchvision 0.14's models/regnet.py:
/// \verbatim
///   stem          3x3/2 conv to 32, BN, ReLU
///   trunk_output  block1..block4: stages of residual bottlenecks "block<s>-<i>":
///                 proj (1x1 conv + BN, when the shape changes), f = a (1x1), b (grouped 3x3,
///                 stride 2 in a stage's first block), se (RegNetY only), c (1x1, no
///                 activation); ReLU after the sum
///   avgpool, flatten, fc Linear
/// \endverbatim
/// The stage widths and depths come from the quantized linear rule (depth, w_0, w_a, w_m,
/// group width), computed as torchvision computes it. Init as torchvision: conv
/// N(0, sqrt(2 / fan_out)), BN 1/0, Linear N(0, 0.01) with a zero bias.
#include <memory>
#include <string>
#include <vector>

#include "convnet/models/registry.h"
#include "convnet/nn/layers.h"
#include "convnet/nn/sequential.h"

namespace convnet::models {

/// The per-stage settings of a RegNet (torchvision's BlockParams).
struct RegNetParams {
  std::vector<int64_t> depths;        ///< blocks per stage
  std::vector<int64_t> widths;        ///< output width per stage
  std::vector<int64_t> group_widths;  ///< channels per group of the 3x3 convolution
  double se_ratio = 0;                ///< squeeze width / block input width; 0: no SE (RegNetX)
  /// The settings for RegNet's design-space parameters, as BlockParams.from_init_params
  /// (bottleneck multiplier 1).
  /// \pre  `w_a` >= 0, `w_0` a positive multiple of 8, `w_m` > 1, `depth` and
  ///       `group_width` positive.
  /// \post depths sum to `depth`; every width is a multiple of its group width.
  /// \throws convnet::Error "Invalid RegNet settings" otherwise.
  static RegNetParams from_init_params(int64_t depth, int64_t w_0, double w_a, double w_m, int64_t group_width,
                                       double se_ratio = 0);
};

/// RegNet's residual bottleneck block (torchvision's ResBottleneckBlock).
class ResBottleneckBlock : public nn::Module {
 public:
  /// A block from `width_in` to `width_out` channels.
  /// \pre  sizes positive; `group_width` divides `width_out`; `se_ratio` >= 0.
  /// \throws convnet::Error from the layers' constructors.
  ResBottleneckBlock(int64_t width_in, int64_t width_out, int64_t stride, int64_t group_width, double se_ratio);
  /// relu(proj(x) + f(x)) (or relu(x + f(x)) without a projection).
  /// \pre  `x` is (N, width_in, H, W).
  /// \post (N, width_out, H', W'), H' = floor((H - 1) / stride) + 1 (W' alike).
  /// \throws convnet::Error naming the layer for a wrong rank or channel count.
  Tensor forward(const Tensor& x) override;
  /// "ResBottleneckBlock".
  std::string type_name() const override { return "ResBottleneckBlock"; }
  /// \var proj
  /// 1x1 conv (stride) + BN when the shape changes; null otherwise.
  /// \var f
  /// The bottleneck transform: children "a", "b", "se" (RegNetY), "c".
  std::shared_ptr<nn::Sequential> proj, f;
};

/// torchvision's RegNet (see the file comment).
class RegNet : public nn::Module {
 public:
  /// Builds and initializes the network for `params`.
  /// \pre  `params` as from_init_params makes them; `args.num_classes`, `args.in_channels`
  ///       positive.
  /// \post training mode.
  /// \throws convnet::Error naming `name` for a non-positive num_classes or in_channels.
  RegNet(const std::string& name, const RegNetParams& params, const ModelArgs& args);
  /// (N, in_channels, H, W) images to (N, num_classes) logits.
  /// \pre  `x` is 4-D with C = args.in_channels.
  /// \post (N, num_classes) logits.
  /// \throws convnet::Error naming the model for an input that is not 4-D; naming the layer
  ///         for a wrong channel count.
  Tensor forward(const Tensor& x) override;
  /// "RegNet".
  std::string type_name() const override { return "RegNet"; }
  /// \var stem
  /// 3x3/2 conv to 32 channels, BN, ReLU.
  /// \var trunk_output
  /// The stages block1 .. block4.
  std::shared_ptr<nn::Sequential> stem, trunk_output;
  std::shared_ptr<nn::Linear> fc;  ///< the classifier
  std::string name;                ///< the zoo name, e.g. "regnet_y_400mf"
};

/// A RegNet of the zoo by its torchvision name: regnet_y_400mf, regnet_y_800mf,
/// regnet_y_1_6gf, regnet_y_3_2gf, regnet_x_400mf, regnet_x_800mf, regnet_x_1_6gf or
/// regnet_x_3_2gf.
/// \pre  `name` one of those; `args.num_classes`, `args.in_channels` positive.
/// \throws convnet::Error naming `name` when it is none of those; as RegNet's constructor.
std::shared_ptr<RegNet> regnet(const std::string& name, const ModelArgs& args = {});

}  // namespace convnet::models
#pragma GCC visibility pop
