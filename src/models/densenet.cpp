// DenseNet as torchvision 0.14's torchvision/models/densenet.py, and the CIFAR
// DenseNet-BC of Huang et al. 2017 (see densenet.h).
#include "convnet/models/densenet.h"

#include "convnet/core/error.h"
#include "convnet/nn/init.h"
#include "convnet/ops/activation.h"
#include "convnet/ops/concat.h"
#include "convnet/ops/pool2d.h"
#include "models/families.h"  // check_input_size

namespace convnet::models {

DenseLayer::DenseLayer(int64_t in_channels, int64_t growth_rate, int64_t bn_size, double drop_rate) {
  norm1_ = register_module("norm1", std::make_shared<nn::BatchNorm2d>(in_channels));
  relu1_ = register_module("relu1", std::make_shared<nn::ReLU>());
  conv1_ = register_module(
      "conv1", std::make_shared<nn::Conv2d>(nn::Conv2dOptions(in_channels, bn_size * growth_rate, 1).bias(false)));
  norm2_ = register_module("norm2", std::make_shared<nn::BatchNorm2d>(bn_size * growth_rate));
  relu2_ = register_module("relu2", std::make_shared<nn::ReLU>());
  conv2_ = register_module(
      "conv2",
      std::make_shared<nn::Conv2d>(nn::Conv2dOptions(bn_size * growth_rate, growth_rate, 3).padding(1).bias(false)));
  // torchvision applies F.dropout (no module, nothing in the state_dict); a parameterless
  // Dropout child changes no names either.
  if (drop_rate > 0) dropout_ = register_module("dropout", std::make_shared<nn::Dropout>(drop_rate));
}

Tensor DenseLayer::forward(const Tensor& x) {
  Tensor bottleneck = (*conv1_)((*relu1_)((*norm1_)(x)));  // (N, bn_size * k, H, W)
  Tensor y = (*conv2_)((*relu2_)((*norm2_)(bottleneck)));  // (N, k, H, W)
  return dropout_ ? (*dropout_)(y) : y;
}

DenseBlock::DenseBlock(int64_t num_layers, int64_t in_channels, int64_t bn_size, int64_t growth_rate, double drop_rate)
    : out_channels_(in_channels + num_layers * growth_rate) {
  for (int64_t i = 0; i < num_layers; ++i)
    layers_.push_back(
        register_module("denselayer" + std::to_string(i + 1),
                        std::make_shared<DenseLayer>(in_channels + i * growth_rate, growth_rate, bn_size, drop_rate)));
}

Tensor DenseBlock::forward(const Tensor& x) {
  // torchvision keeps a list [x, y1, .., y_{i-1}] and concatenates it in every layer; growing
  // one concatenated tensor gives layer i the same input, and the block the same output.
  Tensor features = x;
  for (auto& layer : layers_) features = ops::concat({features, (*layer)(features)}, 1, label());
  return features;
}

DenseTransition::DenseTransition(int64_t in_channels, int64_t out_channels) {
  add("norm", std::make_shared<nn::BatchNorm2d>(in_channels));
  add("relu", std::make_shared<nn::ReLU>());
  add("conv", std::make_shared<nn::Conv2d>(nn::Conv2dOptions(in_channels, out_channels, 1).bias(false)));
  add("pool", std::make_shared<nn::AvgPool2d>(2, 2));
}

int64_t densenet_min_input_size(const DenseNetConfig& cfg) {
  // Walk the spatial size through the stride-2 stages; the first H that leaves >= 1 pixel.
  const auto transitions = static_cast<int64_t>(cfg.block_config.size()) - 1;
  for (int64_t h = 1;; ++h) {
    int64_t s = h;
    if (cfg.imagenet_stem) {
      s = (s + 2 * 3 - 7) / 2 + 1;  // conv0 7x7/2 pad 3
      if (s < 1) continue;
      s = (s + 2 * 1 - 3) / 2 + 1;  // pool0 max 3/2 pad 1
      if (s < 1) continue;
    }
    for (int64_t t = 0; t < transitions; ++t) s /= 2;  // avg pool 2/2
    if (s >= 1) return h;
  }
}

DenseNet::DenseNet(const DenseNetConfig& cfg, const ModelArgs& a)
    : name_(cfg.name), min_input_size_(densenet_min_input_size(cfg)) {
  check_model_args(a, cfg.name);
  CONVNET_CHECK(!cfg.block_config.empty() && cfg.growth_rate >= 1 && cfg.num_init_features >= 1, cfg.name,
                ": needs at least one dense block, a positive growth rate and initial width");
  features_ = register_module("features", std::make_shared<nn::Sequential>());
  int64_t c = cfg.num_init_features;
  if (cfg.imagenet_stem) {
    features_->add(
        "conv0", std::make_shared<nn::Conv2d>(nn::Conv2dOptions(a.in_channels, c, 7).stride(2).padding(3).bias(false)));
    features_->add("norm0", std::make_shared<nn::BatchNorm2d>(c));
    features_->add("relu0", std::make_shared<nn::ReLU>());
    features_->add("pool0", std::make_shared<nn::MaxPool2d>(3, 2, 1));
  } else {
    // CIFAR (Huang et al. 2017, Sec. 3): one 3x3 convolution, no normalization or pooling
    // before the first block (each dense layer starts with BN-ReLU).
    features_->add("conv0",
                   std::make_shared<nn::Conv2d>(nn::Conv2dOptions(a.in_channels, c, 3).padding(1).bias(false)));
  }
  const auto nblocks = cfg.block_config.size();
  for (size_t i = 0; i < nblocks; ++i) {
    auto block = std::make_shared<DenseBlock>(cfg.block_config[i], c, cfg.bn_size, cfg.growth_rate, cfg.drop_rate);
    features_->add("denseblock" + std::to_string(i + 1), block);
    c = block->out_channels();
    if (i + 1 != nblocks) {
      // torchvision: num_features // 2, i.e. floor(compression * m) with compression 0.5.
      const auto out = static_cast<int64_t>(cfg.compression * static_cast<double>(c));
      features_->add("transition" + std::to_string(i + 1), std::make_shared<DenseTransition>(c, out));
      c = out;
    }
  }
  features_->add("norm5", std::make_shared<nn::BatchNorm2d>(c));
  num_features_ = c;
  classifier_ = register_module("classifier", std::make_shared<nn::Linear>(c, a.num_classes));

  // torchvision's "official init from torch repo".
  for (auto& [name, m] : named_modules()) {
    if (auto* conv = dynamic_cast<nn::Conv2d*>(m)) {
      nn::init::kaiming_normal_(conv->weight);  // fan_in, leaky_relu with a = 0: std sqrt(2 / fan_in)
    } else if (auto* bn = dynamic_cast<nn::BatchNorm*>(m)) {
      nn::init::ones_(bn->weight);
      nn::init::zeros_(bn->bias);
    } else if (auto* fc = dynamic_cast<nn::Linear*>(m)) {
      nn::init::zeros_(fc->bias);
    }
  }
}

Tensor DenseNet::forward(const Tensor& x) {
  check_input_size(x, min_input_size_, name_);
  Tensor y = ops::relu((*features_)(x));
  y = ops::adaptive_avg_pool2d(y, {1, 1}, label()).flatten(1);  // (N, num_features)
  return (*classifier_)(y);
}

DenseNetConfig densenet_config(const std::string& name) {
  DenseNetConfig c;
  c.name = name;
  if (name == "densenet121") {
    c.block_config = {6, 12, 24, 16};
  } else if (name == "densenet161") {
    c.growth_rate = 48, c.block_config = {6, 12, 36, 24}, c.num_init_features = 96;
  } else if (name == "densenet169") {
    c.block_config = {6, 12, 32, 32};
  } else if (name == "densenet201") {
    c.block_config = {6, 12, 48, 32};
  } else if (name == "densenet_bc_100_12") {
    // L = 100 = 3 blocks x 16 layers x 2 convolutions + conv0 + 2 transitions + classifier.
    c.growth_rate = 12, c.block_config = {16, 16, 16}, c.num_init_features = 2 * 12, c.imagenet_stem = false;
  } else {
    throw Error("densenet: unknown configuration '" + name +
                "' (densenet121, densenet161, densenet169, densenet201, densenet_bc_100_12)");
  }
  return c;
}

std::shared_ptr<DenseNet> densenet(const std::string& name, const ModelArgs& args) {
  return std::make_shared<DenseNet>(densenet_config(name), args);
}
std::shared_ptr<DenseNet> densenet121(const ModelArgs& a) {
  return densenet("densenet121", a);
}
std::shared_ptr<DenseNet> densenet161(const ModelArgs& a) {
  return densenet("densenet161", a);
}
std::shared_ptr<DenseNet> densenet169(const ModelArgs& a) {
  return densenet("densenet169", a);
}
std::shared_ptr<DenseNet> densenet201(const ModelArgs& a) {
  return densenet("densenet201", a);
}
std::shared_ptr<DenseNet> densenet_bc_100_12(const ModelArgs& a) {
  return densenet("densenet_bc_100_12", a);
}

}  // namespace convnet::models
