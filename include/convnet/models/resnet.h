#pragma once
#pragma GCC visibility push(default)
/// \file
/// The ResNet family: torchvision's ImageNet ResNets, the CIFAR ResNets of He et al. and the
/// CIFAR Wide ResNets, with their residual blocks.
///
/// ImageNet ResNets, exactly torchvision 0.14's models/resnet.py (He et al. 2016, "Deep
/// Residual Learning for Image Recognition"; ResNeXt, Xie et al. 2017; Wide ResNet-50-2,
/// Zagoruyko and Komodakis 2016): conv1 7x7/2, bn1, relu, maxpool 3x3/2, layer1..layer4,
/// avgpool, fc; BasicBlock (resnet18/34) or Bottleneck with the stride on its 3x3 conv
/// ("ResNet v1.5"); a projection `downsample` = Sequential(conv1x1, BN) where the shape
/// changes. Parameter names equal torchvision's state_dict keys ("layer1.0.conv1.weight",
/// "layer2.0.downsample.0.weight", "fc.bias").
///
/// CIFAR ResNets (He et al. 2016, section 4.2): conv1 3x3 -> 16 channels, three stages of
/// n BasicBlocks at 16, 32, 64 channels (depth 6n + 2), global average pooling, fc.
///  - option A ("resnet20" ...): every shortcut is parameter-free: identity, or where the
///    shape changes, subsampling by stride 2 and zero channels appended (ZeroPadShortcut).
///  - option B ("resnet20_b" ...): a 1x1 conv projection + BN where the shape changes, as
///    the PyTorch peer's resnet_cifar in shared/bench/pytorch_peer.py.
///
/// Wide ResNet WRN-d-k for CIFAR (Zagoruyko and Komodakis 2016): pre-activation blocks
/// BN-ReLU-conv3x3-BN-ReLU-dropout-conv3x3 at widths 16k, 32k, 64k, (d-4)/6 per stage.
///
/// All convolutions are initialized with kaiming_normal_(fan_out, relu) and BatchNorm with
/// weight 1, bias 0 (torchvision's ResNet scheme; init_resnet_weights_()).
///
/// Every forward() here takes (N, C, H, W) float32 on the CPU (bfloat16 / float16 under
/// autocast, see ops/autocast.h). In training mode each BatchNorm needs more than one value
/// per channel (N * H' * W' > 1 at that layer), as in PyTorch.
#include <array>
#include <memory>
#include <string>

#include "convnet/models/registry.h"
#include "convnet/nn/layers.h"
#include "convnet/nn/sequential.h"

