#pragma once
#pragma GCC visibility push(default)
/// \file
/// MobileNetV2 (Sandler et al. 2018, "MobileNetV2: Inverted Residuals and Linear
/// Bottlenecks"), exactly torchvision 0.14's models/mobilenetv2.py, with its building
/// blocks:
/// \verbatim
///   features.0      Conv2dNormActivation(C, 32, 3, stride 2) with ReLU6
///   features.1..17  InvertedResidual blocks, settings (t, c, n, s):
///                   (1,16,1,1) (6,24,2,2) (6,32,3,2) (6,64,4,2) (6,96,3,1) (6,160,3,2) (6,320,1,1)
///   features.18     Conv2dNormActivation(320, 1280, 1) with ReLU6
///   adaptive_avg_pool2d(1) (a function call, as torchvision: no module), flatten
///   classifier      Dropout(0.2), Linear(1280, K)
/// \endverbatim
/// Parameter names equal torchvision's state_dict keys ("features.0.0.weight",
/// "features.1.conv.0.0.weight", "features.2.conv.3.running_mean", "classifier.1.bias").
/// Init as torchvision: conv kaiming_normal_(fan_out), BN 1/0, Linear N(0, 0.01) bias 0.
///
/// forward() takes (N, C, H, W) float32 on the CPU (bfloat16 / float16 under autocast, see
/// ops/autocast.h). In training mode each BatchNorm needs more than one value per channel,
/// as in PyTorch.
#include <memory>
#include <string>

#include "convnet/models/registry.h"
#include "convnet/nn/layers.h"
#include "convnet/nn/sequential.h"

