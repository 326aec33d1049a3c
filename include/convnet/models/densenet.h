#pragma once
// DenseNet (Huang et al., "Densely Connected Convolutional Networks", CVPR 2017), the
// BC form (bottleneck layers + compression 0.5):
//
// densenet121/161/169/201: exactly torchvision 0.14's torchvision/models/densenet.py, so
// its state_dict keys load unchanged ("features.denseblock1.denselayer1.norm1.weight",
// "features.transition1.conv.weight", "features.norm5.running_var", "classifier.bias"):
//   features: conv0 7x7/2 (no bias) - norm0 - relu0 - pool0 maxpool 3/2 pad 1
//             denseblock1 - transition1 - ... - denseblock4 - norm5
//   forward:  features - ReLU - adaptive avg pool 1x1 - flatten - classifier (Linear)
//               name         k   blocks          init features
//               densenet121  32  (6, 12, 24, 16)  64
//               densenet161  48  (6, 12, 36, 24)  96
//               densenet169  32  (6, 12, 32, 32)  64
//               densenet201  32  (6, 12, 48, 32)  64
//   Initialization as torchvision: kaiming_normal_ (fan_in, gain sqrt(2)) for every
//   convolution, BatchNorm weight 1 bias 0, classifier bias 0 (its weight keeps PyTorch's
//   default). bn_size 4, drop_rate 0 (torchvision's defaults).
//
// densenet_bc_100_12: the paper's CIFAR DenseNet-BC with L = 100, k = 12: conv0 3x3 with
//   2k = 24 channels and no pooling, three dense blocks of (L - 4) / 6 = 16 bottleneck layers,
//   transitions halving the channels (compression 0.5) and pooling 2x2, then norm5. The
//   same module names as torchvision's DenseNet; 769,162 parameters at 10 classes (the
//   paper's "0.8M").
//
// Dense layer (k = growth rate): norm1 - relu1 - conv1 1x1 (bn_size * k) - norm2 - relu2 -
// conv2 3x3 (k). A dense block feeds layer i the concatenation (ops::concat along channels)
// of the block input and the outputs of layers 1..i-1, so layer i sees C0 + (i-1)k channels
// and the block returns C0 + L k channels. Transition: norm - relu - conv 1x1 - avgpool 2/2.
#include <memory>
#include <vector>

#include "convnet/models/registry.h"
#include "convnet/nn/layers.h"
#include "convnet/nn/sequential.h"

namespace convnet::models {

// torchvision's _DenseLayer; children norm1, relu1, conv1, norm2, relu2, conv2.
// Input: the concatenated features (N, C, H, W); output: the k new ones (N, k, H, W).
class DenseLayer : public nn::Module {
 public:
  DenseLayer(int64_t in_channels, int64_t growth_rate, int64_t bn_size, double drop_rate = 0.0);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "_DenseLayer"; }

 private:
  std::shared_ptr<nn::BatchNorm2d> norm1_, norm2_;
  std::shared_ptr<nn::ReLU> relu1_, relu2_;
  std::shared_ptr<nn::Conv2d> conv1_, conv2_;
  std::shared_ptr<nn::Dropout> dropout_;  // only when drop_rate > 0 (unnamed in torchvision)
};

// torchvision's _DenseBlock; children denselayer1 .. denselayerL.
class DenseBlock : public nn::Module {
 public:
  DenseBlock(int64_t num_layers, int64_t in_channels, int64_t bn_size, int64_t growth_rate, double drop_rate = 0.0);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "_DenseBlock"; }
  int64_t out_channels() const { return out_channels_; }

 private:
  std::vector<std::shared_ptr<DenseLayer>> layers_;
  int64_t out_channels_;
};

// torchvision's _Transition (a Sequential): norm, relu, conv 1x1 (no bias), pool avg 2/2.
class DenseTransition : public nn::Sequential {
 public:
  DenseTransition(int64_t in_channels, int64_t out_channels);
  std::string type_name() const override { return "_Transition"; }
};

struct DenseNetConfig {
  int64_t growth_rate = 32;
  std::vector<int64_t> block_config{6, 12, 24, 16};
  int64_t num_init_features = 64;
  int64_t bn_size = 4;
  double drop_rate = 0.0;
  // ImageNet stem (7x7/2 conv + 3x3/2 max pool) or CIFAR stem (3x3 conv, no pooling).
  bool imagenet_stem = true;
  double compression = 0.5;
  std::string name = "densenet121";  // for error messages
};

class DenseNet : public nn::Module {
 public:
  DenseNet(const DenseNetConfig& cfg, const ModelArgs& args);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "DenseNet"; }
  // The smallest H = W the geometry accepts: every stride-2 stage needs at least 1 pixel
  // left after the last transition.
  int64_t min_input_size() const { return min_input_size_; }
  int64_t num_features() const { return num_features_; }  // channels into the classifier

 private:
  std::shared_ptr<nn::Sequential> features_;
  std::shared_ptr<nn::Linear> classifier_;
  std::string name_;
  int64_t min_input_size_;
  int64_t num_features_;
};

DenseNetConfig densenet_config(const std::string& name);  // the five zoo names
int64_t densenet_min_input_size(const DenseNetConfig& cfg);
std::shared_ptr<DenseNet> densenet(const std::string& name, const ModelArgs& args = {});
std::shared_ptr<DenseNet> densenet121(const ModelArgs& args = {});
std::shared_ptr<DenseNet> densenet161(const ModelArgs& args = {});
std::shared_ptr<DenseNet> densenet169(const ModelArgs& args = {});
std::shared_ptr<DenseNet> densenet201(const ModelArgs& args = {});
std::shared_ptr<DenseNet> densenet_bc_100_12(const ModelArgs& args = {});

}  // namespace convnet::models
