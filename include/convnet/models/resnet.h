#pragma once
// The ResNet family.
//
// ImageNet ResNets, exactly torchvision 0.14's models/resnet.py (He et al. 2016, "Deep
// Residual Learning for Image Recognition"; ResNeXt, Xie et al. 2017; Wide ResNet-50-2,
// Zagoruyko & Komodakis 2016): conv1 7x7/2, bn1, relu, maxpool 3x3/2, layer1..layer4,
// avgpool, fc; BasicBlock (resnet18/34) or Bottleneck with the stride on its 3x3 conv
// ("ResNet v1.5"); a projection `downsample` = Sequential(conv1x1, BN) where the shape
// changes. Parameter names equal torchvision's state_dict keys ("layer1.0.conv1.weight",
// "layer2.0.downsample.0.weight", "fc.bias").
//
// CIFAR ResNets (He et al. 2016, section 4.2): conv1 3x3 -> 16 channels, three stages of
// n BasicBlocks at 16, 32, 64 channels (depth 6n + 2), global average pooling, fc.
//   option A ("resnet20" ...): every shortcut is parameter-free: identity, or where the
//     shape changes, subsampling by stride 2 and zero channels appended (ZeroPadShortcut).
//   option B ("resnet20_b" ...): a 1x1 conv projection + BN where the shape changes, as
//     the PyTorch peer's resnet_cifar in shared/bench/pytorch_peer.py.
//
// Wide ResNet WRN-d-k for CIFAR (Zagoruyko & Komodakis 2016): pre-activation blocks
// BN-ReLU-conv3x3-BN-ReLU-dropout-conv3x3 at widths 16k, 32k, 64k, (d-4)/6 per stage.
//
// All convolutions are initialized with kaiming_normal_(fan_out, relu) and BatchNorm with
// weight 1, bias 0 (torchvision's ResNet scheme; init_resnet_weights_).
#include <array>
#include <memory>
#include <string>

#include "convnet/models/registry.h"
#include "convnet/nn/layers.h"
#include "convnet/nn/sequential.h"

namespace convnet::models {

// The smallest H = W every model in this header accepts: padded 3x3 / 7x7 convolutions and
// padded pooling keep H, W >= 1 at any stride, and global average pooling ends the network
// (torchvision's weights meta says "min_size": (1, 1) too). A 1x1 input is no useful image.
constexpr int64_t kResNetMinInputSize = 1;

// The "layer" name of a block's residual add in error messages: "layer1.0 (residual add)".
std::string residual_label(const nn::Module& block);

// torchvision's helpers: bias-free 3x3 (padding 1) and 1x1 convolutions.
std::shared_ptr<nn::Conv2d> conv3x3(int64_t in_planes, int64_t out_planes, int64_t stride = 1, int64_t groups = 1);
std::shared_ptr<nn::Conv2d> conv1x1(int64_t in_planes, int64_t out_planes, int64_t stride = 1);

// Every Conv2d below m: kaiming_normal_(fan_out, relu), bias 0; every BatchNorm: weight 1,
// bias 0. Linear layers keep PyTorch's default initialization (as torchvision's ResNet).
void init_resnet_weights_(nn::Module& m);

// out = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)); conv1 carries the stride.
// `downsample` is the shortcut where the shape changes (nullptr: identity).
class BasicBlock : public nn::Module {
 public:
  static constexpr int64_t expansion = 1;
  BasicBlock(int64_t inplanes, int64_t planes, int64_t stride = 1, nn::ModulePtr downsample = nullptr);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "BasicBlock"; }
  std::shared_ptr<nn::Conv2d> conv1, conv2;
  std::shared_ptr<nn::BatchNorm2d> bn1, bn2;
  std::shared_ptr<nn::ReLU> relu;
  nn::ModulePtr downsample;
};

// 1x1 (reduce to width) -> 3x3 (stride, groups) -> 1x1 (expand to 4 * planes), each with
// BN, ReLU after the first two and after the residual add.
// width = int(planes * base_width / 64) * groups.
class Bottleneck : public nn::Module {
 public:
  static constexpr int64_t expansion = 4;
  Bottleneck(int64_t inplanes, int64_t planes, int64_t stride = 1, nn::ModulePtr downsample = nullptr,
             int64_t groups = 1, int64_t base_width = 64);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Bottleneck"; }
  std::shared_ptr<nn::Conv2d> conv1, conv2, conv3;
  std::shared_ptr<nn::BatchNorm2d> bn1, bn2, bn3;
  std::shared_ptr<nn::ReLU> relu;
  nn::ModulePtr downsample;
};

struct ResNetConfig {
  bool bottleneck = false;          // BasicBlock or Bottleneck
  std::array<int64_t, 4> layers{};  // blocks per stage
  int64_t groups = 1;               // ResNeXt cardinality
  int64_t width_per_group = 64;     // 128 for wide_resnet50_2, 4 for resnext50_32x4d
  bool zero_init_residual = false;  // torchvision's option: last BN of each block starts at 0
};

