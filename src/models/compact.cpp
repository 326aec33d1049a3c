// SqueezeNet, ShuffleNetV2 and MNASNet, module for module as torchvision 0.14's
// models/squeezenet.py, models/shufflenetv2.py and models/mnasnet.py.
#include <cmath>

#include "convnet/core/error.h"
#include "convnet/models/mnasnet.h"
#include "convnet/models/mobilenet.h"  // make_divisible
#include "convnet/models/resnet.h"     // residual_label
#include "convnet/models/shufflenet.h"
#include "convnet/models/squeezenet.h"
#include "convnet/nn/init.h"
#include "convnet/ops/activation.h"
#include "convnet/ops/concat.h"
#include "convnet/ops/elementwise.h"
#include "convnet/ops/pad.h"
#include "convnet/ops/permute.h"
#include "convnet/ops/pool2d.h"
#include "models/blocks.h"
#include "models/families.h"

namespace convnet::models {

namespace {
std::shared_ptr<nn::MaxPool2d> ceil_max_pool() {
  Pool2dArgs p;
  p.kernel = {3, 3};
  p.stride = {2, 2};
  p.ceil_mode = true;
  return std::make_shared<nn::MaxPool2d>(p);
}
}  // namespace

// ---- SqueezeNet -----------------------------------------------------------------------

Fire::Fire(int64_t inplanes, int64_t squeeze_planes, int64_t expand1x1_planes, int64_t expand3x3_planes) {
  squeeze = register_module("squeeze", std::make_shared<nn::Conv2d>(inplanes, squeeze_planes, 1));
  register_module("squeeze_activation", std::make_shared<nn::ReLU>());
  expand1x1 = register_module("expand1x1", std::make_shared<nn::Conv2d>(squeeze_planes, expand1x1_planes, 1));
  register_module("expand1x1_activation", std::make_shared<nn::ReLU>());
  expand3x3 = register_module(
      "expand3x3", std::make_shared<nn::Conv2d>(nn::Conv2dOptions(squeeze_planes, expand3x3_planes, 3).padding(1)));
  register_module("expand3x3_activation", std::make_shared<nn::ReLU>());
}

Tensor Fire::forward(const Tensor& x) {
  const Tensor s = ops::relu((*squeeze)(x));
  return ops::concat({ops::relu((*expand1x1)(s)), ops::relu((*expand3x3)(s))}, 1, label());
}

SqueezeNet::SqueezeNet(const std::string& version, const ModelArgs& a, double dropout) : name("squeezenet" + version) {
  CONVNET_CHECK(version == "1_0" || version == "1_1", "SqueezeNet: unsupported version ", version,
                ": 1_0 or 1_1 expected");
  check_model_args(a, name);
  features = std::make_shared<nn::Sequential>();
  auto& f = *features;
  if (version == "1_0") {
    f.add(std::make_shared<nn::Conv2d>(nn::Conv2dOptions(a.in_channels, 96, 7).stride(2)));
    f.add(std::make_shared<nn::ReLU>()).add(ceil_max_pool());
    f.add(std::make_shared<Fire>(96, 16, 64, 64)).add(std::make_shared<Fire>(128, 16, 64, 64));
    f.add(std::make_shared<Fire>(128, 32, 128, 128)).add(ceil_max_pool());
    f.add(std::make_shared<Fire>(256, 32, 128, 128)).add(std::make_shared<Fire>(256, 48, 192, 192));
    f.add(std::make_shared<Fire>(384, 48, 192, 192)).add(std::make_shared<Fire>(384, 64, 256, 256));
    f.add(ceil_max_pool()).add(std::make_shared<Fire>(512, 64, 256, 256));
  } else {
    f.add(std::make_shared<nn::Conv2d>(nn::Conv2dOptions(a.in_channels, 64, 3).stride(2)));
    f.add(std::make_shared<nn::ReLU>()).add(ceil_max_pool());
    f.add(std::make_shared<Fire>(64, 16, 64, 64)).add(std::make_shared<Fire>(128, 16, 64, 64)).add(ceil_max_pool());
    f.add(std::make_shared<Fire>(128, 32, 128, 128)).add(std::make_shared<Fire>(256, 32, 128, 128));
    f.add(ceil_max_pool());
    f.add(std::make_shared<Fire>(256, 48, 192, 192)).add(std::make_shared<Fire>(384, 48, 192, 192));
    f.add(std::make_shared<Fire>(384, 64, 256, 256)).add(std::make_shared<Fire>(512, 64, 256, 256));
  }
  register_module("features", features);
  auto final_conv = std::make_shared<nn::Conv2d>(512, a.num_classes, 1);
  classifier = std::make_shared<nn::Sequential>();
  classifier->add(std::make_shared<nn::Dropout>(dropout)).add(final_conv).add(std::make_shared<nn::ReLU>());
  classifier->add(std::make_shared<nn::AdaptiveAvgPool2d>(1));
  register_module("classifier", classifier);
  for (auto& [n, m] : named_modules())
    if (auto* conv = dynamic_cast<nn::Conv2d*>(m)) {
      if (conv == final_conv.get())
        nn::init::normal_(conv->weight, 0, 0.01);
      else
        nn::init::kaiming_uniform_(conv->weight);
      nn::init::zeros_(conv->bias);
    }
}

Tensor SqueezeNet::forward(const Tensor& x) {
  check_input_size(x, name == "squeezenet1_0" ? kSqueezeNet10MinInputSize : kSqueezeNet11MinInputSize, name);
  return (*classifier)((*features)(x)).flatten(1);
}

std::shared_ptr<SqueezeNet> squeezenet1_0(const ModelArgs& a) {
  return std::make_shared<SqueezeNet>("1_0", a);
}
std::shared_ptr<SqueezeNet> squeezenet1_1(const ModelArgs& a) {
  return std::make_shared<SqueezeNet>("1_1", a);
}

// ---- ShuffleNetV2 ---------------------------------------------------------------------

namespace {
std::shared_ptr<nn::Conv2d> depthwise3x3(int64_t c, int64_t stride) {
  return std::make_shared<nn::Conv2d>(nn::Conv2dOptions(c, c, 3).stride(stride).padding(1).groups(c).bias(false));
}
std::shared_ptr<nn::Conv2d> pointwise(int64_t in, int64_t out) {
  return std::make_shared<nn::Conv2d>(nn::Conv2dOptions(in, out, 1).bias(false));
}
}  // namespace

ShuffleUnit::ShuffleUnit(int64_t inp, int64_t oup, int64_t stride) : stride(stride) {
  CONVNET_CHECK(stride >= 1 && stride <= 3, "ShuffleNetV2 unit: illegal stride value ", stride);
  const int64_t bf = oup / 2;
  CONVNET_CHECK(stride != 1 || inp == bf * 2, "ShuffleNetV2 unit: invalid combination of stride ", stride, ", inp ",
                inp, " and oup ", oup, "; with stride 1, inp should be equal to oup // 2 << 1");
  branch1 = std::make_shared<nn::Sequential>();
  if (stride > 1) {
    branch1->add(depthwise3x3(inp, stride)).add(std::make_shared<nn::BatchNorm2d>(inp));
    branch1->add(pointwise(inp, bf)).add(std::make_shared<nn::BatchNorm2d>(bf)).add(std::make_shared<nn::ReLU>());
  }
  register_module("branch1", branch1);
  branch2 = std::make_shared<nn::Sequential>();
  branch2->add(pointwise(stride > 1 ? inp : bf, bf)).add(std::make_shared<nn::BatchNorm2d>(bf));
  branch2->add(std::make_shared<nn::ReLU>());
  branch2->add(depthwise3x3(bf, stride)).add(std::make_shared<nn::BatchNorm2d>(bf));
  branch2->add(pointwise(bf, bf)).add(std::make_shared<nn::BatchNorm2d>(bf)).add(std::make_shared<nn::ReLU>());
  register_module("branch2", branch2);
}

Tensor ShuffleUnit::forward(const Tensor& x) {
  Tensor out;
  if (stride == 1) {
    // x.chunk(2, dim=1): the two halves of the channels, as crops.
    CONVNET_CHECK(x.dim() == 4 && x.size(1) % 2 == 0, label(), ": expected (N, C, H, W) with an even C, got ",
                  shape_str(x.shape()));
    const int64_t h = x.size(1) / 2;
    const Tensor x1 = ops::constant_pad(x, {{0, 0}, {0, -h}, {0, 0}, {0, 0}}, 0.f, label() + " (chunk)");
    const Tensor x2 = ops::constant_pad(x, {{0, 0}, {-h, 0}, {0, 0}, {0, 0}}, 0.f, label() + " (chunk)");
    out = ops::concat({x1, (*branch2)(x2)}, 1, label());
  } else {
    out = ops::concat({(*branch1)(x), (*branch2)(x)}, 1, label());
  }
  return ops::channel_shuffle(out, 2, label() + " (channel shuffle)");
}

ShuffleNetV2::ShuffleNetV2(const std::string& name, const std::vector<int64_t>& repeats,
                           const std::vector<int64_t>& channels, const ModelArgs& a)
    : name(name) {
  CONVNET_CHECK(repeats.size() == 3, name, ": expected stages_repeats as list of 3 positive ints");
  CONVNET_CHECK(channels.size() == 5, name, ": expected stages_out_channels as list of 5 positive ints");
  check_model_args(a, name);
  conv1 = std::make_shared<nn::Sequential>();
  conv1->add(
      std::make_shared<nn::Conv2d>(nn::Conv2dOptions(a.in_channels, channels[0], 3).stride(2).padding(1).bias(false)));
  conv1->add(std::make_shared<nn::BatchNorm2d>(channels[0])).add(std::make_shared<nn::ReLU>());
  register_module("conv1", conv1);
  maxpool = register_module("maxpool", std::make_shared<nn::MaxPool2d>(3, 2, 1));
  int64_t in = channels[0];
  std::shared_ptr<nn::Sequential>* stages[] = {&stage2, &stage3, &stage4};
  for (size_t s = 0; s < 3; ++s) {
    auto seq = std::make_shared<nn::Sequential>();
    seq->add(std::make_shared<ShuffleUnit>(in, channels[s + 1], 2));
    for (int64_t i = 1; i < repeats[s]; ++i)
      seq->add(std::make_shared<ShuffleUnit>(channels[s + 1], channels[s + 1], 1));
    *stages[s] = register_module("stage" + std::to_string(s + 2), seq);
    in = channels[s + 1];
  }
  conv5 = std::make_shared<nn::Sequential>();
  conv5->add(pointwise(in, channels[4])).add(std::make_shared<nn::BatchNorm2d>(channels[4]));
  conv5->add(std::make_shared<nn::ReLU>());
  register_module("conv5", conv5);
  fc = register_module("fc", std::make_shared<nn::Linear>(channels[4], a.num_classes));
}

Tensor ShuffleNetV2::forward(const Tensor& x) {
  check_input_size(x, 1, name);
  Tensor y = (*maxpool)((*conv1)(x));
  y = (*conv5)((*stage4)((*stage3)((*stage2)(y))));
  return (*fc)(ops::adaptive_avg_pool2d(y, {1, 1}, name + " (mean)").flatten(1));  // x.mean([2, 3])
}

std::shared_ptr<ShuffleNetV2> shufflenet_v2_x0_5(const ModelArgs& a) {
  return std::make_shared<ShuffleNetV2>("shufflenet_v2_x0_5", std::vector<int64_t>{4, 8, 4},
                                        std::vector<int64_t>{24, 48, 96, 192, 1024}, a);
}
std::shared_ptr<ShuffleNetV2> shufflenet_v2_x1_0(const ModelArgs& a) {
  return std::make_shared<ShuffleNetV2>("shufflenet_v2_x1_0", std::vector<int64_t>{4, 8, 4},
                                        std::vector<int64_t>{24, 116, 232, 464, 1024}, a);
}
std::shared_ptr<ShuffleNetV2> shufflenet_v2_x1_5(const ModelArgs& a) {
  return std::make_shared<ShuffleNetV2>("shufflenet_v2_x1_5", std::vector<int64_t>{4, 8, 4},
                                        std::vector<int64_t>{24, 176, 352, 704, 1024}, a);
}
std::shared_ptr<ShuffleNetV2> shufflenet_v2_x2_0(const ModelArgs& a) {
  return std::make_shared<ShuffleNetV2>("shufflenet_v2_x2_0", std::vector<int64_t>{4, 8, 4},
                                        std::vector<int64_t>{24, 244, 488, 976, 2048}, a);
}

// ---- MNASNet ---------------------------------------------------------------------------

namespace {
constexpr double kMNASNetMomentum = 1 - 0.9997;  // TensorFlow's decay 0.9997
}

MNASNetBlock::MNASNetBlock(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t t, double momentum)
    : apply_residual(in == out && stride == 1) {
  CONVNET_CHECK(stride == 1 || stride == 2, "MNASNet block: stride should be 1 or 2 instead of ", stride);
  CONVNET_CHECK(k == 3 || k == 5, "MNASNet block: kernel_size should be 3 or 5 instead of ", k);
  const int64_t mid = in * t;
  layers = std::make_shared<nn::Sequential>();
  layers->add(pointwise(in, mid)).add(std::make_shared<nn::BatchNorm2d>(mid, 1e-5, momentum));
  layers->add(std::make_shared<nn::ReLU>());
  layers->add(std::make_shared<nn::Conv2d>(
      nn::Conv2dOptions(mid, mid, k).padding(k / 2).stride(stride).groups(mid).bias(false)));
  layers->add(std::make_shared<nn::BatchNorm2d>(mid, 1e-5, momentum)).add(std::make_shared<nn::ReLU>());
  layers->add(pointwise(mid, out)).add(std::make_shared<nn::BatchNorm2d>(out, 1e-5, momentum));
  register_module("layers", layers);
}

Tensor MNASNetBlock::forward(const Tensor& x) {
  if (apply_residual) return ops::add((*layers)(x), x, residual_label(*this));
  return (*layers)(x);
}

MNASNet::MNASNet(const std::string& name, double alpha, const ModelArgs& a, double dropout) : name(name) {
  CONVNET_CHECK(alpha > 0, name, ": alpha should be greater than 0.0 instead of ", alpha);
  check_model_args(a, name);
  int64_t d[8] = {32, 16, 24, 40, 80, 96, 192, 320};
  for (auto& v : d) v = make_divisible(static_cast<double>(v) * alpha, 8);
  const double m = kMNASNetMomentum;
  layers = std::make_shared<nn::Sequential>();
  auto& l = *layers;
  l.add(std::make_shared<nn::Conv2d>(nn::Conv2dOptions(a.in_channels, d[0], 3).padding(1).stride(2).bias(false)));
  l.add(std::make_shared<nn::BatchNorm2d>(d[0], 1e-5, m)).add(std::make_shared<nn::ReLU>());
  l.add(std::make_shared<nn::Conv2d>(nn::Conv2dOptions(d[0], d[0], 3).padding(1).groups(d[0]).bias(false)));
  l.add(std::make_shared<nn::BatchNorm2d>(d[0], 1e-5, m)).add(std::make_shared<nn::ReLU>());
  l.add(pointwise(d[0], d[1])).add(std::make_shared<nn::BatchNorm2d>(d[1], 1e-5, m));
  struct Stack {
    int64_t k, stride, t, repeats;
  };
  const Stack stacks[] = {{3, 2, 3, 3}, {5, 2, 3, 3}, {5, 2, 6, 3}, {3, 1, 6, 2}, {5, 2, 6, 4}, {3, 1, 6, 1}};
  for (int s = 0; s < 6; ++s) {
    auto seq = std::make_shared<nn::Sequential>();
    const Stack& st = stacks[s];
    seq->add(std::make_shared<MNASNetBlock>(d[s + 1], d[s + 2], st.k, st.stride, st.t, m));
    for (int64_t i = 1; i < st.repeats; ++i)
      seq->add(std::make_shared<MNASNetBlock>(d[s + 2], d[s + 2], st.k, 1, st.t, m));
    l.add(seq);
  }
  l.add(pointwise(d[7], 1280)).add(std::make_shared<nn::BatchNorm2d>(1280, 1e-5, m));
  l.add(std::make_shared<nn::ReLU>());
  register_module("layers", layers);
  classifier = std::make_shared<nn::Sequential>();
  classifier->add(std::make_shared<nn::Dropout>(dropout)).add(std::make_shared<nn::Linear>(1280, a.num_classes));
  register_module("classifier", classifier);
  init_like_torchvision(*this);
  for (auto& [n, mod] : named_modules())
    if (auto* fc = dynamic_cast<nn::Linear*>(mod))
      nn::init::kaiming_uniform_(fc->weight, 0, nn::init::FanMode::FanOut, "sigmoid");
}

Tensor MNASNet::forward(const Tensor& x) {
  check_input_size(x, 1, name);
  const Tensor y = ops::adaptive_avg_pool2d((*layers)(x), {1, 1}, name + " (mean)");  // x.mean([2, 3])
  return (*classifier)(y.flatten(1));
}

std::shared_ptr<MNASNet> mnasnet0_5(const ModelArgs& a) {
  return std::make_shared<MNASNet>("mnasnet0_5", 0.5, a);
}
std::shared_ptr<MNASNet> mnasnet0_75(const ModelArgs& a) {
  return std::make_shared<MNASNet>("mnasnet0_75", 0.75, a);
}
std::shared_ptr<MNASNet> mnasnet1_0(const ModelArgs& a) {
  return std::make_shared<MNASNet>("mnasnet1_0", 1.0, a);
}
std::shared_ptr<MNASNet> mnasnet1_3(const ModelArgs& a) {
  return std::make_shared<MNASNet>("mnasnet1_3", 1.3, a);
}

}  // namespace convnet::models
