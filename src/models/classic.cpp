// AlexNet, VGG, NIN and All-CNN-C; the definitions and their sources are in
// include/convnet/models/classic.h.
#include "convnet/models/classic.h"

#include <utility>
#include <vector>

#include "convnet/core/error.h"
#include "convnet/nn/init.h"
#include "models/families.h"

namespace convnet::models {

// ---- ClassifierNet ------------------------------------------------------------------

ClassifierNet::ClassifierNet(std::string type, std::string model, int64_t min_input_size,
                             std::shared_ptr<nn::Sequential> features_, std::shared_ptr<nn::AdaptiveAvgPool2d> avgpool_,
                             std::shared_ptr<nn::Sequential> classifier_, bool fully_conv)
    : type_(std::move(type)), model_(std::move(model)), min_input_size_(min_input_size), fully_conv_(fully_conv) {
  features = register_module("features", std::move(features_));
  avgpool = register_module("avgpool", std::move(avgpool_));
  classifier = register_module("classifier", std::move(classifier_));
}

Tensor ClassifierNet::forward(const Tensor& input) {
  check_input_size(input, min_input_size_, model_);
  Tensor x = (*features)(input);
  if (!score_map_) x = (*avgpool)(x);
  // torch.flatten(x, 1) before the Linear head; the convolutional head keeps the map.
  if (!fully_conv_) x = x.flatten(1);
  x = (*classifier)(x);
  // (N, K, 1, 1) -> (N, K), the shape the Linear head gives.
  if (fully_conv_ && !score_map_) x = x.flatten(1);
  return x;
}

void ClassifierNet::to_fully_convolutional() {
  if (fully_conv_) return;
  // The first Linear sees avgpool's C x KH x KW map flattened in (C, KH, KW) row-major
  // order, which is exactly the memory layout of a (OC, C, KH, KW) convolution weight;
  // every later Linear sees a 1x1 map.
  std::array<int64_t, 2> k = avgpool->output_size;
  for (size_t i = 0; i < classifier->size(); ++i) {
    auto lin = std::dynamic_pointer_cast<nn::Linear>((*classifier)[i]);
    if (!lin) continue;
    CONVNET_CHECK(lin->in_features % (k[0] * k[1]) == 0, model_, ": to_fully_convolutional: ", lin->label(), " has ",
                  lin->in_features, " inputs, not a multiple of the ", k[0], "x", k[1], " map it follows");
    const bool with_bias = lin->bias.defined();
    auto conv = std::make_shared<nn::Conv2d>(
        nn::Conv2dOptions(lin->in_features / (k[0] * k[1]), lin->out_features, k).bias(with_bias));
    conv->weight.copy_(lin->weight);
    conv->weight.requires_grad_(lin->weight.requires_grad());  // keep a frozen head frozen
    if (with_bias) {
      conv->bias.copy_(lin->bias);
      conv->bias.requires_grad_(lin->bias.requires_grad());
    }
    classifier->replace(i, conv);
    k = {1, 1};
  }
  fully_conv_ = true;
}

void ClassifierNet::set_score_map(bool on) {
  CONVNET_CHECK(
      !on || fully_conv_, model_,
      ": set_score_map needs a fully-convolutional model (ModelArgs::fully_conv or to_fully_convolutional())");
  score_map_ = on;
}

void to_fully_convolutional(nn::Module& model) {
  auto* net = dynamic_cast<ClassifierNet*>(&model);
  CONVNET_CHECK(net != nullptr, "to_fully_convolutional: ", model.type_name(),
                " has no features/avgpool/classifier head to convert (alexnet, alexnet_cifar and vgg* have one)");
  net->to_fully_convolutional();
}

namespace {

// A fully-connected layer over a C x k x k map: Linear(C*k*k, out), or its convolutional
// form Conv2d(C, out, k). Both get PyTorch's default init from the same fan_in = C*k*k.
nn::ModulePtr fc(int64_t channels, int64_t k, int64_t out, bool fully_conv) {
  if (fully_conv) return std::make_shared<nn::Conv2d>(channels, out, k);
  return std::make_shared<nn::Linear>(channels * k * k, out);
}

std::shared_ptr<nn::MaxPool2d> max_pool(int64_t k, int64_t s, int64_t p = 0, bool ceil = false) {
  return std::make_shared<nn::MaxPool2d>(k, s, p, 1, ceil);
}
nn::ModulePtr relu() {
  return std::make_shared<nn::ReLU>();
}
nn::ModulePtr dropout(double p) {
  return std::make_shared<nn::Dropout>(p);
}

// ---- AlexNet ------------------------------------------------------------------------

// torchvision's classifier: Dropout, fc, ReLU, Dropout, fc, ReLU, fc.
std::shared_ptr<nn::Sequential> alexnet_classifier(int64_t channels, int64_t k, int64_t hidden, int64_t classes,
                                                   bool fully_conv) {
  auto c = std::make_shared<nn::Sequential>();
  c->add(dropout(0.5));
  c->add(fc(channels, k, hidden, fully_conv));
  c->add(relu());
  c->add(dropout(0.5));
  c->add(fc(hidden, 1, hidden, fully_conv));
  c->add(relu());
  c->add(fc(hidden, 1, classes, fully_conv));
  return c;
}

}  // namespace

std::shared_ptr<ClassifierNet> alexnet(const ModelArgs& a) {
  check_model_args(a, "alexnet");
  auto f = std::make_shared<nn::Sequential>();
  f->add(std::make_shared<nn::Conv2d>(a.in_channels, 64, 11, 4, Padding(2)));
  f->add(relu());
  f->add(max_pool(3, 2));
  f->add(std::make_shared<nn::Conv2d>(64, 192, 5, 1, Padding(2)));
  f->add(relu());
  f->add(max_pool(3, 2));
  f->add(std::make_shared<nn::Conv2d>(192, 384, 3, 1, Padding(1)));
  f->add(relu());
  f->add(std::make_shared<nn::Conv2d>(384, 256, 3, 1, Padding(1)));
  f->add(relu());
  f->add(std::make_shared<nn::Conv2d>(256, 256, 3, 1, Padding(1)));
  f->add(relu());
  f->add(max_pool(3, 2));
  // 63 = the smallest H with floor((H - 7) / 4) + 1 = 15 after conv1, so that the three
  // 3x3/2 poolings see 15 -> 7 -> 3 -> 1.
  return std::make_shared<ClassifierNet>("AlexNet", "alexnet", 63, f, std::make_shared<nn::AdaptiveAvgPool2d>(6),
                                         alexnet_classifier(256, 6, 4096, a.num_classes, a.fully_conv), a.fully_conv);
}

std::shared_ptr<ClassifierNet> alexnet_cifar(const ModelArgs& a) {
  check_model_args(a, "alexnet_cifar");
  auto f = std::make_shared<nn::Sequential>();
  // 3x3/2 pooling padded by 1 halves a map rounding up (ceil(H/2)), so 32 -> 16 -> 8 -> 4
  // and 28 -> 14 -> 7 -> 4: the classifier sees 4x4 at both CIFAR and MNIST sizes.
  f->add(std::make_shared<nn::Conv2d>(a.in_channels, 64, 5, 1, Padding(2)));
  f->add(relu());
  f->add(max_pool(3, 2, 1));
  f->add(std::make_shared<nn::Conv2d>(64, 128, 5, 1, Padding(2)));
  f->add(relu());
  f->add(max_pool(3, 2, 1));
  f->add(std::make_shared<nn::Conv2d>(128, 256, 3, 1, Padding(1)));
  f->add(relu());
  f->add(std::make_shared<nn::Conv2d>(256, 256, 3, 1, Padding(1)));
  f->add(relu());
  f->add(std::make_shared<nn::Conv2d>(256, 256, 3, 1, Padding(1)));
  f->add(relu());
  f->add(max_pool(3, 2, 1));
  // Every layer keeps a 1x1 map 1x1 (and avgpool repeats it), so any size is accepted.
  return std::make_shared<ClassifierNet>("AlexNet", "alexnet_cifar", 1, f, std::make_shared<nn::AdaptiveAvgPool2d>(4),
                                         alexnet_classifier(256, 4, 512, a.num_classes, a.fully_conv), a.fully_conv);
}

// ---- VGG ----------------------------------------------------------------------------

namespace {

// One entry of a configuration (Simonyan & Zisserman, Table 1): a convolution with
// `channels` outputs and a `kernel` x `kernel` window, or a 2x2 max pooling (channels 0).
struct VGGLayer {
  int64_t channels;
  int64_t kernel = 3;
};
constexpr VGGLayer M{0};

std::vector<VGGLayer> vgg_layers(VGGConfig c) {
  // clang-format off
  switch (c) {
    case VGGConfig::A: return {{64},       M, {128},        M, {256}, {256},               M,
                               {512}, {512},               M, {512}, {512},               M};
    case VGGConfig::B: return {{64}, {64}, M, {128}, {128}, M, {256}, {256},               M,
                               {512}, {512},               M, {512}, {512},               M};
    case VGGConfig::C: return {{64}, {64}, M, {128}, {128}, M, {256}, {256}, {256, 1},     M,
                               {512}, {512}, {512, 1},     M, {512}, {512}, {512, 1},     M};
    case VGGConfig::D: return {{64}, {64}, M, {128}, {128}, M, {256}, {256}, {256},        M,
                               {512}, {512}, {512},        M, {512}, {512}, {512},        M};
    case VGGConfig::E: return {{64}, {64}, M, {128}, {128}, M, {256}, {256}, {256}, {256}, M,
                               {512}, {512}, {512}, {512}, M, {512}, {512}, {512}, {512}, M};
  }
  // clang-format on
  throw Error("vgg: unknown configuration");
}

std::string vgg_name(VGGConfig c, bool bn) {
  const char* base = c == VGGConfig::A   ? "vgg11"
                     : c == VGGConfig::B ? "vgg13"
                     : c == VGGConfig::C ? "vgg16c"
                     : c == VGGConfig::D ? "vgg16"
                                         : "vgg19";
  return std::string(base) + (bn ? "_bn" : "");
}

}  // namespace

std::shared_ptr<ClassifierNet> vgg(VGGConfig config, bool batch_norm, const ModelArgs& a) {
  const std::string name = vgg_name(config, batch_norm);
  check_model_args(a, name);
  // torchvision's make_layers: Conv2d [+ BatchNorm2d] + ReLU per entry, MaxPool2d(2, 2) for "M".
  auto f = std::make_shared<nn::Sequential>();
  int64_t in = a.in_channels;
  for (const VGGLayer& l : vgg_layers(config)) {
    if (l.channels == 0) {
      f->add(max_pool(2, 2));
      continue;
    }
    f->add(std::make_shared<nn::Conv2d>(in, l.channels, l.kernel, 1, Padding(l.kernel / 2)));
    if (batch_norm) f->add(std::make_shared<nn::BatchNorm2d>(l.channels));
    f->add(relu());
    in = l.channels;
  }
  auto c = std::make_shared<nn::Sequential>();
  c->add(fc(512, 7, 4096, a.fully_conv));
  c->add(relu());
  c->add(dropout(0.5));
  c->add(fc(4096, 1, 4096, a.fully_conv));
  c->add(relu());
  c->add(dropout(0.5));
  c->add(fc(4096, 1, a.num_classes, a.fully_conv));

  // torchvision's VGG.__init__ (init_weights=True). BatchNorm2d already starts at 1 / 0.
  for (auto& [n, m] : f->named_modules())
    if (auto* conv = dynamic_cast<nn::Conv2d*>(m)) {
      nn::init::kaiming_normal_(conv->weight, 0, nn::init::FanMode::FanOut, "relu");
      nn::init::zeros_(conv->bias);
    }
  // The head's layers are Linear in torchvision; their convolutional form is initialized
  // like them, so that fully_conv changes the form only.
  for (auto& [n, m] : c->named_modules()) {
    if (auto* lin = dynamic_cast<nn::Linear*>(m)) {
      nn::init::normal_(lin->weight, 0, 0.01);
      nn::init::zeros_(lin->bias);
    } else if (auto* conv = dynamic_cast<nn::Conv2d*>(m)) {
      nn::init::normal_(conv->weight, 0, 0.01);
      nn::init::zeros_(conv->bias);
    }
  }
  // 32 = 2^5: each of the five 2x2 poolings needs at least a 2x2 map.
  return std::make_shared<ClassifierNet>("VGG", name, 32, f, std::make_shared<nn::AdaptiveAvgPool2d>(7), c,
                                         a.fully_conv);
}

// ---- NIN and All-CNN-C ---------------------------------------------------------------

namespace {

// A Sequential with a model's own name for printing and the input-size check of the zoo.
class NamedSequential : public nn::Sequential {
 public:
  NamedSequential(std::string type, std::string model, int64_t min_input_size)
      : type_(std::move(type)), model_(std::move(model)), min_input_size_(min_input_size) {}
  Tensor forward(const Tensor& x) override {
    check_input_size(x, min_input_size_, model_);
    return nn::Sequential::forward(x);
  }
  std::string type_name() const override { return type_; }

