// The ResNet family and MobileNetV2: shapes on 28x28 and 32x32 inputs, the smallest input,
// parameter counts worked out by hand from the papers' architectures, the option A
// shortcut computed by hand, the PyTorch peer's resnet_cifar count, torchvision's names,
// and the initialization schemes. (Logits against torchvision: models_test_torchvision.)
#include <cmath>

#include "convnet/autograd/autograd.h"
#include "convnet/core/rng.h"
#include "convnet/models/mobilenet.h"
#include "convnet/models/registry.h"
#include "convnet/models/resnet.h"
#include "convnet/ops/elementwise.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;

namespace {

const std::vector<std::string> kTorchvision = {"resnet18",  "resnet34",        "resnet50",        "resnet101",
                                               "resnet152", "resnext50_32x4d", "wide_resnet50_2", "mobilenet_v2"};
const std::vector<std::string> kCifar = {"resnet20",   "resnet32",   "resnet44",   "resnet56",   "resnet110",
                                         "resnet20_b", "resnet32_b", "resnet44_b", "resnet56_b", "resnet110_b"};

models::ModelArgs args(int64_t in_channels, int64_t size, int64_t classes = 10) {
  models::ModelArgs a;
  a.in_channels = in_channels;
  a.input_size = size;
  a.num_classes = classes;
  return a;
}

std::map<std::string, Shape> shapes(const nn::Module& m) {
  std::map<std::string, Shape> out;
  for (const auto& [n, t] : m.state_dict()) out[n] = t.shape();
  return out;
}

// ---- parameter counts by hand ---------------------------------------------------------
// A bias-free k x k convolution has in*out*k*k weights; a BatchNorm has 2c (weight, bias;
// running statistics are buffers); a Linear in*out + out.
int64_t conv(int64_t in, int64_t out, int64_t k) {
  return in * out * k * k;
}
int64_t bn(int64_t c) {
  return 2 * c;
}
int64_t linear(int64_t in, int64_t out) {
  return in * out + out;
}

// He et al. 2016, section 4.2: a 3x3 conv to 16 channels, then 3 stages of n basic blocks
// (two 3x3 convs with BN each) at 16, 32, 64 channels, global average pooling, fc.
// Option A shortcuts have no parameters; option B adds conv1x1 + BN where the width changes.
int64_t cifar_resnet_params(int64_t depth, bool option_b, int64_t in_channels = 3, int64_t classes = 10) {
  const int64_t n = (depth - 2) / 6;
  int64_t total = conv(in_channels, 16, 3) + bn(16);
  int64_t in = 16;
  for (int64_t w : {16, 32, 64}) {
    total += conv(in, w, 3) + bn(w) + conv(w, w, 3) + bn(w);
    if (option_b && in != w) total += conv(in, w, 1) + bn(w);
    total += (n - 1) * (2 * conv(w, w, 3) + 2 * bn(w));
    in = w;
  }
  return total + linear(64, classes);
}

// The PyTorch peer (shared/bench/pytorch_peer.py), read line by line:
//   layers = [Conv2d(in_ch, 16, 3, 1, 1, bias=False), BatchNorm2d(16), ReLU()]; cin = 16
//   for cout, stride in [(16, 1), (32, 2), (64, 2)]: n BasicBlock(cin, cout, stride if i == 0 else 1)
//   BasicBlock: c1 = Conv2d(cin, cout, 3, stride, 1, bias=False); b1 = BatchNorm2d(cout)
//               c2 = Conv2d(cout, cout, 3, 1, 1, bias=False); b2 = BatchNorm2d(cout)
//               short = Sequential(Conv2d(cin, cout, 1, stride, bias=False), BatchNorm2d(cout))
//                       if stride != 1 or cin != cout
//   layers += [AdaptiveAvgPool2d(1), Flatten(), Linear(64, num_classes)]
int64_t peer_resnet_cifar_params(int64_t depth, int64_t classes = 10, int64_t in_ch = 3) {
  const int64_t n = (depth - 2) / 6;
  int64_t p = in_ch * 16 * 9 + 2 * 16;
  int64_t cin = 16;
  const std::pair<int64_t, int64_t> stages[] = {{16, 1}, {32, 2}, {64, 2}};
  for (auto [cout, stride0] : stages)
    for (int64_t i = 0; i < n; ++i) {
      const int64_t stride = i == 0 ? stride0 : 1;
      p += cin * cout * 9 + 2 * cout + cout * cout * 9 + 2 * cout;
      if (stride != 1 || cin != cout) p += cin * cout + 2 * cout;
      cin = cout;
    }
  return p + 64 * classes + classes;
}

// Zagoruyko & Komodakis 2016: conv 3x3 to 16, three stages of (d - 4) / 6 pre-activation
// blocks BN-conv3x3-BN-conv3x3 at 16k, 32k, 64k (1x1 conv shortcut in each stage's first
// block, where the width changes), a final BN, fc. All convolutions bias-free.
int64_t wrn_params(int64_t depth, int64_t k, int64_t in_channels = 3, int64_t classes = 10) {
  const int64_t n = (depth - 4) / 6;
  int64_t total = conv(in_channels, 16, 3);
  int64_t in = 16;
  for (int64_t w : {16 * k, 32 * k, 64 * k}) {
    total += bn(in) + conv(in, w, 3) + bn(w) + conv(w, w, 3) + (in != w ? conv(in, w, 1) : 0);
    total += (n - 1) * (2 * bn(w) + 2 * conv(w, w, 3));
    in = w;
  }
  return total + bn(64 * k) + linear(64 * k, classes);
}

}  // namespace

