// torchvision 0.14's ResNet (models/resnet.py), module for module, and the zoo entries of
// the whole ResNet family (CIFAR ResNets and WRN in resnet_cifar.cpp, MobileNetV2 in
// mobilenet.cpp).
#include "convnet/models/resnet.h"

#include "convnet/core/error.h"
#include "convnet/models/mobilenet.h"
#include "convnet/nn/init.h"
#include "convnet/ops/elementwise.h"
#include "models/families.h"

namespace convnet::models {

std::shared_ptr<nn::Conv2d> conv3x3(int64_t in_planes, int64_t out_planes, int64_t stride, int64_t groups) {
  return std::make_shared<nn::Conv2d>(
      nn::Conv2dOptions(in_planes, out_planes, 3).stride(stride).padding(1).groups(groups).bias(false));
}

std::shared_ptr<nn::Conv2d> conv1x1(int64_t in_planes, int64_t out_planes, int64_t stride) {
  return std::make_shared<nn::Conv2d>(nn::Conv2dOptions(in_planes, out_planes, 1).stride(stride).bias(false));
}

void init_resnet_weights_(nn::Module& m) {
  for (auto& [name, mod] : m.named_modules()) {
    if (auto* conv = dynamic_cast<nn::Conv2d*>(mod)) {
      nn::init::kaiming_normal_(conv->weight, 0, nn::init::FanMode::FanOut, "relu");
      if (conv->bias.defined()) nn::init::zeros_(conv->bias);
    } else if (auto* bn = dynamic_cast<nn::BatchNorm*>(mod)) {
      if (bn->weight.defined()) nn::init::ones_(bn->weight);
      if (bn->bias.defined()) nn::init::zeros_(bn->bias);
    }
  }
}

// ---- blocks -------------------------------------------------------------------------

std::string residual_label(const nn::Module& block) {
  return block.path().empty() ? "residual add" : block.path() + " (residual add)";
}

BasicBlock::BasicBlock(int64_t inplanes, int64_t planes, int64_t stride, nn::ModulePtr ds) {
  // Registration order = torchvision's attribute order, so state_dict keys iterate alike.
  conv1 = register_module("conv1", conv3x3(inplanes, planes, stride));
  bn1 = register_module("bn1", std::make_shared<nn::BatchNorm2d>(planes));
  relu = register_module("relu", std::make_shared<nn::ReLU>());
  conv2 = register_module("conv2", conv3x3(planes, planes));
  bn2 = register_module("bn2", std::make_shared<nn::BatchNorm2d>(planes));
  if (ds) downsample = register_module("downsample", ds);
}

Tensor BasicBlock::forward(const Tensor& x) {
  Tensor out = (*relu)((*bn1)((*conv1)(x)));
  out = (*bn2)((*conv2)(out));
  const Tensor identity = downsample ? (*downsample)(x) : x;
  return (*relu)(ops::add(out, identity, residual_label(*this)));
}

Bottleneck::Bottleneck(int64_t inplanes, int64_t planes, int64_t stride, nn::ModulePtr ds, int64_t groups,
                       int64_t base_width) {
  // torchvision: width = int(planes * (base_width / 64.0)) * groups.
  const int64_t width =
      static_cast<int64_t>(static_cast<double>(planes) * (static_cast<double>(base_width) / 64.0)) * groups;
  conv1 = register_module("conv1", conv1x1(inplanes, width));
  bn1 = register_module("bn1", std::make_shared<nn::BatchNorm2d>(width));
  conv2 = register_module("conv2", conv3x3(width, width, stride, groups));  // v1.5: the stride is here
  bn2 = register_module("bn2", std::make_shared<nn::BatchNorm2d>(width));
  conv3 = register_module("conv3", conv1x1(width, planes * expansion));
  bn3 = register_module("bn3", std::make_shared<nn::BatchNorm2d>(planes * expansion));
  relu = register_module("relu", std::make_shared<nn::ReLU>());
  if (ds) downsample = register_module("downsample", ds);
}

Tensor Bottleneck::forward(const Tensor& x) {
  Tensor out = (*relu)((*bn1)((*conv1)(x)));
  out = (*relu)((*bn2)((*conv2)(out)));
  out = (*bn3)((*conv3)(out));
  const Tensor identity = downsample ? (*downsample)(x) : x;
  return (*relu)(ops::add(out, identity, residual_label(*this)));
}

// ---- ResNet -------------------------------------------------------------------------

ResNet::ResNet(const ResNetConfig& cfg, const ModelArgs& a, std::string name) : cfg_(cfg), name_(std::move(name)) {
  check_model_args(a, name_);
  CONVNET_CHECK(!cfg.bottleneck ? (cfg.groups == 1 && cfg.width_per_group == 64) : true, name_,
                ": BasicBlock only supports groups=1 and base_width=64");
  conv1 = register_module(
      "conv1", std::make_shared<nn::Conv2d>(nn::Conv2dOptions(a.in_channels, 64, 7).stride(2).padding(3).bias(false)));
  bn1 = register_module("bn1", std::make_shared<nn::BatchNorm2d>(64));
  relu = register_module("relu", std::make_shared<nn::ReLU>());
  maxpool = register_module("maxpool", std::make_shared<nn::MaxPool2d>(3, 2, 1));
  layer1 = register_module("layer1", make_layer(64, cfg.layers[0], 1));
  layer2 = register_module("layer2", make_layer(128, cfg.layers[1], 2));
  layer3 = register_module("layer3", make_layer(256, cfg.layers[2], 2));
  layer4 = register_module("layer4", make_layer(512, cfg.layers[3], 2));
  avgpool = register_module("avgpool", std::make_shared<nn::AdaptiveAvgPool2d>(1));
  const int64_t expansion = cfg.bottleneck ? Bottleneck::expansion : BasicBlock::expansion;
  fc = register_module("fc", std::make_shared<nn::Linear>(512 * expansion, a.num_classes));
  init_resnet_weights_(*this);
  // Zero-initialize the last BN of each residual branch so every block starts as the
  // identity (Goyal et al. 2017); off by default, as in torchvision.
  if (cfg.zero_init_residual)
    for (auto& [n, m] : named_modules()) {
      if (auto* b = dynamic_cast<Bottleneck*>(m)) nn::init::zeros_(b->bn3->weight);
      if (auto* b = dynamic_cast<BasicBlock*>(m)) nn::init::zeros_(b->bn2->weight);
    }
}

// torchvision's _make_layer (without dilation): the first block takes the stride and, where
// the shape changes, a projection shortcut Sequential(conv1x1(stride), BN).
std::shared_ptr<nn::Sequential> ResNet::make_layer(int64_t planes, int64_t blocks, int64_t stride) {
  const int64_t expansion = cfg_.bottleneck ? Bottleneck::expansion : BasicBlock::expansion;
  nn::ModulePtr downsample;
  if (stride != 1 || inplanes_ != planes * expansion) {
    auto ds = std::make_shared<nn::Sequential>();
    ds->add(conv1x1(inplanes_, planes * expansion, stride));
    ds->add(std::make_shared<nn::BatchNorm2d>(planes * expansion));
    downsample = ds;
  }
  auto block = [&](int64_t s, nn::ModulePtr ds) -> nn::ModulePtr {
    if (cfg_.bottleneck)
      return std::make_shared<Bottleneck>(inplanes_, planes, s, ds, cfg_.groups, cfg_.width_per_group);
    return std::make_shared<BasicBlock>(inplanes_, planes, s, ds);
  };
  auto layer = std::make_shared<nn::Sequential>();
  layer->add(block(stride, downsample));
  inplanes_ = planes * expansion;
  for (int64_t i = 1; i < blocks; ++i) layer->add(block(1, nullptr));
  return layer;
}

Tensor ResNet::forward(const Tensor& x) {
  check_input_size(x, kResNetMinInputSize, name_);
  Tensor y = (*maxpool)((*relu)((*bn1)((*conv1)(x))));
  y = (*layer4)((*layer3)((*layer2)((*layer1)(y))));
  return (*fc)((*avgpool)(y).flatten(1));
}

namespace {
std::shared_ptr<ResNet> make(const ModelArgs& a, const std::string& name, bool bottleneck,
                             std::array<int64_t, 4> layers, int64_t groups = 1, int64_t width_per_group = 64) {
  ResNetConfig c;
  c.bottleneck = bottleneck;
  c.layers = layers;
  c.groups = groups;
  c.width_per_group = width_per_group;
  return std::make_shared<ResNet>(c, a, name);
}
}  // namespace

std::shared_ptr<ResNet> resnet18(const ModelArgs& a) {
  return make(a, "resnet18", false, {2, 2, 2, 2});
}
std::shared_ptr<ResNet> resnet34(const ModelArgs& a) {
  return make(a, "resnet34", false, {3, 4, 6, 3});
}
std::shared_ptr<ResNet> resnet50(const ModelArgs& a) {
  return make(a, "resnet50", true, {3, 4, 6, 3});
}
std::shared_ptr<ResNet> resnet101(const ModelArgs& a) {
  return make(a, "resnet101", true, {3, 4, 23, 3});
}
std::shared_ptr<ResNet> resnet152(const ModelArgs& a) {
  return make(a, "resnet152", true, {3, 8, 36, 3});
}
std::shared_ptr<ResNet> resnext50_32x4d(const ModelArgs& a) {
  return make(a, "resnext50_32x4d", true, {3, 4, 6, 3}, 32, 4);
}
std::shared_ptr<ResNet> wide_resnet50_2(const ModelArgs& a) {
  return make(a, "wide_resnet50_2", true, {3, 4, 6, 3}, 1, 64 * 2);
}

// ---- zoo entries --------------------------------------------------------------------

void add_resnet_models(std::vector<ModelInfo>& zoo) {
  auto tv = [&](const std::string& name, const std::string& desc, std::shared_ptr<ResNet> (*f)(const ModelArgs&)) {
    zoo.push_back(
        {name, desc, [f](const ModelArgs& a) -> nn::ModulePtr { return f(a); }, kResNetMinInputSize, 224, true});
  };
  tv("resnet18", "ResNet-18 (He et al. 2016), torchvision: BasicBlocks [2, 2, 2, 2], 11.7M params", &resnet18);
  tv("resnet34", "ResNet-34, torchvision: BasicBlocks [3, 4, 6, 3], 21.8M params", &resnet34);
  tv("resnet50", "ResNet-50 v1.5, torchvision: Bottlenecks [3, 4, 6, 3], 25.6M params", &resnet50);
  tv("resnet101", "ResNet-101 v1.5, torchvision: Bottlenecks [3, 4, 23, 3], 44.5M params", &resnet101);
  tv("resnet152", "ResNet-152 v1.5, torchvision: Bottlenecks [3, 8, 36, 3], 60.2M params", &resnet152);
  tv("resnext50_32x4d", "ResNeXt-50 32x4d (Xie et al. 2017), torchvision: grouped 3x3 convs, 25.0M params",
     &resnext50_32x4d);
  tv("wide_resnet50_2", "Wide ResNet-50-2, torchvision: Bottlenecks twice as wide, 68.9M params", &wide_resnet50_2);

  // CIFAR ResNets, He et al. 2016 section 4.2 (Table 6): depth 6n + 2.
  for (int64_t depth : {20, 32, 44, 56, 110}) {
    const std::string d = std::to_string(depth);
    zoo.push_back({"resnet" + d,
                   "ResNet-" + d + " for CIFAR (He et al. 2016, 4.2), option A: parameter-free zero-padding shortcuts",
                   [depth](const ModelArgs& a) -> nn::ModulePtr { return resnet_cifar(depth, Shortcut::A, a); },
                   kResNetMinInputSize, 32});
  }
  for (int64_t depth : {20, 32, 44, 56, 110}) {
    const std::string d = std::to_string(depth);
    zoo.push_back({"resnet" + d + "_b",
                   "ResNet-" + d + " for CIFAR, option B: 1x1 conv + BN projection shortcuts (as the PyTorch peer)",
                   [depth](const ModelArgs& a) -> nn::ModulePtr { return resnet_cifar(depth, Shortcut::B, a); },
                   kResNetMinInputSize, 32});
  }
  zoo.push_back(
      {"wrn28_10", "Wide ResNet-28-10 (Zagoruyko & Komodakis 2016), pre-activation, dropout 0.3, 36.5M params",
       [](const ModelArgs& a) -> nn::ModulePtr { return wide_resnet_cifar(28, 10, 0.3, a); }, kResNetMinInputSize, 32});

  zoo.push_back(
      {"mobilenet_v2", "MobileNetV2 (Sandler et al. 2018), torchvision: inverted residuals, ReLU6, 3.5M params",
       [](const ModelArgs& a) -> nn::ModulePtr { return mobilenet_v2(a); }, kMobileNetV2MinInputSize, 224, true});
  zoo.push_back({"mobilenet_v3_large",
                 "MobileNetV3-Large (Howard et al. 2019), torchvision: hardswish, squeeze-and-excitation, 5.5M params",
                 [](const ModelArgs& a) -> nn::ModulePtr { return mobilenet_v3_large(a); }, 1, 224, true});
  zoo.push_back({"mobilenet_v3_small",
                 "MobileNetV3-Small (Howard et al. 2019), torchvision: hardswish, squeeze-and-excitation, 2.5M params",
                 [](const ModelArgs& a) -> nn::ModulePtr { return mobilenet_v3_small(a); }, 1, 224, true});
}

}  // namespace convnet::models
