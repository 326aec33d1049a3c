#pragma once
#pragma GCC visibility push(default)
/// \file
/// ConvNeXt (Liu et al. 2022, "A ConvNet for the 2020s"), exactly torchvision 0.14's
/// models/convnext.py:
/// \verbatim
///   features.0     stem: Conv2d(C, d0, 4, stride 4) with bias, LayerNorm2d
///   features.1..7  stages of CNBlocks, with a downsampling layer between two stages
///                  (LayerNorm2d, Conv2d(d, 2d, 2, stride 2))
///   avgpool; classifier LayerNorm2d, Flatten, Linear
///   CNBlock: x + stochastic_depth(layer_scale * block(x)), block = depthwise 7x7 conv,
///            Permute to (N, H, W, C), LayerNorm, Linear(d, 4d), GELU, Linear(4d, d),
///            Permute back; layer_scale (d, 1, 1) starts at 1e-6
/// \endverbatim
/// LayerNorms use eps 1e-6. Stochastic depth grows linearly over the blocks to 0.1 (tiny)
/// or 0.4 (small). Init as torchvision: Conv2d and Linear trunc_normal_(std 0.02), biases 0.
#include <memory>
#include <string>
#include <vector>

#include "convnet/models/registry.h"
#include "convnet/nn/layers.h"
#include "convnet/nn/sequential.h"

namespace convnet::models {

/// The smallest H = W a ConvNeXt accepts (the stem's stride 4 and three 2x downsamplings).
constexpr int64_t kConvNeXtMinInputSize = 32;

/// torchvision's LayerNorm2d: layer norm over the channels of (N, C, H, W), by permuting to
/// channels-last, normalizing the last dimension and permuting back.
class LayerNorm2d : public nn::LayerNorm {
 public:
  /// Layer norm over `channels` channels.
  /// \pre  `channels` positive; `eps` > 0.
  /// \throws convnet::Error for a non-positive channel count.
  explicit LayerNorm2d(int64_t channels, double eps = 1e-6) : nn::LayerNorm({channels}, eps) {}
  /// The normalized input.
  /// \pre  `x` is (N, channels, H, W).
  /// \post x's shape, float32. Backward gives dx, dweight and dbias.
  /// \throws convnet::Error naming the layer and both shapes for a wrong channel count.
  Tensor forward(const Tensor& x) override;
  /// "LayerNorm2d".
  std::string type_name() const override { return "LayerNorm2d"; }
};

/// ConvNeXt's block (torchvision's CNBlock; see the file comment).
class CNBlock : public nn::Module {
 public:
  /// A block of width `dim`.
  /// \pre  `dim` positive; 0 <= `stochastic_depth_prob` <= 1.
  /// \throws convnet::Error from the layers' constructors.
  CNBlock(int64_t dim, double layer_scale, double stochastic_depth_prob);
  /// x + stochastic_depth(layer_scale * block(x)).
  /// \pre  `x` is (N, dim, H, W).
  /// \post x's shape.
  /// \throws convnet::Error naming the layer for a wrong rank or channel count.
  Tensor forward(const Tensor& x) override;
  /// "CNBlock".
  std::string type_name() const override { return "CNBlock"; }
  Tensor layer_scale;                                     ///< (dim, 1, 1) per-channel scale of the branch
  std::shared_ptr<nn::Sequential> block;                  ///< depthwise conv .. Linear, Permute
  std::shared_ptr<nn::StochasticDepth> stochastic_depth;  ///< drop path of the branch
};

/// torchvision's ConvNeXt (see the file comment).
class ConvNeXt : public nn::Module {
 public:
  /// One stage per entry of `dims` and `depths`; stochastic depth up to `sd_prob`.
  /// \pre  `dims`, `depths` of equal, non-zero length with positive entries;
  ///       `args.num_classes`, `args.in_channels` positive.
  /// \post training mode.
  /// \throws convnet::Error naming `name` for mismatched lists or a non-positive
  ///         num_classes or in_channels.
  ConvNeXt(const std::string& name, const std::vector<int64_t>& dims, const std::vector<int64_t>& depths,
           double sd_prob, const ModelArgs& args, double layer_scale = 1e-6);
  /// (N, in_channels, H, W) images to (N, num_classes) logits.
  /// \pre  `x` is 4-D with C = args.in_channels and H, W >= kConvNeXtMinInputSize.
  /// \post (N, num_classes) logits.
  /// \throws convnet::Error naming the model for an input that is not 4-D or too small;
  ///         naming the layer for a wrong channel count.
  Tensor forward(const Tensor& x) override;
  /// "ConvNeXt".
  std::string type_name() const override { return "ConvNeXt"; }
  /// \var features
  /// The stem, the stages and the downsampling layers between them.
  /// \var classifier
  /// LayerNorm2d, Flatten, Linear.
  std::shared_ptr<nn::Sequential> features, classifier;
  std::string name;  ///< "convnext_tiny" or "convnext_small"
};

/// torchvision.models.convnext_tiny: widths 96-768, depths 3, 3, 9, 3; 28.6M parameters.
/// \pre  `args.num_classes`, `args.in_channels` positive.
/// \throws convnet::Error as ConvNeXt's constructor.
std::shared_ptr<ConvNeXt> convnext_tiny(const ModelArgs& args = {});
/// torchvision.models.convnext_small: widths 96-768, depths 3, 3, 27, 3; 50.2M parameters.
/// \pre  `args.num_classes`, `args.in_channels` positive.
/// \throws convnet::Error as ConvNeXt's constructor.
std::shared_ptr<ConvNeXt> convnext_small(const ModelArgs& args = {});

}  // namespace convnet::models
#pragma GCC visibility pop
