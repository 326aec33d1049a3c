// MobileNetV2, module for module as torchvision 0.14's models/mobilenetv2.py.
#include "convnet/models/mobilenet.h"

#include <algorithm>
#include <cmath>

#include "convnet/core/error.h"
#include "convnet/models/resnet.h"
#include "convnet/nn/init.h"
#include "convnet/ops/activation.h"
#include "convnet/ops/broadcast.h"
#include "convnet/ops/elementwise.h"
#include "convnet/ops/pool2d.h"
#include "models/blocks.h"
#include "models/families.h"

namespace convnet::models {

void init_like_torchvision(nn::Module& net, bool zero_conv_bias) {
  for (auto& [name, m] : net.named_modules()) {
    if (auto* conv = dynamic_cast<nn::Conv2d*>(m)) {
      nn::init::kaiming_normal_(conv->weight, 0, nn::init::FanMode::FanOut);
      if (conv->bias.defined() && zero_conv_bias) nn::init::zeros_(conv->bias);
    } else if (auto* bn = dynamic_cast<nn::BatchNorm*>(m)) {
      nn::init::ones_(bn->weight);
      nn::init::zeros_(bn->bias);
    } else if (auto* fc = dynamic_cast<nn::Linear*>(m)) {
      nn::init::normal_(fc->weight, 0, 0.01);
      nn::init::zeros_(fc->bias);
    }
  }
}

nn::ModulePtr make_activation(Act act) {
  switch (act) {
    case Act::relu:
      return std::make_shared<nn::ReLU>();
    case Act::relu6:
      return std::make_shared<nn::ReLU6>();
    case Act::hardswish:
      return std::make_shared<nn::Hardswish>();
    case Act::silu:
      return std::make_shared<nn::SiLU>();
    case Act::none:
      break;
  }
  return nullptr;
}

std::shared_ptr<nn::Sequential> conv_bn_act(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t groups, Act act,
                                            double bn_eps, double bn_momentum) {
  auto s = std::make_shared<nn::Sequential>();
  s->add(std::make_shared<nn::Conv2d>(
      nn::Conv2dOptions(in, out, k).stride(stride).padding((k - 1) / 2).groups(groups).bias(false)));
  s->add(std::make_shared<nn::BatchNorm2d>(out, bn_eps, bn_momentum));
  if (auto a = make_activation(act)) s->add(a);
  return s;
}

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
  check_model_args(a, "mobilenet_v2");
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

  init_like_torchvision(*this);
}

Tensor MobileNetV2::forward(const Tensor& x) {
  check_input_size(x, kMobileNetV2MinInputSize, "mobilenet_v2");
  Tensor y = ops::adaptive_avg_pool2d((*features)(x), {1, 1}, "mobilenet_v2 (adaptive_avg_pool2d)");
  return (*classifier)(y.flatten(1));
}

std::shared_ptr<MobileNetV2> mobilenet_v2(const ModelArgs& a) {
  return std::make_shared<MobileNetV2>(a);
}

// ---- MobileNetV3 (torchvision 0.14's models/mobilenetv3.py) --------------------------

namespace {
// MobileNetV3's BatchNorm: eps 0.001, momentum 0.01.
std::shared_ptr<nn::Sequential> v3_conv(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t groups, Act act) {
  return conv_bn_act(in, out, k, stride, groups, act, 0.001, 0.01);
}
}  // namespace

SqueezeExcitation::SqueezeExcitation(int64_t channels, int64_t squeeze, SEActivation activation, SEGate gate)
    : activation(activation), gate(gate) {
  fc1 = std::make_shared<nn::Conv2d>(channels, squeeze, 1);
  fc2 = std::make_shared<nn::Conv2d>(squeeze, channels, 1);
  register_module("fc1", fc1);
  register_module("fc2", fc2);
}

Tensor SqueezeExcitation::forward(const Tensor& x) {
  Tensor s = ops::adaptive_avg_pool2d(x, {1, 1}, "SqueezeExcitation (avgpool)");
  s = (*fc1)(s);
  s = (*fc2)(activation == SEActivation::silu ? ops::silu(s) : ops::relu(s));
  s = gate == SEGate::hardsigmoid ? ops::hardsigmoid(s) : ops::sigmoid(s);
  return ops::mul(x, ops::broadcast_to(s, x.shape(), "SqueezeExcitation (scale)"));
}

