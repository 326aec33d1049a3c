#pragma once
// MobileNetV2 (Sandler et al. 2018, "MobileNetV2: Inverted Residuals and Linear
// Bottlenecks"), exactly torchvision 0.14's models/mobilenetv2.py:
//   features.0      Conv2dNormActivation(C, 32, 3, stride 2) with ReLU6
//   features.1..17  InvertedResidual blocks, settings (t, c, n, s):
//                   (1,16,1,1) (6,24,2,2) (6,32,3,2) (6,64,4,2) (6,96,3,1) (6,160,3,2) (6,320,1,1)
//   features.18     Conv2dNormActivation(320, 1280, 1) with ReLU6
//   adaptive_avg_pool2d(1) (a function call, as torchvision: no module), flatten
//   classifier      Dropout(0.2), Linear(1280, K)
// Parameter names equal torchvision's state_dict keys ("features.0.0.weight",
// "features.1.conv.0.0.weight", "features.2.conv.3.running_mean", "classifier.1.bias").
// Init as torchvision: conv kaiming_normal_(fan_out), BN 1/0, Linear N(0, 0.01) bias 0.
#include <memory>
#include <string>

#include "convnet/models/registry.h"
#include "convnet/nn/layers.h"
#include "convnet/nn/sequential.h"

namespace convnet::models {

// Stride-2 padded convolutions keep H, W >= 1 for any input >= 1x1 (torchvision's meta:
// "min_size": (1, 1)).
constexpr int64_t kMobileNetV2MinInputSize = 1;

// torchvision's _make_divisible (from the TensorFlow reference): v rounded to the nearest
// multiple of `divisor` (at least min_value, default divisor), never more than 10% below v.
int64_t make_divisible(double v, int64_t divisor, int64_t min_value = 0);

// Conv2d (no bias, padding (k-1)/2) -> BatchNorm2d -> ReLU6, children "0", "1", "2" as
// torchvision's Conv2dNormActivation (a Sequential).
class Conv2dNormActivation : public nn::Sequential {
 public:
  Conv2dNormActivation(int64_t in_channels, int64_t out_channels, int64_t kernel_size = 3, int64_t stride = 1,
                       int64_t groups = 1);
  std::string type_name() const override { return "Conv2dNormActivation"; }
};

// Expansion 1x1 (skipped when t = 1) -> depthwise 3x3 (stride) -> linear 1x1 projection + BN
// ("linear bottleneck": no activation after it), in the Sequential "conv"; x + conv(x) when
// stride is 1 and the channel count is unchanged.
class InvertedResidual : public nn::Module {
 public:
  InvertedResidual(int64_t inp, int64_t oup, int64_t stride, int64_t expand_ratio);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "InvertedResidual"; }
  std::shared_ptr<nn::Sequential> conv;
  bool use_res_connect;
};

class MobileNetV2 : public nn::Module {
 public:
  MobileNetV2(const ModelArgs& args, double width_mult = 1.0, double dropout = 0.2, int64_t round_nearest = 8);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "MobileNetV2"; }
  std::shared_ptr<nn::Sequential> features, classifier;
  int64_t last_channel;
};

std::shared_ptr<MobileNetV2> mobilenet_v2(const ModelArgs& args = {});

}  // namespace convnet::models