namespace convnet::models {

/// The smallest H = W every model in this header accepts: padded 3x3 / 7x7 convolutions and
/// padded pooling keep H, W >= 1 at any stride, and global average pooling ends the network
/// (torchvision's weights meta says "min_size": (1, 1) too). A 1x1 input is no useful image.
constexpr int64_t kResNetMinInputSize = 1;

/// The "layer" name of a block's residual add in error messages.
/// \post `"<path> (residual add)"`, e.g. "layer1.0 (residual add)", or "residual add" for a
///       block that is not registered inside another module.
std::string residual_label(const nn::Module& block);

/// torchvision's conv3x3: a bias-free 3x3 convolution with padding 1.
/// \pre  `in_planes`, `out_planes` positive; `groups` divides both; `stride` positive.
/// \post a new Conv2d(in_planes, out_planes, 3, stride, padding 1, groups, bias=False) with
///       PyTorch's default init.
/// \throws convnet::Error from the Conv2d constructor for non-positive channels or groups
///         that do not divide them.
std::shared_ptr<nn::Conv2d> conv3x3(int64_t in_planes, int64_t out_planes, int64_t stride = 1, int64_t groups = 1);
/// torchvision's conv1x1: a bias-free 1x1 convolution (no padding).
/// \pre  `in_planes`, `out_planes`, `stride` positive.
/// \post a new Conv2d(in_planes, out_planes, 1, stride, bias=False) with PyTorch's default init.
/// \throws convnet::Error from the Conv2d constructor for non-positive channels.
std::shared_ptr<nn::Conv2d> conv1x1(int64_t in_planes, int64_t out_planes, int64_t stride = 1);

/// torchvision's ResNet initialization, in place, for every module below `m` (and `m` itself).
/// \post every Conv2d weight ~ kaiming_normal_(fan_out, relu), its bias (if any) 0; every
///       BatchNorm weight 1 and bias 0 (where defined). Linear layers keep their
///       initialization (PyTorch's default, as torchvision's ResNet).
void init_resnet_weights_(nn::Module& m);

/// torchvision's BasicBlock (resnet18/34 and the CIFAR ResNets):
/// out = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)); conv1 carries the stride.
/// `downsample` is the shortcut where the shape changes (nullptr: identity).
class BasicBlock : public nn::Module {
 public:
  static constexpr int64_t expansion = 1;  ///< Output channels = expansion * planes.
  /// A block from `inplanes` to `planes` channels; children conv1, bn1, relu, conv2, bn2
  /// and, when given, downsample (torchvision's names and order).
  /// \pre  `inplanes`, `planes`, `stride` positive; `downsample` maps (N, inplanes, H, W) to
  ///       the shape of the residual branch's output, or is nullptr when that shape is the
  ///       input's (stride 1, inplanes == planes).
  /// \post the layers initialized with PyTorch's defaults (the models re-initialize them).
  /// \throws convnet::Error from the Conv2d / BatchNorm2d constructors for non-positive sizes.
  BasicBlock(int64_t inplanes, int64_t planes, int64_t stride = 1, nn::ModulePtr downsample = nullptr);
  /// The block on `x`.
  /// \pre  `x` is (N, inplanes, H, W).
  /// \post (N, planes, H', W'), H' = floor((H - 1) / stride) + 1 (W' alike).
  /// \throws convnet::Error naming the layer (e.g. "layer1.0.conv1 (Conv2d)") for a wrong rank
  ///         or channel count, or `"<path> (residual add)"` with both shapes when the shortcut
  ///         and the branch disagree.
  Tensor forward(const Tensor& x) override;
  /// "BasicBlock".
  std::string type_name() const override { return "BasicBlock"; }
  /// \var conv1
  /// 3x3 convolution, inplanes to planes, with the block's stride.
  /// \var conv2
  /// 3x3 convolution, planes to planes.
  std::shared_ptr<nn::Conv2d> conv1, conv2;
  /// \var bn1
  /// BatchNorm2d after conv1.
  /// \var bn2
  /// BatchNorm2d after conv2 (zero weight under ResNetConfig::zero_init_residual).
  std::shared_ptr<nn::BatchNorm2d> bn1, bn2;
  std::shared_ptr<nn::ReLU> relu;  ///< Applied after bn1 and after the residual add.
  nn::ModulePtr downsample;        ///< The shortcut where the shape changes; nullptr: identity.
};

/// torchvision's Bottleneck (resnet50 and deeper, ResNeXt, wide_resnet50_2):
/// 1x1 (reduce to width) -> 3x3 (stride, groups) -> 1x1 (expand to 4 * planes), each with
/// BN, ReLU after the first two and after the residual add.
/// width = int(planes * base_width / 64) * groups.
class Bottleneck : public nn::Module {
 public:
  static constexpr int64_t expansion = 4;  ///< Output channels = expansion * planes.
  /// A block from `inplanes` to 4 * `planes` channels; children conv1, bn1, conv2, bn2, conv3,
  /// bn3, relu and, when given, downsample (torchvision's names and order).
  /// \pre  `inplanes`, `planes`, `stride`, `groups`, `base_width` positive, with width
  ///       (above) positive; `downsample` maps (N, inplanes, H, W) to the shape of the
  ///       residual branch's output, or is nullptr when that shape is the input's.
  /// \post the layers initialized with PyTorch's defaults (the models re-initialize them).
  /// \throws convnet::Error from the Conv2d / BatchNorm2d constructors for non-positive sizes.
  Bottleneck(int64_t inplanes, int64_t planes, int64_t stride = 1, nn::ModulePtr downsample = nullptr,
             int64_t groups = 1, int64_t base_width = 64);
  /// The block on `x`.
  /// \pre  `x` is (N, inplanes, H, W).
  /// \post (N, 4 * planes, H', W'), H' = floor((H - 1) / stride) + 1 (W' alike).
  /// \throws convnet::Error naming the layer for a wrong rank or channel count, or
  ///         `"<path> (residual add)"` with both shapes when the shortcut and the branch disagree.
  Tensor forward(const Tensor& x) override;
  /// "Bottleneck".
  std::string type_name() const override { return "Bottleneck"; }
  /// \var conv1
  /// 1x1 convolution, inplanes to width.
  /// \var conv2
  /// 3x3 convolution, width to width, with the block's stride and groups.
  /// \var conv3
  /// 1x1 convolution, width to 4 * planes.
  std::shared_ptr<nn::Conv2d> conv1, conv2, conv3;
  /// \var bn1
  /// BatchNorm2d after conv1.
  /// \var bn2
  /// BatchNorm2d after conv2.
  /// \var bn3
  /// BatchNorm2d after conv3 (zero weight under ResNetConfig::zero_init_residual).
  std::shared_ptr<nn::BatchNorm2d> bn1, bn2, bn3;
  std::shared_ptr<nn::ReLU> relu;  ///< Applied after bn1, bn2 and the residual add.
  nn::ModulePtr downsample;        ///< The shortcut where the shape changes; nullptr: identity.
};

/// The architecture of an ImageNet ResNet (torchvision's ResNet constructor arguments).
struct ResNetConfig {
  bool bottleneck = false;          ///< BasicBlock or Bottleneck
  std::array<int64_t, 4> layers{};  ///< blocks per stage
  int64_t groups = 1;               ///< ResNeXt cardinality
  int64_t width_per_group = 64;     ///< 128 for wide_resnet50_2, 4 for resnext50_32x4d
  bool zero_init_residual = false;  ///< torchvision's option: last BN of each block starts at 0
};

/// torchvision's ResNet; the first convolution takes args.in_channels.
class ResNet : public nn::Module {
 public:
  /// Builds and initializes the network (init_resnet_weights_(), then zero_init_residual).
  /// `name` ("resnet50", ...) names the model in error messages.
  /// \pre  `args.num_classes`, `args.in_channels` positive; every `cfg.layers` entry
  ///       positive; a BasicBlock config has groups 1 and width_per_group 64.
  /// \post conv1 takes args.in_channels channels; fc has 512 * expansion inputs and
  ///       args.num_classes outputs; the module is in training mode.
  /// \throws convnet::Error naming `name` for a non-positive num_classes or in_channels, or
  ///         a BasicBlock config with groups != 1 or width_per_group != 64.
  ResNet(const ResNetConfig& cfg, const ModelArgs& args, std::string name);
  /// (N, in_channels, H, W) images to (N, num_classes) logits.
  /// \pre  `x` is 4-D with C = args.in_channels and H, W >= kResNetMinInputSize.
  /// \post (N, num_classes) logits (float32 outside autocast).
  /// \throws convnet::Error naming the model for an input that is not 4-D or is too small;
  ///         naming the layer ("conv1 (Conv2d)") for a wrong channel count.
  Tensor forward(const Tensor& x) override;
  /// "ResNet".
  std::string type_name() const override { return "ResNet"; }
  std::shared_ptr<nn::Conv2d> conv1;          ///< 7x7/2 stem convolution, in_channels to 64, no bias.
  std::shared_ptr<nn::BatchNorm2d> bn1;       ///< BatchNorm2d(64) after conv1.
  std::shared_ptr<nn::ReLU> relu;             ///< ReLU after bn1.
  std::shared_ptr<nn::MaxPool2d> maxpool;     ///< 3x3/2 max pooling, padding 1.
  /// \var layer1
  /// Stage 1: 64 planes, stride 1.
  /// \var layer2
  /// Stage 2: 128 planes, stride 2.
  /// \var layer3
  /// Stage 3: 256 planes, stride 2.
  /// \var layer4
  /// Stage 4: 512 planes, stride 2.
  std::shared_ptr<nn::Sequential> layer1, layer2, layer3, layer4;
  std::shared_ptr<nn::AdaptiveAvgPool2d> avgpool;  ///< Global average pooling to 1x1.
  std::shared_ptr<nn::Linear> fc;                  ///< The classifier, 512 * expansion to num_classes.