TEST(ResNetZoo, EveryModelIsRegisteredWithItsSizes) {
  for (const auto& n : kTorchvision) {
    SCOPED_TRACE(n);
    EXPECT_TRUE(models::info(n).torchvision);
    EXPECT_EQ(models::info(n).min_input_size, 1);
    EXPECT_EQ(models::info(n).default_input_size, 224);
  }
  for (const auto& n : kCifar) {
    SCOPED_TRACE(n);
    EXPECT_FALSE(models::info(n).torchvision);
    EXPECT_EQ(models::info(n).min_input_size, 1);
    EXPECT_EQ(models::info(n).default_input_size, 32);
  }
  EXPECT_EQ(models::info("wrn28_10").default_input_size, 32);
}

TEST(ResNetZoo, OutputShapesOn28And32Inputs) {
  NoGradGuard no_grad;  // shapes only: no graph, less memory
  Generator gen(0);
  // One model per block type and shortcut kind; the deeper and wider ones are the same
  // classes with other stage lengths (and all run in the torchvision harness).
  for (const std::string n : {"resnet18", "resnet50", "resnext50_32x4d", "mobilenet_v2", "resnet20", "resnet44",
                              "resnet20_b", "resnet56_b"}) {
    SCOPED_TRACE(n);
    auto gray = models::create(n, args(1, 28));
    EXPECT_EQ((*gray)(Tensor::randn({2, 1, 28, 28}, gen)).shape(), (Shape{2, 10}));
    auto rgb = models::create(n, args(3, 32, 7));
    EXPECT_EQ((*rgb)(Tensor::randn({2, 3, 32, 32}, gen)).shape(), (Shape{2, 7}));
  }
  // WRN-28-10 costs ~5 GFLOPs per 32x32 image: one batch in eval mode, and the 28x28 case
  // on the same architecture at width 1.
  auto wrn = models::create("wrn28_10", args(3, 32));
  wrn->eval();
  EXPECT_EQ((*wrn)(Tensor::randn({2, 3, 32, 32}, gen)).shape(), (Shape{2, 10}));
  auto wrn_small = models::wide_resnet_cifar(28, 1, 0.3, args(1, 28));
  EXPECT_EQ((*wrn_small)(Tensor::randn({2, 1, 28, 28}, gen)).shape(), (Shape{2, 10}));
}

