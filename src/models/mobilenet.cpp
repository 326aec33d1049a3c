// MobileNetV2, module for module as torchvision 0.14's models/mobilenetv2.py.
#include "convnet/models/mobilenet.h"

#include <algorithm>
#include <cmath>

#include "convnet/core/error.h"
#include "convnet/models/resnet.h"
#include "convnet/nn/init.h"
#include "convnet/ops/elementwise.h"
#include "convnet/ops/pool2d.h"
#include "models/families.h"

namespace convnet::models {

int64_t make_divisible(double v, int64_t divisor, int64_t min_value) {
  if (min_value <= 0) min_value = divisor;
  const auto d = static_cast<double>(divisor);
  int64_t new_v = std::max(min_value, static_cast<int64_t>(v + d / 2) / divisor * divisor);
  if (static_cast<double>(new_v) < 0.9 * v) new_v += divisor;  // never round down by more than 10%
  return new_v;
}

Conv2dNormActivation::Conv2dNormActivation(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t groups) {
  add(std::make_shared<nn::Conv2d>(
      nn::Conv2dOptions(in, out, k).stride(stride).padding((k - 1) / 2).groups(groups).bias(false)));
  add(std::make_shared<nn::BatchNorm2d>(out));
  add(std::make_shared<nn::ReLU6>());
}

InvertedResidual::InvertedResidual(int64_t inp, int64_t oup, int64_t stride, int64_t t)
    : use_res_connect(stride == 1 && inp == oup) {
  CONVNET_CHECK(stride == 1 || stride == 2, "InvertedResidual: stride should be 1 or 2, got ", stride);
  const int64_t hidden = inp * t;
  conv = std::make_shared<nn::Sequential>();
  if (t != 1) conv->add(std::make_shared<Conv2dNormActivation>(inp, hidden, 1));           // pointwise expansion
  conv->add(std::make_shared<Conv2dNormActivation>(hidden, hidden, 3, stride, hidden));    // depthwise
  conv->add(std::make_shared<nn::Conv2d>(nn::Conv2dOptions(hidden, oup, 1).bias(false)));  // linear projection
  conv->add(std::make_shared<nn::BatchNorm2d>(oup));
  register_module("conv", conv);
}

Tensor InvertedResidual::forward(const Tensor& x) {
  if (use_res_connect) return ops::add(x, (*conv)(x), residual_label(*this));
  return (*conv)(x);
}

MobileNetV2::MobileNetV2(const ModelArgs& a, double width_mult, double dropout, int64_t round_nearest) {
  CONVNET_CHECK(a.num_classes >= 1, "mobilenet_v2: num_classes must be positive, got ", a.num_classes);
  CONVNET_CHECK(a.in_channels >= 1, "mobilenet_v2: in_channels must be positive, got ", a.in_channels);
  CONVNET_CHECK(width_mult > 0, "mobilenet_v2: width_mult must be positive, got ", width_mult);
  struct Setting {
    int64_t t, c, n, s;  // expansion, output channels, repeats, stride of the first
  };
  const Setting settings[] = {{1, 16, 1, 1}, {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
                              {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
  int64_t input_channel = make_divisible(32 * width_mult, round_nearest);
  last_channel = make_divisible(1280 * std::max(1.0, width_mult), round_nearest);
  features = std::make_shared<nn::Sequential>();
  features->add(std::make_shared<Conv2dNormActivation>(a.in_channels, input_channel, 3, 2));
  for (const Setting& st : settings) {
    const int64_t output_channel = make_divisible(static_cast<double>(st.c) * width_mult, round_nearest);
    for (int64_t i = 0; i < st.n; ++i) {
      features->add(std::make_shared<InvertedResidual>(input_channel, output_channel, i == 0 ? st.s : 1, st.t));
      input_channel = output_channel;
    }
  }
  features->add(std::make_shared<Conv2dNormActivation>(input_channel, last_channel, 1));
  register_module("features", features);
  classifier = std::make_shared<nn::Sequential>();
  classifier->add(std::make_shared<nn::Dropout>(dropout));
  classifier->add(std::make_shared<nn::Linear>(last_channel, a.num_classes));
  register_module("classifier", classifier);

  for (auto& [name, m] : named_modules()) {
    if (auto* conv = dynamic_cast<nn::Conv2d*>(m)) {
      // torchvision: kaiming_normal_(mode="fan_out") with the default leaky_relu(a=0) gain sqrt(2).
      nn::init::kaiming_normal_(conv->weight, 0, nn::init::FanMode::FanOut);
      if (conv->bias.defined()) nn::init::zeros_(conv->bias);
    } else if (auto* bn = dynamic_cast<nn::BatchNorm*>(m)) {
      nn::init::ones_(bn->weight);
      nn::init::zeros_(bn->bias);
    } else if (auto* fc = dynamic_cast<nn::Linear*>(m)) {
      nn::init::normal_(fc->weight, 0, 0.01);
      nn::init::zeros_(fc->bias);
    }
  }
}

Tensor MobileNetV2::forward(const Tensor& x) {
  check_input_size(x, kMobileNetV2MinInputSize, "mobilenet_v2");
  Tensor y = ops::adaptive_avg_pool2d((*features)(x), {1, 1}, "mobilenet_v2 (adaptive_avg_pool2d)");
  return (*classifier)(y.flatten(1));
}

std::shared_ptr<MobileNetV2> mobilenet_v2(const ModelArgs& a) {
  return std::make_shared<MobileNetV2>(a);
}

}  // namespace convnet::models