InvertedResidualV3::InvertedResidualV3(int64_t in, int64_t kernel, int64_t expanded, int64_t out, bool use_se,
                                       bool use_hardswish, int64_t stride)
    : use_res_connect(stride == 1 && in == out) {
  CONVNET_CHECK(stride == 1 || stride == 2, "InvertedResidual: stride should be 1 or 2, got ", stride);
  const Act act = use_hardswish ? Act::hardswish : Act::relu;
  block = std::make_shared<nn::Sequential>();
  if (expanded != in) block->add(v3_conv(in, expanded, 1, 1, 1, act));     // expand
  block->add(v3_conv(expanded, expanded, kernel, stride, expanded, act));  // depthwise
  if (use_se)
    block->add(std::make_shared<SqueezeExcitation>(expanded, make_divisible(expanded / 4, 8), SEActivation::relu,
                                                   SEGate::hardsigmoid));
  block->add(v3_conv(expanded, out, 1, 1, 1, Act::none));  // project
  register_module("block", block);
}

Tensor InvertedResidualV3::forward(const Tensor& x) {
  if (use_res_connect) return ops::add((*block)(x), x, residual_label(*this));
  return (*block)(x);
}

MobileNetV3::MobileNetV3(const ModelArgs& a, bool large, double dropout)
    : name(large ? "mobilenet_v3_large" : "mobilenet_v3_small") {
  check_model_args(a, name);
  struct Bneck {
    int64_t in, k, exp, out;
    bool se, hs;
    int64_t stride;
  };
  // torchvision's _mobilenet_v3_conf at width 1.0 (widths already multiples of 8).
  const std::vector<Bneck> large_conf = {
      {16, 3, 16, 16, false, false, 1},  {16, 3, 64, 24, false, false, 2},  {24, 3, 72, 24, false, false, 1},
      {24, 5, 72, 40, true, false, 2},   {40, 5, 120, 40, true, false, 1},  {40, 5, 120, 40, true, false, 1},
      {40, 3, 240, 80, false, true, 2},  {80, 3, 200, 80, false, true, 1},  {80, 3, 184, 80, false, true, 1},
      {80, 3, 184, 80, false, true, 1},  {80, 3, 480, 112, true, true, 1},  {112, 3, 672, 112, true, true, 1},
      {112, 5, 672, 160, true, true, 2}, {160, 5, 960, 160, true, true, 1}, {160, 5, 960, 160, true, true, 1}};
  const std::vector<Bneck> small_conf = {
      {16, 3, 16, 16, true, false, 2}, {16, 3, 72, 24, false, false, 2}, {24, 3, 88, 24, false, false, 1},
      {24, 5, 96, 40, true, true, 2},  {40, 5, 240, 40, true, true, 1},  {40, 5, 240, 40, true, true, 1},
      {40, 5, 120, 48, true, true, 1}, {48, 5, 144, 48, true, true, 1},  {48, 5, 288, 96, true, true, 2},
      {96, 5, 576, 96, true, true, 1}, {96, 5, 576, 96, true, true, 1}};
  const auto& conf = large ? large_conf : small_conf;
  const int64_t last_channel = large ? 1280 : 1024;
  features = std::make_shared<nn::Sequential>();
  features->add(v3_conv(a.in_channels, conf.front().in, 3, 2, 1, Act::hardswish));
  for (const Bneck& b : conf)
    features->add(std::make_shared<InvertedResidualV3>(b.in, b.k, b.exp, b.out, b.se, b.hs, b.stride));
  const int64_t last_conv = 6 * conf.back().out;
  features->add(v3_conv(conf.back().out, last_conv, 1, 1, 1, Act::hardswish));
  register_module("features", features);
  classifier = std::make_shared<nn::Sequential>();
  classifier->add(std::make_shared<nn::Linear>(last_conv, last_channel));
  classifier->add(std::make_shared<nn::Hardswish>());
  classifier->add(std::make_shared<nn::Dropout>(dropout));
  classifier->add(std::make_shared<nn::Linear>(last_channel, a.num_classes));
  register_module("classifier", classifier);

  init_like_torchvision(*this);
}

Tensor MobileNetV3::forward(const Tensor& x) {
  check_input_size(x, 1, name.c_str());
  Tensor y = ops::adaptive_avg_pool2d((*features)(x), {1, 1}, name + " (avgpool)");
  return (*classifier)(y.flatten(1));
}

std::shared_ptr<MobileNetV3> mobilenet_v3_large(const ModelArgs& a) {
  return std::make_shared<MobileNetV3>(a, true);
}
std::shared_ptr<MobileNetV3> mobilenet_v3_small(const ModelArgs& a) {
  return std::make_shared<MobileNetV3>(a, false);
}

}  // namespace convnet::models