TEST(ResNetZoo, SmallestInputWorksAndSmallerOnesAreRejected) {
  NoGradGuard no_grad;
  Generator gen(1);
  std::vector<std::string> all = kTorchvision;
  all.insert(all.end(), kCifar.begin(), kCifar.end());
  all.push_back("wrn28_10");
  for (const auto& n : all) {
    SCOPED_TRACE(n);
    const int64_t s = models::info(n).min_input_size;
    if (n == "wrn28_10" || n == "wide_resnet50_2" || n == "resnet152" || n == "resnet101" || n == "resnet110" ||
        n == "resnet110_b")
      continue;  // big, and the same code as the smaller ones
    auto net = models::create(n, args(3, s));
    // The smallest input runs, in training mode too (BatchNorm over N * 1 * 1 = 2 values).
    EXPECT_EQ((*net)(Tensor::randn({2, 3, s, s}, gen)).shape(), (Shape{2, 10}));
    net->eval();
    EXPECT_EQ((*net)(Tensor::randn({1, 3, s, s}, gen)).shape(), (Shape{1, 10}));
    // An empty image is too small; a 3-D tensor is no batch.
    expect_error(
        [&] {
          (*net)(Tensor::zeros({2, 3, 0, 0}));
        },
        {n + ": input of shape (2, 3, 0, 0) is too small", "smallest input this model accepts is 1x1"});
    expect_error([&] { (*net)(Tensor::zeros({3, 32, 32})); }, {n, "4-D input", "(3, 32, 32)"});
  }
}

TEST(ResNetCifar, ParameterCountsMatchTheFormulaAndThePaper) {
  // He et al. 2016, Table 6: 0.27M, 0.46M, 0.66M, 0.85M, 1.7M parameters (CIFAR-10).
  const std::vector<std::pair<int64_t, double>> paper = {{20, 0.27}, {32, 0.46}, {44, 0.66}, {56, 0.85}, {110, 1.7}};
  for (auto [depth, millions] : paper) {
    SCOPED_TRACE(depth);
    const int64_t expected = cifar_resnet_params(depth, false);
    auto net = models::create("resnet" + std::to_string(depth), args(3, 32));
    EXPECT_EQ(net->num_parameters(), expected);
    // The table rounds to 2 decimals of a million (1 for ResNet-110).
    const double scale = depth == 110 ? 10 : 100;
    EXPECT_DOUBLE_EQ(std::round(static_cast<double>(expected) / 1e6 * scale) / scale, millions);
    // Option B adds the two projections (16->32 and 32->64, each conv1x1 + BN): 2752.
    auto b = models::create("resnet" + std::to_string(depth) + "_b", args(3, 32));
    EXPECT_EQ(b->num_parameters(), cifar_resnet_params(depth, true));
    EXPECT_EQ(b->num_parameters() - net->num_parameters(), 16 * 32 + 64 + 32 * 64 + 128);
  }
  // Worked out once in full for ResNet-20 (n = 3), option A:
  //   stem 432 + 32; stage 1: 3 * (2 * 2304 + 64) = 14016;
  //   stage 2: 4608 + 9216 + 128 + 2 * (2 * 9216 + 128) = 51072;
  //   stage 3: 18432 + 36864 + 256 + 2 * (2 * 36864 + 256) = 203520; fc 650.
  EXPECT_EQ(cifar_resnet_params(20, false), 269722);
  EXPECT_EQ(models::create("resnet20", args(3, 32))->num_parameters(), 269722);
  // Gray inputs change only the first convolution.
  EXPECT_EQ(models::create("resnet20", args(1, 28))->num_parameters(), 269722 - 2 * 16 * 9);
}

