// ResNets for 32x32 (CIFAR) and 28x28 (Fashion-MNIST) inputs: He et al. 2016's CIFAR
// networks (section 4.2) with option A or B shortcuts, and Zagoruyko & Komodakis 2016's
// Wide ResNets.
#include "convnet/core/error.h"
#include "convnet/models/resnet.h"
#include "convnet/nn/init.h"
#include "convnet/ops/elementwise.h"
#include "convnet/ops/pad.h"
#include "convnet/ops/pool2d.h"
#include "models/families.h"

namespace convnet::models {

// ---- option A shortcut --------------------------------------------------------------

ZeroPadShortcut::ZeroPadShortcut(int64_t in, int64_t out, int64_t s) : in_channels(in), out_channels(out), stride(s) {
  CONVNET_CHECK(in >= 1 && out >= in && s >= 1,
                "ZeroPadShortcut: needs 1 <= in_channels <= out_channels and stride >= 1, got ", in, " -> ", out,
                " stride ", s);
}

Tensor ZeroPadShortcut::forward(const Tensor& x) {
  CONVNET_CHECK(x.dim() == 4 && x.size(1) == in_channels, label(), ": expected (N, ", in_channels,
                ", H, W), got input of shape ", shape_str(x.shape()));
  Tensor y = x;
  if (stride > 1) {
    // A 1x1 window with stride s keeps pixel (s*i, s*j): the subsampling of the strided
    // 3x3 convolution on the residual branch, so both outputs have the same H and W.
    Pool2dArgs p;
    p.kernel = {1, 1};
    p.stride = {stride, stride};
    y = ops::avg_pool2d(y, p, label());
  }
  if (out_channels == in_channels) return y;
  // The new channels are zeros (as the reference implementations' F.pad over channels): a
  // pad of the channel dimension, so the shortcut stays one op of the input at any batch size.
  return ops::constant_pad(y, {{0, 0}, {0, out_channels - in_channels}, {0, 0}, {0, 0}}, 0.f, label());
}

std::string ZeroPadShortcut::extra_repr() const {
  return std::to_string(in_channels) + ", " + std::to_string(out_channels) + ", stride=" + std::to_string(stride);
}

// ---- CIFAR ResNet -------------------------------------------------------------------

CifarResNet::CifarResNet(int64_t depth, Shortcut shortcut, const ModelArgs& a, std::string name)
    : name_(std::move(name)) {
  CONVNET_CHECK(depth >= 8 && (depth - 2) % 6 == 0, name_,
                ": depth must be 6n + 2 with n >= 1 (20, 32, 44, 56, 110, ...), got ", depth);
  check_model_args(a, name_);
  const int64_t n = (depth - 2) / 6;
  conv1 = register_module("conv1", conv3x3(a.in_channels, 16));
  bn1 = register_module("bn1", std::make_shared<nn::BatchNorm2d>(16));
  relu = register_module("relu", std::make_shared<nn::ReLU>());
  int64_t in = 16;
  auto stage = [&](int64_t planes, int64_t stride) {
    auto layer = std::make_shared<nn::Sequential>();
    for (int64_t i = 0; i < n; ++i) {
      const int64_t s = i == 0 ? stride : 1;
      nn::ModulePtr ds;
      if (s != 1 || in != planes) {
        if (shortcut == Shortcut::A) {
          ds = std::make_shared<ZeroPadShortcut>(in, planes, s);
        } else {
          auto proj = std::make_shared<nn::Sequential>();
          proj->add(conv1x1(in, planes, s));
          proj->add(std::make_shared<nn::BatchNorm2d>(planes));
          ds = proj;
        }
      }
      layer->add(std::make_shared<BasicBlock>(in, planes, s, ds));
      in = planes;
    }
    return layer;
  };
  layer1 = register_module("layer1", stage(16, 1));
  layer2 = register_module("layer2", stage(32, 2));
  layer3 = register_module("layer3", stage(64, 2));
  avgpool = register_module("avgpool", std::make_shared<nn::AdaptiveAvgPool2d>(1));
  fc = register_module("fc", std::make_shared<nn::Linear>(64, a.num_classes));
  // He et al. initialize as in their PReLU paper (He et al. 2015): kaiming normal; we use
  // torchvision's fan_out variant so every ResNet in the zoo starts the same way.
  init_resnet_weights_(*this);
}

Tensor CifarResNet::forward(const Tensor& x) {
  check_input_size(x, kResNetMinInputSize, name_);
  Tensor y = (*relu)((*bn1)((*conv1)(x)));
  y = (*layer3)((*layer2)((*layer1)(y)));
  return (*fc)((*avgpool)(y).flatten(1));
}

std::shared_ptr<CifarResNet> resnet_cifar(int64_t depth, Shortcut shortcut, const ModelArgs& a) {
  const std::string name = "resnet" + std::to_string(depth) + (shortcut == Shortcut::B ? "_b" : "");
  return std::make_shared<CifarResNet>(depth, shortcut, a, name);
}

// ---- Wide ResNet --------------------------------------------------------------------

WideBasic::WideBasic(int64_t in_planes, int64_t planes, int64_t stride, double p) {
  bn1 = register_module("bn1", std::make_shared<nn::BatchNorm2d>(in_planes));
  relu = register_module("relu", std::make_shared<nn::ReLU>());
  conv1 = register_module("conv1", conv3x3(in_planes, planes, stride));
  bn2 = register_module("bn2", std::make_shared<nn::BatchNorm2d>(planes));
  dropout = register_module("dropout", std::make_shared<nn::Dropout>(p));
  conv2 = register_module("conv2", conv3x3(planes, planes));
  if (stride != 1 || in_planes != planes) shortcut = register_module("shortcut", conv1x1(in_planes, planes, stride));
}

Tensor WideBasic::forward(const Tensor& x) {
  const Tensor o = (*relu)((*bn1)(x));
  Tensor y = (*conv1)(o);
  y = (*conv2)((*dropout)((*relu)((*bn2)(y))));
  return ops::add(y, shortcut ? (*shortcut)(o) : x, residual_label(*this));
}

WideResNet::WideResNet(int64_t depth, int64_t k, double dropout, const ModelArgs& a, std::string name)
    : name_(std::move(name)) {
  CONVNET_CHECK(depth >= 10 && (depth - 4) % 6 == 0, name_,
                ": depth must be 6n + 4 with n >= 1 (16, 22, 28, 40, ...), got ", depth);
  CONVNET_CHECK(k >= 1, name_, ": widen factor must be positive, got ", k);
  CONVNET_CHECK(dropout >= 0 && dropout < 1, name_, ": dropout must be in [0, 1), got ", dropout);
  check_model_args(a, name_);
  const int64_t n = (depth - 4) / 6;
  conv1 = register_module("conv1", conv3x3(a.in_channels, 16));
  int64_t in = 16;
  auto stage = [&](int64_t planes, int64_t stride) {
    auto layer = std::make_shared<nn::Sequential>();
    for (int64_t i = 0; i < n; ++i) {
      layer->add(std::make_shared<WideBasic>(in, planes, i == 0 ? stride : 1, dropout));
      in = planes;
    }
    return layer;
  };
  layer1 = register_module("layer1", stage(16 * k, 1));
  layer2 = register_module("layer2", stage(32 * k, 2));
  layer3 = register_module("layer3", stage(64 * k, 2));
  // Pre-activation networks end with the BN-ReLU that the last block's output has not had.
  bn = register_module("bn", std::make_shared<nn::BatchNorm2d>(64 * k));
  relu = register_module("relu", std::make_shared<nn::ReLU>());
  avgpool = register_module("avgpool", std::make_shared<nn::AdaptiveAvgPool2d>(1));
  fc = register_module("fc", std::make_shared<nn::Linear>(64 * k, a.num_classes));
  // The authors' code: He (MSRA) normal convolutions, BN 1/0, zero Linear bias.
  init_resnet_weights_(*this);
  nn::init::zeros_(fc->bias);
}

Tensor WideResNet::forward(const Tensor& x) {
  check_input_size(x, kResNetMinInputSize, name_);
  Tensor y = (*layer3)((*layer2)((*layer1)((*conv1)(x))));
  y = (*relu)((*bn)(y));
  return (*fc)((*avgpool)(y).flatten(1));
}

std::shared_ptr<WideResNet> wide_resnet_cifar(int64_t depth, int64_t k, double dropout, const ModelArgs& a) {
  return std::make_shared<WideResNet>(depth, k, dropout, a, "wrn" + std::to_string(depth) + "_" + std::to_string(k));
}

}  // namespace convnet::models