namespace convnet::models {

/// The smallest H = W MobileNetV2 accepts. Stride-2 padded convolutions keep H, W >= 1 for
/// any input >= 1x1 (torchvision's meta: "min_size": (1, 1)).
constexpr int64_t kMobileNetV2MinInputSize = 1;

/// torchvision's _make_divisible (from the TensorFlow reference): v rounded to the nearest
/// multiple of `divisor` (at least min_value, default divisor), never more than 10% below v.
/// \pre  `v` >= 0; `divisor` positive; `min_value` <= 0 means `divisor`.
/// \post a multiple of `divisor` (when `min_value` is one), at least `min_value` and at
///       least 0.9 * v.
int64_t make_divisible(double v, int64_t divisor, int64_t min_value = 0);

/// torchvision's Conv2dNormActivation (a Sequential): Conv2d (no bias, padding (k-1)/2) ->
/// BatchNorm2d -> ReLU6, children "0", "1", "2".
class Conv2dNormActivation : public nn::Sequential {
 public:
  /// The three layers for `in_channels` to `out_channels` channels.
  /// \pre  `in_channels`, `out_channels`, `kernel_size`, `stride` positive; `groups` divides
  ///       both channel counts.
  /// \post the three layers with PyTorch's default init (MobileNetV2 re-initializes them).
  /// \throws convnet::Error from the Conv2d / BatchNorm2d constructors otherwise.
  Conv2dNormActivation(int64_t in_channels, int64_t out_channels, int64_t kernel_size = 3, int64_t stride = 1,
                       int64_t groups = 1);
  /// "Conv2dNormActivation".
  std::string type_name() const override { return "Conv2dNormActivation"; }
};

/// torchvision's InvertedResidual: expansion 1x1 (skipped when t = 1) -> depthwise 3x3
/// (stride) -> linear 1x1 projection + BN ("linear bottleneck": no activation after it), in
/// the Sequential "conv"; x + conv(x) when stride is 1 and the channel count is unchanged.
class InvertedResidual : public nn::Module {
 public:
  /// A block from `inp` to `oup` channels with hidden width inp * expand_ratio.
  /// \pre  `inp`, `oup`, `expand_ratio` positive; `stride` 1 or 2.
  /// \post use_res_connect = (stride == 1 and inp == oup).
  /// \throws convnet::Error "InvertedResidual: stride should be 1 or 2" for another stride;
  ///         from the layers' constructors for non-positive sizes.
  InvertedResidual(int64_t inp, int64_t oup, int64_t stride, int64_t expand_ratio);
  /// The block on `x`.
  /// \pre  `x` is (N, inp, H, W).
  /// \post (N, oup, H', W'), H' = floor((H - 1) / stride) + 1 (W' alike).
  /// \throws convnet::Error naming the layer for a wrong rank or channel count.
  Tensor forward(const Tensor& x) override;
  /// "InvertedResidual".
  std::string type_name() const override { return "InvertedResidual"; }
  std::shared_ptr<nn::Sequential> conv;  ///< The residual branch (expansion, depthwise, projection, BN).
  bool use_res_connect;                  ///< Whether forward() adds the input to conv's output.
};

/// torchvision's MobileNetV2 (see the file comment).
class MobileNetV2 : public nn::Module {
 public:
  /// Builds and initializes the network. `width_mult` scales every width (the last one only
  /// upwards), each rounded with make_divisible(..., round_nearest); `dropout` is the
  /// classifier's.
  /// \pre  `args.num_classes`, `args.in_channels`, `width_mult`, `round_nearest` positive;
  ///       0 <= `dropout` <= 1.
  /// \post features takes args.in_channels channels; classifier ends in
  ///       Linear(last_channel, args.num_classes); training mode.
  /// \throws convnet::Error naming "mobilenet_v2" for a non-positive num_classes, in_channels
  ///         or width_mult; from the Dropout constructor for a probability outside [0, 1].
  MobileNetV2(const ModelArgs& args, double width_mult = 1.0, double dropout = 0.2, int64_t round_nearest = 8);
  /// (N, in_channels, H, W) images to (N, num_classes) logits.
  /// \pre  `x` is 4-D with C = args.in_channels and H, W >= kMobileNetV2MinInputSize.
  /// \post (N, num_classes) logits (float32 outside autocast).
  /// \throws convnet::Error naming "mobilenet_v2" for an input that is not 4-D or is too
  ///         small; naming the layer for a wrong channel count.
  Tensor forward(const Tensor& x) override;
  /// "MobileNetV2".
  std::string type_name() const override { return "MobileNetV2"; }
  /// \var features
  /// features.0 .. features.18: the stem, the 17 InvertedResidual blocks and the last 1x1 conv.
  /// \var classifier
  /// Dropout, then Linear(last_channel, num_classes).
  std::shared_ptr<nn::Sequential> features, classifier;
  int64_t last_channel;  ///< Channels into the classifier (1280 at width_mult <= 1).
};

/// MobileNetV2 at width 1.0 (torchvision.models.mobilenet_v2): 3.5M parameters at 1000
/// classes.
/// \pre  `args.num_classes`, `args.in_channels` positive.
/// \post a new MobileNetV2 in training mode, initialized as torchvision's; forward() maps
///       (N, args.in_channels, H, W), H, W >= 1, to (N, args.num_classes) logits.
/// \throws convnet::Error naming "mobilenet_v2" for a non-positive num_classes or in_channels.
std::shared_ptr<MobileNetV2> mobilenet_v2(const ModelArgs& args = {});

/// The inner activation of a SqueezeExcitation block (torchvision's `activation`).
enum class SEActivation {
  relu,  ///< ReLU (torchvision's default; MobileNetV3, RegNet)
  silu   ///< SiLU (EfficientNet)
};
/// The gate of a SqueezeExcitation block (torchvision's `scale_activation`).
enum class SEGate {
  sigmoid,     ///< the logistic sigmoid (torchvision's default; EfficientNet, RegNet)
  hardsigmoid  ///< hardsigmoid (MobileNetV3)
};

/// Squeeze-and-excitation (Hu et al. 2018) as torchvision.ops.SqueezeExcitation:
/// `x * gate(fc2(activation(fc1(avgpool(x)))))`, fc1 and fc2 1x1 convolutions with bias.
/// A composition of existing ops (adaptive average pooling, two convolutions, the
/// activations, a broadcast multiply), no kernel of its own.
class SqueezeExcitation : public nn::Module {
 public:
  /// The block for `channels` input channels squeezed to `squeeze` channels, with the
  /// given inner activation and gate (torchvision's defaults: ReLU and sigmoid).
  /// \pre  `channels`, `squeeze` positive.
  /// \throws convnet::Error from the convolutions' constructors for non-positive sizes.
  SqueezeExcitation(int64_t channels, int64_t squeeze, SEActivation activation = SEActivation::relu,
                    SEGate gate = SEGate::sigmoid);
  /// x scaled per channel by the gate.
  /// \pre  `x` is (N, channels, H, W).
  /// \post x's shape.
  /// \throws convnet::Error naming the layer for a wrong rank or channel count.
  Tensor forward(const Tensor& x) override;
  /// "SqueezeExcitation".
  std::string type_name() const override { return "SqueezeExcitation"; }
  /// \var fc1
  /// The squeeze: 1x1 conv, channels to squeeze, with bias.
  /// \var fc2
  /// The excitation: 1x1 conv, squeeze to channels, with bias.
  std::shared_ptr<nn::Conv2d> fc1, fc2;
  SEActivation activation;  ///< after fc1
  SEGate gate;              ///< after fc2
};

/// One bottleneck of torchvision's MobileNetV3 (models/mobilenetv3.py): optional 1x1
/// expansion, kxk depthwise, optional squeeze-and-excitation, 1x1 projection, each
/// convolution followed by BatchNorm (eps 0.001, momentum 0.01) and, except the projection,
/// by ReLU or Hardswish; the input is added when the stride is 1 and the widths agree.
class InvertedResidualV3 : public nn::Module {
 public:
  /// A block from `in` to `out` channels with `expanded` hidden channels.
  /// \pre  sizes positive; `kernel` odd; `stride` 1 or 2.
  /// \throws convnet::Error for a stride other than 1 or 2; from the layers' constructors.
  InvertedResidualV3(int64_t in, int64_t kernel, int64_t expanded, int64_t out, bool use_se, bool use_hardswish,
                     int64_t stride);
  /// The block on `x`.
  /// \pre  `x` is (N, in, H, W).
  /// \post (N, out, H', W'), H' = floor((H - 1) / stride) + 1 (W' alike).
  /// \throws convnet::Error naming the layer for a wrong rank or channel count.
  Tensor forward(const Tensor& x) override;
  /// "InvertedResidual".
  std::string type_name() const override { return "InvertedResidual"; }
  std::shared_ptr<nn::Sequential> block;  ///< The layers, named as torchvision's (block.0, ...).
  bool use_res_connect;                   ///< Whether forward() adds the input.
};

/// torchvision's MobileNetV3 (Howard et al. 2019, "Searching for MobileNetV3"), large or
/// small, width 1.0, module for module and name for name.
class MobileNetV3 : public nn::Module {
 public:
  /// Builds and initializes the network as torchvision does (kaiming-normal fan-out
  /// convolutions, BatchNorm 1/0, Linear N(0, 0.01)).
  /// \pre  `args.num_classes` and `args.in_channels` positive; 0 <= `dropout` <= 1.
  /// \post training mode; features takes args.in_channels channels.
  /// \throws convnet::Error naming the model for a non-positive num_classes or in_channels.
  MobileNetV3(const ModelArgs& args, bool large, double dropout = 0.2);
  /// (N, in_channels, H, W) images to (N, num_classes) logits.
  /// \pre  `x` is 4-D with C = args.in_channels.
  /// \post (N, num_classes) logits.
  /// \throws convnet::Error naming the model for an input that is not 4-D; naming the layer
  ///         for a wrong channel count.
  Tensor forward(const Tensor& x) override;
  /// "MobileNetV3".
  std::string type_name() const override { return "MobileNetV3"; }
  /// \var features
  /// features.0: the stem (3x3/2, Hardswish); the bottlenecks; the last 1x1 conv (Hardswish).
  /// \var classifier
  /// Linear, Hardswish, Dropout, Linear.
  std::shared_ptr<nn::Sequential> features, classifier;
  std::string name;  ///< "mobilenet_v3_large" or "mobilenet_v3_small"
};

/// MobileNetV3-Large (torchvision.models.mobilenet_v3_large): 5.48M parameters at 1000 classes.
/// \pre  as MobileNetV3's constructor.
/// \throws convnet::Error as MobileNetV3's constructor.
std::shared_ptr<MobileNetV3> mobilenet_v3_large(const ModelArgs& args = {});
/// MobileNetV3-Small (torchvision.models.mobilenet_v3_small): 2.54M parameters at 1000 classes.
/// \pre  as MobileNetV3's constructor.
/// \throws convnet::Error as MobileNetV3's constructor.
std::shared_ptr<MobileNetV3> mobilenet_v3_small(const ModelArgs& args = {});

}  // namespace convnet::models
#pragma GCC visibility pop