TEST(ResNetCifar, OptionBIsThePyTorchPeersNetwork) {
  // Benchmarks compare resnet20_b with the peer's resnet_cifar(20): same count, same layers.
  EXPECT_EQ(peer_resnet_cifar_params(20), 272474);
  for (int64_t depth : {20, 56, 110})
    EXPECT_EQ(models::create("resnet" + std::to_string(depth) + "_b", args(3, 32))->num_parameters(),
              peer_resnet_cifar_params(depth))
        << depth;
  auto s = shapes(*models::create("resnet20_b", args(3, 32)));
  EXPECT_EQ(s.at("conv1.weight"), (Shape{16, 3, 3, 3}));
  EXPECT_EQ(s.at("layer1.2.conv2.weight"), (Shape{16, 16, 3, 3}));
  EXPECT_EQ(s.at("layer2.0.conv1.weight"), (Shape{32, 16, 3, 3}));
  EXPECT_EQ(s.at("layer2.0.downsample.0.weight"), (Shape{32, 16, 1, 1}));
  EXPECT_EQ(s.at("layer2.0.downsample.1.running_var"), (Shape{32}));
  EXPECT_EQ(s.at("layer3.0.downsample.0.weight"), (Shape{64, 32, 1, 1}));
  EXPECT_EQ(s.at("fc.weight"), (Shape{10, 64}));
  EXPECT_EQ(s.count("layer1.0.downsample.0.weight"), 0u);  // same shape: identity, as the peer
  EXPECT_EQ(s.count("layer2.1.downsample.0.weight"), 0u);
}

TEST(ResNetCifar, OptionAShortcutSubsamplesAndZeroPads) {
  models::ZeroPadShortcut sc(2, 4, 2);
  EXPECT_EQ(sc.num_parameters(), 0);
  // x[0, c, h, w] = 16c + 4h + w on a 4x4 map; stride 2 keeps rows and columns 0 and 2.
  std::vector<float> v(2 * 16);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
  Tensor x = Tensor::from_vector({1, 2, 4, 4}, v).requires_grad_();
  Tensor y = sc(x);
  ASSERT_EQ(y.shape(), (Shape{1, 4, 2, 2}));
  EXPECT_EQ(y.to_vector(), (std::vector<float>{0, 2, 8, 10, 16, 18, 24, 26, 0, 0, 0, 0, 0, 0, 0, 0}));
  // The gradient reaches exactly the kept pixels; the padded channels are constants.
  y.backward(Tensor::full({1, 4, 2, 2}, 3.f));
  std::vector<float> g(32, 0.f);
  for (int c = 0; c < 2; ++c)
    for (int h : {0, 2})
      for (int w : {0, 2}) g[16 * c + 4 * h + w] = 3.f;
  EXPECT_EQ(x.grad().to_vector(), g);
  // Odd sizes subsample like the strided 3x3 convolution beside it: 7 -> 4.
  EXPECT_EQ(models::ZeroPadShortcut(16, 32, 2)(Tensor::zeros({1, 16, 7, 7})).shape(), (Shape{1, 32, 4, 4}));
  expect_error([&] { sc(Tensor::zeros({1, 3, 4, 4})); }, {"ZeroPadShortcut", "(1, 3, 4, 4)"});

  // In the network: no parameter belongs to a shortcut, and the stage changes use it.
  auto net = models::resnet_cifar(20, models::Shortcut::A, args(3, 32));
  for (const auto& [n, p] : net->named_parameters()) EXPECT_EQ(n.find("downsample"), std::string::npos) << n;
  int shortcuts = 0;
  for (const auto& [n, m] : net->named_modules())
    if (dynamic_cast<models::ZeroPadShortcut*>(m)) {
      EXPECT_TRUE(n == "layer2.0.downsample" || n == "layer3.0.downsample") << n;
      ++shortcuts;
    }
  EXPECT_EQ(shortcuts, 2);
}

TEST(ResNetCifar, EveryParameterGetsAGradient) {
  Generator gen(2);
  for (const char* n : {"resnet20", "resnet20_b"}) {
    SCOPED_TRACE(n);
    auto net = models::create(n, args(3, 8));
    ops::sum((*net)(Tensor::randn({2, 3, 8, 8}, gen)) * Tensor::randn({2, 10}, gen)).backward();
    for (const auto& [name, p] : net->named_parameters()) {
      ASSERT_TRUE(p.grad().defined()) << name;
      double s = 0;
      for (float g : p.grad().to_vector()) s += std::abs(g);
      EXPECT_GT(s, 0) << name;
    }
  }
}