 private:
  std::shared_ptr<nn::Sequential> make_layer(int64_t planes, int64_t blocks, int64_t stride);
  ResNetConfig cfg_;
  int64_t inplanes_ = 64;
  std::string name_;
};

/// ResNet-18 (torchvision.models.resnet18): BasicBlocks [2, 2, 2, 2], 11.7M parameters at
/// 1000 classes.
/// \pre  `args.num_classes`, `args.in_channels` positive.
/// \post a new ResNet in training mode, initialized as torchvision's; forward() maps
///       (N, args.in_channels, H, W), H, W >= 1, to (N, args.num_classes) logits.
/// \throws convnet::Error naming "resnet18" for a non-positive num_classes or in_channels.
std::shared_ptr<ResNet> resnet18(const ModelArgs& args = {});
/// ResNet-34 (torchvision.models.resnet34): BasicBlocks [3, 4, 6, 3]. Contract as resnet18().
std::shared_ptr<ResNet> resnet34(const ModelArgs& args = {});
/// ResNet-50 v1.5 (torchvision.models.resnet50): Bottlenecks [3, 4, 6, 3]. Contract as resnet18().
std::shared_ptr<ResNet> resnet50(const ModelArgs& args = {});
/// ResNet-101 v1.5 (torchvision.models.resnet101): Bottlenecks [3, 4, 23, 3]. Contract as resnet18().
std::shared_ptr<ResNet> resnet101(const ModelArgs& args = {});
/// ResNet-152 v1.5 (torchvision.models.resnet152): Bottlenecks [3, 8, 36, 3]. Contract as resnet18().
std::shared_ptr<ResNet> resnet152(const ModelArgs& args = {});
/// ResNeXt-50 32x4d (torchvision.models.resnext50_32x4d): Bottlenecks [3, 4, 6, 3], groups
/// 32, width_per_group 4. Contract as resnet18().
std::shared_ptr<ResNet> resnext50_32x4d(const ModelArgs& args = {});
/// Wide ResNet-50-2 (torchvision.models.wide_resnet50_2): Bottlenecks [3, 4, 6, 3],
/// width_per_group 128. Contract as resnet18().
std::shared_ptr<ResNet> wide_resnet50_2(const ModelArgs& args = {});

// ---- CIFAR ResNets ------------------------------------------------------------------

/// He et al. 2016's option A shortcut: x subsampled by `stride` (avg_pool2d with a 1x1
/// kernel, i.e. every stride-th pixel, as fb.resnet.torch's shortcutType 'A'), then
/// out_channels - in_channels zero channels appended after the existing ones. No parameters.
class ZeroPadShortcut : public nn::Module {
 public:
  /// A shortcut from `in_channels` to `out_channels` channels at `stride`.
  /// \pre  1 <= in_channels <= out_channels; stride >= 1.
  /// \throws convnet::Error "ZeroPadShortcut: needs 1 <= in_channels <= out_channels and
  ///         stride >= 1" with the values given, otherwise.
  ZeroPadShortcut(int64_t in_channels, int64_t out_channels, int64_t stride);
  /// The subsampled, zero-extended input.
  /// \pre  `x` is (N, in_channels, H, W).
  /// \post (N, out_channels, H', W'), H' = floor((H - 1) / stride) + 1 (W' alike); channels
  ///       [0, in_channels) are x's pixels (s*i, s*j), the others 0.
  /// \throws convnet::Error naming the layer and the expected (N, in_channels, H, W) for
  ///         another rank or channel count.
  Tensor forward(const Tensor& x) override;
  /// "ZeroPadShortcut".
  std::string type_name() const override { return "ZeroPadShortcut"; }
  /// "in, out, stride=s", as printed in the module tree.
  std::string extra_repr() const override;
  /// \var in_channels
  /// Channels of the input.
  /// \var out_channels
  /// Channels of the output (the last out_channels - in_channels are zeros).
  /// \var stride
  /// Subsampling factor in H and W.
  int64_t in_channels, out_channels, stride;
};

/// The shortcut where a CIFAR ResNet's shape changes.
enum class Shortcut {
  A,  ///< parameter-free: subsampling and zero channels (ZeroPadShortcut)
  B   ///< projection: 1x1 convolution + BatchNorm2d
};

/// He et al.'s CIFAR ResNet: conv1 (3x3, 16), bn1, relu, layer1..layer3 (BasicBlocks at
/// 16, 32, 64 channels; strides 1, 2, 2), avgpool (global), fc. depth = 6n + 2.
class CifarResNet : public nn::Module {
 public:
  /// Builds and initializes the network (init_resnet_weights_()). `name` ("resnet20",
  /// "resnet20_b", ...) names the model in error messages.
  /// \pre  `depth` = 6n + 2 with n >= 1 (20, 32, 44, 56, 110, ...); `args.num_classes`,
  ///       `args.in_channels` positive.
  /// \post fc has 64 inputs and args.num_classes outputs; the module is in training mode.
  /// \throws convnet::Error naming `name` for another depth, or a non-positive num_classes
  ///         or in_channels.
  CifarResNet(int64_t depth, Shortcut shortcut, const ModelArgs& args, std::string name);
  /// (N, in_channels, H, W) images to (N, num_classes) logits.
  /// \pre  `x` is 4-D with C = args.in_channels and H, W >= kResNetMinInputSize.
  /// \post (N, num_classes) logits (float32 outside autocast).
  /// \throws convnet::Error naming the model for an input that is not 4-D or is too small;
  ///         naming the layer ("conv1 (Conv2d)") for a wrong channel count.
  Tensor forward(const Tensor& x) override;
  /// "CifarResNet".
  std::string type_name() const override { return "CifarResNet"; }
  std::shared_ptr<nn::Conv2d> conv1;     ///< 3x3 convolution, in_channels to 16, no bias.
  std::shared_ptr<nn::BatchNorm2d> bn1;  ///< BatchNorm2d(16) after conv1.
  std::shared_ptr<nn::ReLU> relu;        ///< ReLU after bn1.
  /// \var layer1
  /// n BasicBlocks at 16 channels, stride 1.
  /// \var layer2
  /// n BasicBlocks at 32 channels, the first with stride 2.
  /// \var layer3
  /// n BasicBlocks at 64 channels, the first with stride 2.
  std::shared_ptr<nn::Sequential> layer1, layer2, layer3;
  std::shared_ptr<nn::AdaptiveAvgPool2d> avgpool;  ///< Global average pooling to 1x1.
  std::shared_ptr<nn::Linear> fc;                  ///< The classifier, 64 to num_classes.

