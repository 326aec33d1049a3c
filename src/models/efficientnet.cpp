// EfficientNet B0-B3 and RegNet, module for module as torchvision 0.14's
// models/efficientnet.py and models/regnet.py.
#include "convnet/models/efficientnet.h"

#include <cmath>
#include <map>
#include <set>

#include "convnet/core/error.h"
#include "convnet/models/mobilenet.h"  // make_divisible, SqueezeExcitation
#include "convnet/models/regnet.h"
#include "convnet/models/resnet.h"  // residual_label
#include "convnet/nn/init.h"
#include "convnet/ops/activation.h"
#include "convnet/ops/elementwise.h"
#include "convnet/ops/pool2d.h"
#include "models/blocks.h"
#include "models/families.h"

namespace convnet::models {

// ---- EfficientNet ---------------------------------------------------------------------

MBConv::MBConv(double expand_ratio, int64_t kernel, int64_t stride, int64_t in, int64_t out, double sd_prob)
    : use_res_connect(stride == 1 && in == out) {
  CONVNET_CHECK(stride == 1 || stride == 2, "MBConv: illegal stride value ", stride);
  const int64_t expanded = make_divisible(static_cast<double>(in) * expand_ratio, 8);
  block = std::make_shared<nn::Sequential>();
  if (expanded != in) block->add(conv_bn_act(in, expanded, 1, 1, 1, Act::silu));
  block->add(conv_bn_act(expanded, expanded, kernel, stride, expanded, Act::silu));
  block->add(
      std::make_shared<SqueezeExcitation>(expanded, std::max<int64_t>(1, in / 4), SEActivation::silu, SEGate::sigmoid));
  block->add(conv_bn_act(expanded, out, 1, 1, 1, Act::none));
  register_module("block", block);
  stochastic_depth = register_module("stochastic_depth", std::make_shared<nn::StochasticDepth>(sd_prob, "row"));
}

Tensor MBConv::forward(const Tensor& x) {
  Tensor y = (*block)(x);
  if (!use_res_connect) return y;
  return ops::add((*stochastic_depth)(y), x, residual_label(*this));
}

EfficientNet::EfficientNet(const std::string& name, double width_mult, double depth_mult, double dropout,
                           const ModelArgs& a, double sd_prob)
    : name(name) {
  check_model_args(a, name);
  CONVNET_CHECK(width_mult > 0 && depth_mult > 0, name, ": width_mult and depth_mult must be positive, got ",
                width_mult, " and ", depth_mult);
  struct Stage {
    double t;
    int64_t k, stride, in, out, layers;
  };
  std::vector<Stage> conf = {{1, 3, 1, 32, 16, 1},  {6, 3, 2, 16, 24, 2},   {6, 5, 2, 24, 40, 2},  {6, 3, 2, 40, 80, 3},
                             {6, 5, 1, 80, 112, 3}, {6, 5, 2, 112, 192, 4}, {6, 3, 1, 192, 320, 1}};
  int64_t total = 0;
  for (Stage& s : conf) {  // MBConvConfig's adjust_channels and adjust_depth
    s.in = make_divisible(static_cast<double>(s.in) * width_mult, 8);
    s.out = make_divisible(static_cast<double>(s.out) * width_mult, 8);
    s.layers = static_cast<int64_t>(std::ceil(static_cast<double>(s.layers) * depth_mult));
    total += s.layers;
  }
  features = std::make_shared<nn::Sequential>();
  features->add(conv_bn_act(a.in_channels, conf.front().in, 3, 2, 1, Act::silu));
  int64_t id = 0;
  for (const Stage& s : conf) {
    auto stage = std::make_shared<nn::Sequential>();
    for (int64_t i = 0; i < s.layers; ++i, ++id) {
      const double p = sd_prob * static_cast<double>(id) / static_cast<double>(total);
      stage->add(std::make_shared<MBConv>(s.t, s.k, i ? 1 : s.stride, i ? s.out : s.in, s.out, p));
    }
    features->add(stage);
  }
  const int64_t last = 4 * conf.back().out;
  features->add(conv_bn_act(conf.back().out, last, 1, 1, 1, Act::silu));
  register_module("features", features);
  classifier = std::make_shared<nn::Sequential>();
  classifier->add(std::make_shared<nn::Dropout>(dropout)).add(std::make_shared<nn::Linear>(last, a.num_classes));
  register_module("classifier", classifier);
  init_like_torchvision(*this);
  for (auto& [n, m] : named_modules())
    if (auto* fc = dynamic_cast<nn::Linear*>(m)) {
      const double r = 1.0 / std::sqrt(static_cast<double>(fc->weight.size(0)));
      nn::init::uniform_(fc->weight, -r, r);
    }
}

Tensor EfficientNet::forward(const Tensor& x) {
  check_input_size(x, 1, name);
  const Tensor y = ops::adaptive_avg_pool2d((*features)(x), {1, 1}, name + " (avgpool)");
  return (*classifier)(y.flatten(1));
}

std::shared_ptr<EfficientNet> efficientnet_b0(const ModelArgs& a) {
  return std::make_shared<EfficientNet>("efficientnet_b0", 1.0, 1.0, 0.2, a);
}
std::shared_ptr<EfficientNet> efficientnet_b1(const ModelArgs& a) {
  return std::make_shared<EfficientNet>("efficientnet_b1", 1.0, 1.1, 0.2, a);
}
std::shared_ptr<EfficientNet> efficientnet_b2(const ModelArgs& a) {
  return std::make_shared<EfficientNet>("efficientnet_b2", 1.1, 1.2, 0.3, a);
}
std::shared_ptr<EfficientNet> efficientnet_b3(const ModelArgs& a) {
  return std::make_shared<EfficientNet>("efficientnet_b3", 1.2, 1.4, 0.3, a);
}

// ---- RegNet ---------------------------------------------------------------------------

RegNetParams RegNetParams::from_init_params(int64_t depth, int64_t w_0, double w_a, double w_m, int64_t group_width,
                                            double se_ratio) {
  CONVNET_CHECK(w_a >= 0 && w_0 > 0 && w_m > 1 && w_0 % 8 == 0 && depth >= 1 && group_width >= 1,
                "Invalid RegNet settings (depth ", depth, ", w_0 ", w_0, ", w_a ", w_a, ", w_m ", w_m, ", group width ",
                group_width, ")");
  // The quantized linear widths, in float32 as torchvision computes them with torch tensors
  // (torch.round rounds half to even, as nearbyint).
  constexpr float kQuant = 8;
  std::vector<int64_t> block_widths;
  for (int64_t i = 0; i < depth; ++i) {
    const float cont = static_cast<float>(i) * static_cast<float>(w_a) + static_cast<float>(w_0);
    const float capacity = std::nearbyint(std::log(cont / static_cast<float>(w_0)) / static_cast<float>(std::log(w_m)));
    const float w =
        std::nearbyint(static_cast<float>(w_0) * std::pow(static_cast<float>(w_m), capacity) / kQuant) * kQuant;
    block_widths.push_back(static_cast<int64_t>(w));
  }
  RegNetParams p;
  p.se_ratio = se_ratio;
  int64_t start = 0;
  for (int64_t i = 1; i <= depth; ++i)
    if (i == depth || block_widths[i] != block_widths[i - 1]) {
      p.widths.push_back(block_widths[i - 1]);
      p.depths.push_back(i - start);
      start = i;
    }
  for (int64_t& w : p.widths) {  // _adjust_widths_groups_compatibilty with bottleneck multiplier 1
    const int64_t g = std::min(group_width, w);
    p.group_widths.push_back(g);
    w = make_divisible(static_cast<double>(w), g);
  }
  return p;
}

ResBottleneckBlock::ResBottleneckBlock(int64_t width_in, int64_t width_out, int64_t stride, int64_t group_width,
                                       double se_ratio) {
  if (width_in != width_out || stride != 1)
    proj = register_module("proj", conv_bn_act(width_in, width_out, 1, stride, 1, Act::none));
  const int64_t w_b = width_out;  // bottleneck multiplier 1
  f = std::make_shared<nn::Sequential>();
  f->add("a", conv_bn_act(width_in, w_b, 1, 1, 1, Act::relu));
  f->add("b", conv_bn_act(w_b, w_b, 3, stride, w_b / group_width, Act::relu));
  if (se_ratio > 0) {
    const auto se = static_cast<int64_t>(std::nearbyint(se_ratio * static_cast<double>(width_in)));
    f->add("se", std::make_shared<SqueezeExcitation>(w_b, se, SEActivation::relu, SEGate::sigmoid));
  }
  f->add("c", conv_bn_act(w_b, width_out, 1, 1, 1, Act::none));
  register_module("f", f);
  register_module("activation", std::make_shared<nn::ReLU>());
}

Tensor ResBottleneckBlock::forward(const Tensor& x) {
  const Tensor shortcut = proj ? (*proj)(x) : x;
  return ops::relu(ops::add(shortcut, (*f)(x), residual_label(*this)));
}

RegNet::RegNet(const std::string& name, const RegNetParams& params, const ModelArgs& a) : name(name) {
  check_model_args(a, name);
  constexpr int64_t kStemWidth = 32;
  stem = register_module("stem", conv_bn_act(a.in_channels, kStemWidth, 3, 2, 1, Act::relu));
  trunk_output = std::make_shared<nn::Sequential>();
  int64_t width = kStemWidth;
  for (size_t s = 0; s < params.widths.size(); ++s) {
    auto stage = std::make_shared<nn::Sequential>();
    const std::string idx = std::to_string(s + 1);
    for (int64_t i = 0; i < params.depths[s]; ++i)
      stage->add("block" + idx + "-" + std::to_string(i),
                 std::make_shared<ResBottleneckBlock>(i ? params.widths[s] : width, params.widths[s], i ? 1 : 2,
                                                      params.group_widths[s], params.se_ratio));
    trunk_output->add("block" + idx, stage);
    width = params.widths[s];
  }
  register_module("trunk_output", trunk_output);
  fc = register_module("fc", std::make_shared<nn::Linear>(width, a.num_classes));
  init_like_torchvision(*this, /*zero_conv_bias=*/false);
}

Tensor RegNet::forward(const Tensor& x) {
  check_input_size(x, 1, name);
  const Tensor y = ops::adaptive_avg_pool2d((*trunk_output)((*stem)(x)), {1, 1}, name + " (avgpool)");
  return (*fc)(y.flatten(1));
}

std::shared_ptr<RegNet> regnet(const std::string& name, const ModelArgs& a) {
  struct Design {
    int64_t depth, w_0;
    double w_a, w_m;
    int64_t group_width;
    double se_ratio;
  };
  static const std::map<std::string, Design> designs = {
      {"regnet_y_400mf", {16, 48, 27.89, 2.09, 8, 0.25}},  {"regnet_y_800mf", {14, 56, 38.84, 2.4, 16, 0.25}},
      {"regnet_y_1_6gf", {27, 48, 20.71, 2.65, 24, 0.25}}, {"regnet_y_3_2gf", {21, 80, 42.63, 2.66, 24, 0.25}},
      {"regnet_x_400mf", {22, 24, 24.48, 2.54, 16, 0}},    {"regnet_x_800mf", {16, 56, 35.73, 2.28, 16, 0}},
      {"regnet_x_1_6gf", {18, 80, 34.01, 2.25, 24, 0}},    {"regnet_x_3_2gf", {25, 88, 26.31, 2.25, 48, 0}}};
  const auto it = designs.find(name);
  CONVNET_CHECK(it != designs.end(), "unknown RegNet '", name,
                "'; known: regnet_y_400mf, regnet_y_800mf, regnet_y_1_6gf, regnet_y_3_2gf, regnet_x_400mf, "
                "regnet_x_800mf, regnet_x_1_6gf, regnet_x_3_2gf");
  const Design& d = it->second;
  return std::make_shared<RegNet>(
      name, RegNetParams::from_init_params(d.depth, d.w_0, d.w_a, d.w_m, d.group_width, d.se_ratio), a);
}

}  // namespace convnet::models