TEST(WideResNet, Wrn28_10HasThePapersSizeAndDropout) {
  // Zagoruyko & Komodakis 2016 list WRN-28-10 with 36.5M parameters (their CIFAR results table).
  const int64_t expected = wrn_params(28, 10);
  EXPECT_NEAR(static_cast<double>(expected), 36.5e6, 0.05e6);
  auto net = models::create("wrn28_10", args(3, 32));
  EXPECT_EQ(net->num_parameters(), expected);
  int dropouts = 0;
  for (const auto& [n, m] : net->named_modules())
    if (auto* d = dynamic_cast<nn::Dropout*>(m)) {
      EXPECT_DOUBLE_EQ(d->p, 0.3) << n;
      ++dropouts;
    }
  EXPECT_EQ(dropouts, 12);  // one per block, 4 blocks per stage
  auto s = shapes(*net);
  EXPECT_EQ(s.at("layer1.0.shortcut.weight"), (Shape{160, 16, 1, 1}));  // 16 -> 160 at stride 1
  EXPECT_EQ(s.at("layer2.0.shortcut.weight"), (Shape{320, 160, 1, 1}));
  EXPECT_EQ(s.at("layer3.3.conv2.weight"), (Shape{640, 640, 3, 3}));
  EXPECT_EQ(s.at("bn.weight"), (Shape{640}));
  EXPECT_EQ(s.count("layer1.1.shortcut.weight"), 0u);
}

TEST(WideResNet, DropoutIsConfigurableAndOnlyActsInTraining) {
  EXPECT_EQ(models::wide_resnet_cifar(16, 2, 0.0, args(3, 32))->num_parameters(), wrn_params(16, 2));
  Generator gen(3);
  Tensor x = Tensor::randn({2, 3, 8, 8}, gen);
  manual_seed(5);
  auto plain = models::wide_resnet_cifar(16, 2, 0.0, args(3, 8));
  manual_seed(5);
  auto dropped = models::wide_resnet_cifar(16, 2, 0.5, args(3, 8));
  NoGradGuard no_grad;
  plain->eval();
  dropped->eval();
  EXPECT_TRUE(all_close((*plain)(x), (*dropped)(x), 0, 0));  // same weights, dropout off in eval
  plain->train();
  dropped->train();
  EXPECT_FALSE(all_close((*plain)(x), (*dropped)(x), 1e-3, 1e-3));
  expect_error([] { models::wide_resnet_cifar(27, 10); }, {"wrn27_10", "depth must be 6n + 4"});
  expect_error([] { models::resnet_cifar(21, models::Shortcut::A); }, {"resnet21", "depth must be 6n + 2"});
}