 private:
  std::string type_, model_;
  int64_t min_input_size_;
};

// He et al. 2015 init for ReLU networks, as torchvision uses for its VGG and ResNet.
void kaiming_init(nn::Module& net) {
  for (auto& [n, m] : net.named_modules())
    if (auto* conv = dynamic_cast<nn::Conv2d*>(m)) {
      nn::init::kaiming_normal_(conv->weight, 0, nn::init::FanMode::FanOut, "relu");
      nn::init::zeros_(conv->bias);
    }
}

nn::ModulePtr conv(int64_t in, int64_t out, int64_t k, int64_t stride = 1, int64_t pad = 0) {
  return std::make_shared<nn::Conv2d>(in, out, k, stride, Padding(pad));
}

}  // namespace

std::shared_ptr<nn::Sequential> nin(const ModelArgs& a) {
  check_model_args(a, "nin");
  // 6 = the smallest H whose ceil-mode 3x3/2 max pooling leaves the 3x3 map the 3x3/2
  // average pooling needs (ceil((6 - 3) / 2) + 1 = 3).
  auto net = std::make_shared<NamedSequential>("NIN", "nin", 4);
  net->add("conv1", conv(a.in_channels, 192, 5, 1, 2));
  net->add("relu1", relu());
  net->add("cccp1", conv(192, 160, 1));
  net->add("relu_cccp1", relu());
  net->add("cccp2", conv(160, 96, 1));
  net->add("relu_cccp2", relu());
  net->add("pool1", max_pool(3, 2, 0, /*ceil=*/true));
  net->add("drop3", dropout(0.5));
  net->add("conv2", conv(96, 192, 5, 1, 2));
  net->add("relu2", relu());
  net->add("cccp3", conv(192, 192, 1));
  net->add("relu_cccp3", relu());
  net->add("cccp4", conv(192, 192, 1));
  net->add("relu_cccp4", relu());
  net->add("pool2", std::make_shared<nn::AvgPool2d>(3, 2, 0, /*ceil_mode=*/true));
  net->add("drop6", dropout(0.5));
  net->add("conv3", conv(192, 192, 3, 1, 1));
  net->add("relu3", relu());
  net->add("cccp5", conv(192, 192, 1));
  net->add("relu_cccp5", relu());
  net->add("cccp6", conv(192, a.num_classes, 1));
  net->add("relu_cccp6", relu());
  net->add("pool3", std::make_shared<nn::GlobalAvgPool2d>());
  net->add("flatten", std::make_shared<nn::Flatten>());
  kaiming_init(*net);
  return net;
}

std::shared_ptr<nn::Sequential> allconv(const ModelArgs& a) {
  check_model_args(a, "allconv");
  // 9: stride-2 convolutions (padding 1) give ceil(H/2): 9 -> 5 -> 3, the smallest map
  // the valid 3x3 conv7 accepts.
  auto net = std::make_shared<NamedSequential>("AllConvNet", "allconv", 9);
  net->add("drop0", dropout(0.2));
  net->add("conv1", conv(a.in_channels, 96, 3, 1, 1));
  net->add("relu1", relu());
  net->add("conv2", conv(96, 96, 3, 1, 1));
  net->add("relu2", relu());
  net->add("conv3", conv(96, 96, 3, 2, 1));
  net->add("relu3", relu());
  net->add("drop3", dropout(0.5));
  net->add("conv4", conv(96, 192, 3, 1, 1));
  net->add("relu4", relu());
  net->add("conv5", conv(192, 192, 3, 1, 1));
  net->add("relu5", relu());
  net->add("conv6", conv(192, 192, 3, 2, 1));
  net->add("relu6", relu());
  net->add("drop6", dropout(0.5));
  net->add("conv7", conv(192, 192, 3));
  net->add("relu7", relu());
  net->add("conv8", conv(192, 192, 1));
  net->add("relu8", relu());
  net->add("conv9", conv(192, a.num_classes, 1));
  net->add("relu9", relu());
  net->add("pool", std::make_shared<nn::GlobalAvgPool2d>());
  net->add("flatten", std::make_shared<nn::Flatten>());
  kaiming_init(*net);
  return net;
}

// ---- zoo ----------------------------------------------------------------------------

void add_classic_models(std::vector<ModelInfo>& zoo) {
  zoo.push_back({"alexnet", "AlexNet (torchvision): 5 convs, 3 max pools, 3 Linear with dropout (224x224 input)",
                 [](const ModelArgs& a) -> nn::ModulePtr { return alexnet(a); }, 63, 224, true});
  zoo.push_back({"alexnet_cifar",
                 "AlexNet for 28x28/32x32 inputs: 5 convs (5x5, 3x3), 3 overlapping max pools, "
                 "3 Linear (512) with dropout",
                 [](const ModelArgs& a) -> nn::ModulePtr { return alexnet_cifar(a); }, 1, 32, false});
  struct V {
    VGGConfig cfg;
    const char* depth;
    bool torchvision;
  };
  for (const V v : {V{VGGConfig::A, "11", true}, V{VGGConfig::B, "13", true}, V{VGGConfig::D, "16", true},
                    V{VGGConfig::E, "19", true}, V{VGGConfig::C, "16 (configuration C: 1x1 convs)", false}})
    for (bool bn : {false, true}) {
      const VGGConfig cfg = v.cfg;
      zoo.push_back({vgg_name(cfg, bn),
                     std::string("VGG-") + v.depth + (bn ? " with BatchNorm" : "") +
                         ": 3x3 convs, 5 max pools, 3 Linear (4096) with dropout",
                     [cfg, bn](const ModelArgs& a) -> nn::ModulePtr { return vgg(cfg, bn, a); }, 32, 224,
                     v.torchvision});
    }
  zoo.push_back({"nin", "Network in Network (CIFAR-10 model): 3 mlpconv blocks, global average pooling",
                 [](const ModelArgs& a) -> nn::ModulePtr { return nin(a); }, 4, 32, false});
  zoo.push_back({"allconv", "All-CNN-C: strided 3x3 convs instead of pooling, global average pooling",
                 [](const ModelArgs& a) -> nn::ModulePtr { return allconv(a); }, 9, 32, false});
  void add_vgg_cifar_models(std::vector<ModelInfo>&); add_vgg_cifar_models(zoo);  // src/models/vgg_cifar.cpp
}

}  // namespace convnet::models