// torchvision's ResNet; the first convolution takes args.in_channels.
class ResNet : public nn::Module {
 public:
  ResNet(const ResNetConfig& cfg, const ModelArgs& args, std::string name);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "ResNet"; }
  std::shared_ptr<nn::Conv2d> conv1;
  std::shared_ptr<nn::BatchNorm2d> bn1;
  std::shared_ptr<nn::ReLU> relu;
  std::shared_ptr<nn::MaxPool2d> maxpool;
  std::shared_ptr<nn::Sequential> layer1, layer2, layer3, layer4;
  std::shared_ptr<nn::AdaptiveAvgPool2d> avgpool;
  std::shared_ptr<nn::Linear> fc;

 private:
  std::shared_ptr<nn::Sequential> make_layer(int64_t planes, int64_t blocks, int64_t stride);
  ResNetConfig cfg_;
  int64_t inplanes_ = 64;
  std::string name_;
};

std::shared_ptr<ResNet> resnet18(const ModelArgs& args = {});
std::shared_ptr<ResNet> resnet34(const ModelArgs& args = {});
std::shared_ptr<ResNet> resnet50(const ModelArgs& args = {});
std::shared_ptr<ResNet> resnet101(const ModelArgs& args = {});
std::shared_ptr<ResNet> resnet152(const ModelArgs& args = {});
std::shared_ptr<ResNet> resnext50_32x4d(const ModelArgs& args = {});
std::shared_ptr<ResNet> wide_resnet50_2(const ModelArgs& args = {});

// ---- CIFAR ResNets ------------------------------------------------------------------

// He et al. 2016's option A shortcut: x subsampled by `stride` (avg_pool2d with a 1x1
// kernel, i.e. every stride-th pixel, as fb.resnet.torch's shortcutType 'A'), then
// out_channels - in_channels zero channels appended after the existing ones. No parameters.
class ZeroPadShortcut : public nn::Module {
 public:
  ZeroPadShortcut(int64_t in_channels, int64_t out_channels, int64_t stride);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "ZeroPadShortcut"; }
  std::string extra_repr() const override;
  int64_t in_channels, out_channels, stride;
};

enum class Shortcut { A, B };

// conv1 (3x3, 16), bn1, relu, layer1..layer3 (BasicBlocks at 16, 32, 64 channels),
// avgpool (global), fc. depth = 6n + 2.
class CifarResNet : public nn::Module {
 public:
  CifarResNet(int64_t depth, Shortcut shortcut, const ModelArgs& args, std::string name);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "CifarResNet"; }
  std::shared_ptr<nn::Conv2d> conv1;
  std::shared_ptr<nn::BatchNorm2d> bn1;
  std::shared_ptr<nn::ReLU> relu;
  std::shared_ptr<nn::Sequential> layer1, layer2, layer3;
  std::shared_ptr<nn::AdaptiveAvgPool2d> avgpool;
  std::shared_ptr<nn::Linear> fc;

 private:
  std::string name_;
};

std::shared_ptr<CifarResNet> resnet_cifar(int64_t depth, Shortcut shortcut, const ModelArgs& args = {});

// ---- Wide ResNet --------------------------------------------------------------------

// Pre-activation wide block (Zagoruyko & Komodakis 2016, Fig. 1d with dropout):
//   o = relu(bn1(x)); y = conv2(dropout(relu(bn2(conv1(o))))); out = y + shortcut
// where the shortcut is x, or conv1x1(o) (stride s) where the shape changes, as in the
// authors' code (the projection sees the pre-activated input).
class WideBasic : public nn::Module {
 public:
  WideBasic(int64_t in_planes, int64_t planes, int64_t stride, double dropout);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "WideBasic"; }
  std::shared_ptr<nn::BatchNorm2d> bn1, bn2;
  std::shared_ptr<nn::ReLU> relu;
  std::shared_ptr<nn::Conv2d> conv1, conv2;
  std::shared_ptr<nn::Dropout> dropout;
  std::shared_ptr<nn::Conv2d> shortcut;  // nullptr: identity
};

// conv1 (3x3, 16), layer1..layer3 (WideBasic at 16k, 32k, 64k; strides 1, 2, 2), bn, relu,
// avgpool (global), fc. depth = 6n + 4.
class WideResNet : public nn::Module {
 public:
  WideResNet(int64_t depth, int64_t widen_factor, double dropout, const ModelArgs& args, std::string name);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "WideResNet"; }
  std::shared_ptr<nn::Conv2d> conv1;
  std::shared_ptr<nn::Sequential> layer1, layer2, layer3;
  std::shared_ptr<nn::BatchNorm2d> bn;
  std::shared_ptr<nn::ReLU> relu;
  std::shared_ptr<nn::AdaptiveAvgPool2d> avgpool;
  std::shared_ptr<nn::Linear> fc;

 private:
  std::string name_;
};

// The zoo's "wrn28_10" is wide_resnet_cifar(28, 10, 0.3): the paper's headline CIFAR result
// for WRN-28-10 (3.89% / 18.85% error on CIFAR-10 / 100) uses dropout 0.3 between the
// convolutions of each block. Pass dropout = 0 for the plain WRN-28-10.
std::shared_ptr<WideResNet> wide_resnet_cifar(int64_t depth, int64_t widen_factor, double dropout = 0.3,
                                              const ModelArgs& args = {});

}  // namespace convnet::models