TEST(TorchvisionResNet, NamesShapesAndPublishedCounts) {
  // torchvision's weight tables: resnet18 11,689,512 and mobilenet_v2 3,504,872 parameters.
  EXPECT_EQ(models::create("resnet18", args(3, 224, 1000))->num_parameters(), 11689512);
  EXPECT_EQ(models::create("mobilenet_v2", args(3, 224, 1000))->num_parameters(), 3504872);

  auto r18 = models::resnet18(args(1, 28));
  auto s = shapes(*r18);
  EXPECT_EQ(s.at("conv1.weight"), (Shape{64, 1, 7, 7}));
  EXPECT_EQ(s.at("layer2.0.downsample.0.weight"), (Shape{128, 64, 1, 1}));
  EXPECT_EQ(s.at("layer2.0.downsample.1.num_batches_tracked"), (Shape{}));
  EXPECT_EQ(s.at("fc.weight"), (Shape{10, 512}));
  EXPECT_EQ(s.count("layer1.0.downsample.0.weight"), 0u);  // 64 -> 64 at stride 1: identity
  EXPECT_EQ(r18->layer2->named_children().size(), 2u);

  auto r50 = models::resnet50(args(3, 32));
  s = shapes(*r50);
  EXPECT_EQ(s.at("layer1.0.downsample.0.weight"), (Shape{256, 64, 1, 1}));  // width changes at stride 1
  EXPECT_EQ(s.at("layer4.2.conv3.weight"), (Shape{2048, 512, 1, 1}));
  EXPECT_EQ(s.at("fc.weight"), (Shape{10, 2048}));
  // ResNet v1.5: the stride sits on the 3x3 convolution, not the first 1x1.
  auto* b = dynamic_cast<models::Bottleneck*>((*r50->layer2)[0].get());
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->conv1->options().args.stride, (std::array<int64_t, 2>{1, 1}));
  EXPECT_EQ(b->conv2->options().args.stride, (std::array<int64_t, 2>{2, 2}));

  // ResNeXt-50 32x4d: width = int(64 * 4 / 64) * 32 = 128 in groups of 4 channels.
  s = shapes(*models::resnext50_32x4d(args(3, 32)));
  EXPECT_EQ(s.at("layer1.0.conv2.weight"), (Shape{128, 4, 3, 3}));
  EXPECT_EQ(s.at("layer4.0.conv2.weight"), (Shape{1024, 32, 3, 3}));
  // Wide ResNet-50-2: width = 64 * 128 / 64 = 128 in layer1, outputs unchanged (256).
  s = shapes(*models::wide_resnet50_2(args(3, 32)));
  EXPECT_EQ(s.at("layer1.0.conv1.weight"), (Shape{128, 64, 1, 1}));
  EXPECT_EQ(s.at("layer1.0.conv3.weight"), (Shape{256, 128, 1, 1}));
}

TEST(TorchvisionResNet, InitializationIsKaimingFanOutAndUnitBatchNorm) {
  manual_seed(7);
  auto net = models::resnet18(args(3, 32));
  // conv1: 64 x 3 x 7 x 7 weights, fan_out = 64 * 49, std = sqrt(2 / fan_out).
  const auto w = net->conv1->weight.to_vector();
  double sum = 0, sq = 0;
  for (float v : w) sum += v, sq += double(v) * v;
  const double mean = sum / w.size(), sd = std::sqrt(sq / w.size() - mean * mean);
  EXPECT_NEAR(sd, std::sqrt(2.0 / (64 * 49)), 0.05 * std::sqrt(2.0 / (64 * 49)));
  EXPECT_NEAR(mean, 0, 4 * std::sqrt(2.0 / (64 * 49)) / std::sqrt(double(w.size())));
  for (const auto& [n, m] : net->named_modules())
    if (auto* b = dynamic_cast<nn::BatchNorm*>(m)) {
      for (float v : b->weight.to_vector()) ASSERT_EQ(v, 1.f) << n;
      for (float v : b->bias.to_vector()) ASSERT_EQ(v, 0.f) << n;
    }
}

TEST(MobileNetV2, MakeDivisibleFollowsTorchvision) {
  // max(8, int(v + 4) // 8 * 8), plus 8 when that is more than 10% below v.
  EXPECT_EQ(models::make_divisible(32, 8), 32);
  EXPECT_EQ(models::make_divisible(1280, 8), 1280);
  EXPECT_EQ(models::make_divisible(12, 8), 16);    // int(16) // 8 * 8 = 16: ties round up
  EXPECT_EQ(models::make_divisible(11.2, 8), 16);  // 8 < 0.9 * 11.2, so 8 + 8
  EXPECT_EQ(models::make_divisible(3, 8), 8);      // at least the divisor
  EXPECT_EQ(models::make_divisible(100, 8), 104);  // int(104) // 8 * 8 = 104
  EXPECT_EQ(models::make_divisible(91, 8), 88);    // 88 >= 0.9 * 91
}