 private:
  std::string name_;
};

/// The CIFAR ResNet of `depth` with option A or B shortcuts: the zoo's `resnet<depth>` and
/// `resnet<depth>_b`.
/// \pre  `depth` = 6n + 2, n >= 1; `args.num_classes`, `args.in_channels` positive.
/// \post a new CifarResNet named `resnet<depth>` (A) or `resnet<depth>_b` (B), in training
///       mode; forward() maps (N, args.in_channels, H, W), H, W >= 1, to
///       (N, args.num_classes) logits.
/// \throws convnet::Error as the CifarResNet constructor.
std::shared_ptr<CifarResNet> resnet_cifar(int64_t depth, Shortcut shortcut, const ModelArgs& args = {});

// ---- Wide ResNet --------------------------------------------------------------------

/// Pre-activation wide block (Zagoruyko and Komodakis 2016, Fig. 1d with dropout):
/// `o = relu(bn1(x)); y = conv2(dropout(relu(bn2(conv1(o))))); out = y + shortcut`
/// where the shortcut is x, or conv1x1(o) (stride s) where the shape changes, as in the
/// authors' code (the projection sees the pre-activated input).
class WideBasic : public nn::Module {
 public:
  /// A block from `in_planes` to `planes` channels; children bn1, relu, conv1, bn2, dropout,
  /// conv2 and, where stride != 1 or in_planes != planes, shortcut.
  /// \pre  `in_planes`, `planes`, `stride` positive; 0 <= `dropout` <= 1.
  /// \throws convnet::Error from the layers' constructors for non-positive sizes or a
  ///         dropout probability outside [0, 1].
  WideBasic(int64_t in_planes, int64_t planes, int64_t stride, double dropout);
  /// The block on `x`.
  /// \pre  `x` is (N, in_planes, H, W).
  /// \post (N, planes, H', W'), H' = floor((H - 1) / stride) + 1 (W' alike).
  /// \throws convnet::Error naming the layer for a wrong rank or channel count.
  Tensor forward(const Tensor& x) override;
  /// "WideBasic".
  std::string type_name() const override { return "WideBasic"; }
  /// \var bn1
  /// BatchNorm2d(in_planes) on the input (the pre-activation).
  /// \var bn2
  /// BatchNorm2d(planes) after conv1.
  std::shared_ptr<nn::BatchNorm2d> bn1, bn2;
  std::shared_ptr<nn::ReLU> relu;  ///< After bn1 and after bn2.
  /// \var conv1
  /// 3x3 convolution, in_planes to planes, with the block's stride.
  /// \var conv2
  /// 3x3 convolution, planes to planes.
  std::shared_ptr<nn::Conv2d> conv1, conv2;
  std::shared_ptr<nn::Dropout> dropout;  ///< Between relu(bn2(...)) and conv2.
  std::shared_ptr<nn::Conv2d> shortcut;  ///< 1x1 projection where the shape changes; nullptr: identity
};

/// Zagoruyko and Komodakis' WRN-d-k for CIFAR: conv1 (3x3, 16), layer1..layer3 (WideBasic
/// at 16k, 32k, 64k; strides 1, 2, 2), bn, relu, avgpool (global), fc. depth = 6n + 4.
class WideResNet : public nn::Module {
 public:
  /// Builds and initializes the network (init_resnet_weights_(), fc bias 0, as the authors'
  /// code). `name` ("wrn28_10") names the model in error messages.
  /// \pre  `depth` = 6n + 4 with n >= 1 (16, 22, 28, 40, ...); `widen_factor` >= 1;
  ///       0 <= `dropout` < 1; `args.num_classes`, `args.in_channels` positive.
  /// \post fc has 64 * widen_factor inputs and args.num_classes outputs; training mode.
  /// \throws convnet::Error naming `name` when any of these does not hold.
  WideResNet(int64_t depth, int64_t widen_factor, double dropout, const ModelArgs& args, std::string name);
  /// (N, in_channels, H, W) images to (N, num_classes) logits.
  /// \pre  `x` is 4-D with C = args.in_channels and H, W >= kResNetMinInputSize.
  /// \post (N, num_classes) logits (float32 outside autocast).
  /// \throws convnet::Error naming the model for an input that is not 4-D or is too small;
  ///         naming the layer ("conv1 (Conv2d)") for a wrong channel count.
  Tensor forward(const Tensor& x) override;
  /// "WideResNet".
  std::string type_name() const override { return "WideResNet"; }
  std::shared_ptr<nn::Conv2d> conv1;  ///< 3x3 convolution, in_channels to 16, no bias.
  /// \var layer1
  /// n WideBasic blocks at 16k channels, stride 1.
  /// \var layer2
  /// n WideBasic blocks at 32k channels, the first with stride 2.
  /// \var layer3
  /// n WideBasic blocks at 64k channels, the first with stride 2.
  std::shared_ptr<nn::Sequential> layer1, layer2, layer3;
  std::shared_ptr<nn::BatchNorm2d> bn;             ///< The final pre-activation BatchNorm2d(64k).
  std::shared_ptr<nn::ReLU> relu;                  ///< ReLU after bn.
  std::shared_ptr<nn::AdaptiveAvgPool2d> avgpool;  ///< Global average pooling to 1x1.
  std::shared_ptr<nn::Linear> fc;                  ///< The classifier, 64k to num_classes.

 private:
  std::string name_;
};

/// The Wide ResNet WRN-`depth`-`widen_factor` for CIFAR, named `wrn<depth>_<widen_factor>`.
/// The zoo's "wrn28_10" is wide_resnet_cifar(28, 10, 0.3): the paper's headline CIFAR result
/// for WRN-28-10 (3.89% / 18.85% error on CIFAR-10 / 100) uses dropout 0.3 between the
/// convolutions of each block. Pass dropout = 0 for the plain WRN-28-10.
/// \pre  as the WideResNet constructor.
/// \post a new WideResNet in training mode; forward() maps (N, args.in_channels, H, W),
///       H, W >= 1, to (N, args.num_classes) logits.
/// \throws convnet::Error as the WideResNet constructor.
std::shared_ptr<WideResNet> wide_resnet_cifar(int64_t depth, int64_t widen_factor, double dropout = 0.3,
                                              const ModelArgs& args = {});

}  // namespace convnet::models
#pragma GCC visibility pop