TEST(MobileNetV2, NamesEqualTorchvisionKeys) {
  auto net = models::mobilenet_v2(args(3, 32));
  auto s = shapes(*net);
  EXPECT_EQ(net->features->size(), 19u);
  EXPECT_EQ(s.at("features.0.0.weight"), (Shape{32, 3, 3, 3}));
  EXPECT_EQ(s.at("features.0.1.running_mean"), (Shape{32}));
  // t = 1: depthwise conv, then the linear 1x1 projection and its BN.
  EXPECT_EQ(s.at("features.1.conv.0.0.weight"), (Shape{32, 1, 3, 3}));
  EXPECT_EQ(s.at("features.1.conv.1.weight"), (Shape{16, 32, 1, 1}));
  EXPECT_EQ(s.at("features.1.conv.2.bias"), (Shape{16}));
  // t = 6: 1x1 expansion 16 -> 96, depthwise, projection 96 -> 24.
  EXPECT_EQ(s.at("features.2.conv.0.0.weight"), (Shape{96, 16, 1, 1}));
  EXPECT_EQ(s.at("features.2.conv.1.0.weight"), (Shape{96, 1, 3, 3}));
  EXPECT_EQ(s.at("features.2.conv.2.weight"), (Shape{24, 96, 1, 1}));
  EXPECT_EQ(s.at("features.2.conv.3.num_batches_tracked"), (Shape{}));
  EXPECT_EQ(s.at("features.17.conv.2.weight"), (Shape{320, 960, 1, 1}));
  EXPECT_EQ(s.at("features.18.0.weight"), (Shape{1280, 320, 1, 1}));
  EXPECT_EQ(s.at("classifier.1.weight"), (Shape{10, 1280}));
  EXPECT_EQ(s.count("features.1.conv.3.weight"), 0u);
  // Residual connections only where stride is 1 and the width is unchanged.
  auto res = [&](size_t i) { return dynamic_cast<models::InvertedResidual&>(*(*net->features)[i]).use_res_connect; };
  EXPECT_FALSE(res(1));   // 32 -> 16
  EXPECT_FALSE(res(2));   // stride 2
  EXPECT_TRUE(res(3));    // 24 -> 24
  EXPECT_FALSE(res(11));  // 64 -> 96 at stride 1
  EXPECT_TRUE(res(12));
  // The activations are ReLU6 modules, where torchvision has nn.ReLU6.
  EXPECT_EQ((*net->features)[0]->named_children().at(2).second->type_name(), "ReLU6");
  auto& dropout = dynamic_cast<nn::Dropout&>(*(*net->classifier)[0]);
  EXPECT_DOUBLE_EQ(dropout.p, 0.2);
}

TEST(MobileNetV2, InitializationAsTorchvision) {
  manual_seed(11);
  auto net = models::mobilenet_v2(args(3, 32));
  auto& fc = dynamic_cast<nn::Linear&>(*(*net->classifier)[1]);
  const auto w = fc.weight.to_vector();
  double sq = 0;
  for (float v : w) sq += double(v) * v;
  EXPECT_NEAR(std::sqrt(sq / w.size()), 0.01, 0.0005);  // N(0, 0.01), 12800 draws
  for (float v : fc.bias.to_vector()) EXPECT_EQ(v, 0.f);
  // Pointwise 1280 x 320 conv: fan_out = 1280, std = sqrt(2 / 1280).
  auto& head = dynamic_cast<nn::Conv2d&>(*(*net->features)[18]->named_children().at(0).second);
  const auto hw = head.weight.to_vector();
  sq = 0;
  for (float v : hw) sq += double(v) * v;
  EXPECT_NEAR(std::sqrt(sq / hw.size()), std::sqrt(2.0 / 1280), 0.02 * std::sqrt(2.0 / 1280));
}

TEST(ReLU6Module, ClampsToZeroAndSix) {
  nn::ReLU6 act;
  EXPECT_EQ(act(Tensor::from_vector({4}, {-3.f, 2.f, 6.f, 9.f})).to_vector(), (std::vector<float>{0.f, 2.f, 6.f, 6.f}));
  EXPECT_EQ(act.type_name(), "ReLU6");
}
