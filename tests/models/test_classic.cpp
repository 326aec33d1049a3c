// The classic family: AlexNet, alexnet_cifar, VGG (with configuration C), NIN, All-CNN-C.
// Shapes at MNIST and CIFAR sizes, the smallest inputs, parameter counts worked out by
// hand from the layer definitions, torchvision's VGG init, and the fully-convolutional
// head. Parity with torchvision itself is in test_torchvision.cpp.
#include <cmath>

#include "convnet/core/error.h"
#include "convnet/models/classic.h"
#include "convnet/models/registry.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;

namespace {

models::ModelArgs make_args(int64_t num_classes, int64_t in_channels, bool fully_conv = false) {
  models::ModelArgs a;
  a.num_classes = num_classes;
  a.in_channels = in_channels;
  a.fully_conv = fully_conv;
  return a;
}

// Parameters of Conv2d(in, out, k) with bias; Linear(in, out) is k = 1.
int64_t conv_params(int64_t in, int64_t out, int64_t k) {
  return in * out * k * k + out;
}

// Runs a Sequential's layers one by one, i.e. its geometry without the model's own
// input-size check, to show that the smallest size in the zoo is really the smallest.
Tensor run_layers(const nn::Sequential& seq, Tensor x) {
  for (size_t i = 0; i < seq.size(); ++i) x = (*seq[i])(x);
  return x;
}

bool throws(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error&) {
    return true;
  }
  return false;
}

// The big networks are built once and shared (read-only, eval mode) by the tests below:
// VGG-11 alone holds 129M parameters at 10 classes.
std::shared_ptr<models::ClassifierNet> shared_vgg11_bn() {
  static auto net = [] {
    auto n = models::vgg(models::VGGConfig::A, true, make_args(10, 3));
    n->eval();
    return n;
  }();
  return net;
}
std::shared_ptr<models::ClassifierNet> shared_alexnet() {
  static auto net = [] {
    auto n = models::alexnet(make_args(10, 3));
    n->eval();
    return n;
  }();
  return net;
}

double stddev(const Tensor& t) {
  const auto v = t.to_vector();
  double s = 0, s2 = 0;
  for (float x : v) s += x, s2 += double(x) * x;
  const double m = s / v.size();
  return std::sqrt(s2 / v.size() - m * m);
}

}  // namespace

TEST(Classic, OutputShapesAtMnistAndCifarSizes) {
  Generator gen(0);
  for (const std::string name : {"alexnet_cifar", "nin", "allconv"}) {
    for (int64_t c : {1, 3}) {
      SCOPED_TRACE(name + " with " + std::to_string(c) + " channels");
      auto net = models::create(name, make_args(10, c));
      net->eval();
      const int64_t size = c == 1 ? 28 : 32;
      EXPECT_EQ((*net)(Tensor::randn({2, c, size, size}, gen)).shape(), (Shape{2, 10}));
    }
  }
  // VGG's five 2x2 poolings do not fit 28x28 (28 -> 14 -> 7 -> 3 -> 1 -> 0); 32x32 only
  // (vgg16c: in ParameterCountsFromTheLayerDefinitions).
  EXPECT_EQ((*shared_vgg11_bn())(Tensor::randn({2, 3, 32, 32}, gen)).shape(), (Shape{2, 10}));
  // AlexNet at its smallest size (its adaptive pooling repeats the 1x1 map to 6x6).
  EXPECT_EQ((*shared_alexnet())(Tensor::randn({1, 3, 63, 63}, gen)).shape(), (Shape{1, 10}));
}

TEST(Classic, SmallestInputsAreEnforcedAndReallyTheSmallest) {
  Generator gen(1);
  EXPECT_EQ(models::info("alexnet").min_input_size, 63);
  EXPECT_EQ(models::info("alexnet_cifar").min_input_size, 1);
  EXPECT_EQ(models::info("vgg11").min_input_size, 32);
  EXPECT_EQ(models::info("vgg16c_bn").min_input_size, 32);
  EXPECT_EQ(models::info("nin").min_input_size, 4);
  EXPECT_EQ(models::info("allconv").min_input_size, 9);

  // The geometry without the check: AlexNet's features fail at 62, work at 63
  // (conv1 62 -> 14, pools 14 -> 6 -> 2 -> nothing).
  auto alex = shared_alexnet();
  EXPECT_TRUE(throws([&] { (*alex->features)(Tensor::randn({1, 3, 62, 62}, gen)); }));
  EXPECT_EQ((*alex->features)(Tensor::randn({1, 3, 63, 63}, gen)).shape(), (Shape{1, 256, 1, 1}));
  expect_error(
      [&] {
        (*alex)(Tensor::randn({2, 3, 62, 62}, gen));
      },
      {"alexnet: input of shape (2, 3, 62, 62) is too small; the smallest input this model accepts is 63x63"});

  auto nin = models::nin(make_args(10, 3));
  nin->eval();
  // Its ceil_mode 3x3/2 pools: 4 -> 2 -> 1 works, 3 -> 1 -> nothing (PyTorch's rule).
  EXPECT_TRUE(throws([&] { run_layers(*nin, Tensor::randn({1, 3, 3, 3}, gen)); }));
  EXPECT_EQ((*nin)(Tensor::randn({1, 3, 4, 4}, gen)).shape(), (Shape{1, 10}));
  expect_error(
      [&] {
        (*nin)(Tensor::randn({1, 3, 3, 3}, gen));
      },
      {"nin: input of shape (1, 3, 3, 3) is too small; the smallest input this model accepts is 4x4"});

  auto allconv = models::allconv(make_args(10, 1));
  allconv->eval();
  EXPECT_TRUE(throws([&] { run_layers(*allconv, Tensor::randn({1, 1, 8, 8}, gen)); }));
  EXPECT_EQ((*allconv)(Tensor::randn({1, 1, 9, 9}, gen)).shape(), (Shape{1, 10}));
  expect_error(
      [&] {
        (*allconv)(Tensor::randn({1, 1, 8, 8}, gen));
      },
      {"allconv: input of shape (1, 1, 8, 8) is too small; the smallest input this model accepts is 9x9"});

  auto cifar = models::alexnet_cifar(make_args(10, 3));
  cifar->eval();
  EXPECT_EQ((*cifar)(Tensor::randn({1, 3, 1, 1}, gen)).shape(), (Shape{1, 10}));

  // create() checks ModelArgs::input_size against the same numbers.
  models::ModelArgs tiny = make_args(10, 3);
  tiny.input_size = 31;
  expect_error([&] { models::create("vgg19_bn", tiny); }, {"vgg19_bn", "too small", "32x32"});
}

TEST(Classic, VggNeedsAtLeast32x32) {
  // The geometry fails at 31x31 (31 -> 15 -> 7 -> 3 -> 1 -> 0) and the model says so first.
  Generator gen(2);
  auto net = shared_vgg11_bn();
  EXPECT_TRUE(throws([&] { (*net->features)(Tensor::randn({1, 3, 31, 31}, gen)); }));
  EXPECT_EQ((*net->features)(Tensor::randn({1, 3, 32, 32}, gen)).shape(), (Shape{1, 512, 1, 1}));
  expect_error(
      [&] {
        (*net)(Tensor::randn({1, 3, 28, 28}, gen));
      },
      {"vgg11_bn: input of shape (1, 3, 28, 28) is too small; the smallest input this model accepts is 32x32"});
}

TEST(Classic, ParameterCountsFromTheLayerDefinitions) {
  // NIN, the authors' CIFAR-10 model (cifar10_nin.prototxt): 3 mlpconv blocks.
  const int64_t nin = conv_params(3, 192, 5) + conv_params(192, 160, 1) + conv_params(160, 96, 1) +   // block 1
                      conv_params(96, 192, 5) + 2 * conv_params(192, 192, 1) +                        // block 2
                      conv_params(192, 192, 3) + conv_params(192, 192, 1) + conv_params(192, 10, 1);  // block 3
  EXPECT_EQ(nin, 966986);
  EXPECT_EQ(models::create("nin", make_args(10, 3))->num_parameters(), nin);

  // All-CNN-C, Springenberg et al. 2015 Table 2; Table 3 gives "1.3 M" parameters.
  const int64_t allconv = conv_params(3, 96, 3) + 2 * conv_params(96, 96, 3) + conv_params(96, 192, 3) +
                          3 * conv_params(192, 192, 3) + conv_params(192, 192, 1) + conv_params(192, 10, 1);
  EXPECT_NEAR(allconv, 1.3e6, 0.1e6);
  EXPECT_EQ(models::create("allconv", make_args(10, 3))->num_parameters(), allconv);
  EXPECT_EQ(models::create("allconv", make_args(100, 1))->num_parameters(),
            allconv - 2 * 96 * 9 - conv_params(192, 10, 1) + conv_params(192, 100, 1));

  // alexnet_cifar, as defined in classic.h.
  const int64_t cifar = conv_params(3, 64, 5) + conv_params(64, 128, 5) + conv_params(128, 256, 3) +
                        2 * conv_params(256, 256, 3) + conv_params(256 * 4 * 4, 512, 1) + conv_params(512, 512, 1) +
                        conv_params(512, 10, 1);
  EXPECT_EQ(models::create("alexnet_cifar", make_args(10, 3))->num_parameters(), cifar);

  // VGG configuration C (Simonyan & Zisserman Table 1) at 1000 classes; Table 2 says 134M.
  const int64_t vgg16c = conv_params(3, 64, 3) + conv_params(64, 64, 3) +                                  // block 1
                         conv_params(64, 128, 3) + conv_params(128, 128, 3) +                              // block 2
                         conv_params(128, 256, 3) + conv_params(256, 256, 3) + conv_params(256, 256, 1) +  // 3
                         conv_params(256, 512, 3) + conv_params(512, 512, 3) + conv_params(512, 512, 1) +  // 4
                         2 * conv_params(512, 512, 3) + conv_params(512, 512, 1) +                         // block 5
                         conv_params(512 * 7 * 7, 4096, 1) + conv_params(4096, 4096, 1) + conv_params(4096, 1000, 1);
  EXPECT_NEAR(vgg16c, 134e6, 0.5e6);
  auto c = models::create("vgg16c", make_args(1000, 3));
  EXPECT_EQ(c->num_parameters(), vgg16c);
  c->eval();
  Generator gen(5);
  EXPECT_EQ((*c)(Tensor::randn({1, 3, 32, 32}, gen)).shape(), (Shape{1, 1000}));
  // 1x1 convolutions have no padding, so a 32x32 input still ends at 1x1.
  auto* net = dynamic_cast<models::ClassifierNet*>(c.get());
  ASSERT_NE(net, nullptr);
  auto k1 = std::dynamic_pointer_cast<nn::Conv2d>((*net->features)[14]);  // block 3's third conv
  ASSERT_NE(k1, nullptr);
  EXPECT_EQ(k1->weight.shape(), (Shape{256, 256, 1, 1}));
  EXPECT_EQ(k1->options().args.padding.h, 0);
}

TEST(Classic, NamesAndVggInitFollowTorchvision) {
  auto sd = shared_alexnet()->state_dict();
  EXPECT_EQ(sd.size(), 16u);  // 5 convs + 3 Linear, weight and bias each
  for (const char* k : {"features.0.weight", "features.3.weight", "features.6.weight", "features.8.weight",
                        "features.10.bias", "classifier.1.weight", "classifier.4.weight", "classifier.6.bias"})
    EXPECT_TRUE(sd.count(k)) << k;
  EXPECT_EQ(sd["classifier.1.weight"].shape(), (Shape{4096, 256 * 6 * 6}));

  sd = shared_vgg11_bn()->state_dict();
  for (const char* k : {"features.0.weight", "features.1.running_mean", "features.1.num_batches_tracked",
                        "features.4.weight", "features.25.weight", "classifier.0.weight", "classifier.6.bias"})
    EXPECT_TRUE(sd.count(k)) << k;
  // kaiming_normal_(fan_out, relu): std = sqrt(2 / (OC * 3 * 3)); Linear N(0, 0.01); biases 0.
  EXPECT_NEAR(stddev(sd["features.4.weight"]), std::sqrt(2.0 / (128 * 9)), 0.03 * std::sqrt(2.0 / (128 * 9)));
  EXPECT_NEAR(stddev(sd["features.25.weight"]), std::sqrt(2.0 / (512 * 9)), 0.03 * std::sqrt(2.0 / (512 * 9)));
  EXPECT_NEAR(stddev(sd["classifier.3.weight"]), 0.01, 0.0003);
  for (const char* k : {"features.0.bias", "features.1.bias", "classifier.0.bias", "classifier.6.bias"})
    for (float x : sd[k].to_vector()) ASSERT_EQ(x, 0.f) << k;
  for (float x : sd["features.1.weight"].to_vector()) ASSERT_EQ(x, 1.f);
}

TEST(Classic, DropoutAsInThePapers) {
  auto allconv = models::create("allconv", make_args(10, 3));
  std::vector<std::pair<std::string, double>> drops;
  for (auto& [n, m] : allconv->named_modules())
    if (auto* d = dynamic_cast<nn::Dropout*>(m)) drops.emplace_back(n, d->p);
  EXPECT_EQ(drops, (std::vector<std::pair<std::string, double>>{{"drop0", 0.2}, {"drop3", 0.5}, {"drop6", 0.5}}));
  drops.clear();
  for (auto& [n, m] : shared_alexnet()->named_modules())
    if (auto* d = dynamic_cast<nn::Dropout*>(m)) drops.emplace_back(n, d->p);
  EXPECT_EQ(drops, (std::vector<std::pair<std::string, double>>{{"classifier.0", 0.5}, {"classifier.3", 0.5}}));
}

TEST(Classic, FullyConvolutionalHeadComputesTheSameFunction) {
  Generator gen(3);
  // AlexNet at 64x64: the features end at 1x1, avgpool repeats it to 6x6, then the head.
  {
    auto net = models::alexnet(make_args(10, 3));
    net->eval();
    const Tensor x = Tensor::randn({2, 3, 64, 64}, gen);
    const Tensor y = (*net)(x);
    const int64_t count = net->num_parameters();
    models::to_fully_convolutional(*net);
    EXPECT_TRUE(net->fully_convolutional());
    EXPECT_EQ(net->num_parameters(), count);
    const auto sd = net->state_dict();
    EXPECT_EQ(sd.at("classifier.1.weight").shape(), (Shape{4096, 256, 6, 6}));
    EXPECT_EQ(sd.at("classifier.6.weight").shape(), (Shape{10, 4096, 1, 1}));
    const Tensor y2 = (*net)(x);
    EXPECT_EQ(y2.shape(), (Shape{2, 10}));
    EXPECT_TRUE(all_close(y2, y, 1e-5, 1e-5));
    models::to_fully_convolutional(*net);  // a second conversion changes nothing
    EXPECT_TRUE(all_close((*net)(x), y, 1e-5, 1e-5));
  }
  // VGG-11 with BatchNorm at 32x32 (BatchNorm in eval mode with its initial statistics).
  {
    auto net = models::vgg(models::VGGConfig::A, true, make_args(10, 3));
    net->eval();
    const Tensor x = Tensor::randn({2, 3, 32, 32}, gen);
    const Tensor y = (*net)(x);
    models::to_fully_convolutional(*net);
    EXPECT_EQ(net->state_dict().at("classifier.0.weight").shape(), (Shape{4096, 512, 7, 7}));
    EXPECT_TRUE(all_close((*net)(x), y, 1e-5, 1e-5));
  }
  // ModelArgs::fully_conv builds the converted form directly: same names and counts, and
  // with the same weights (reshaped) the same outputs.
  {
    auto lin = models::create("alexnet_cifar", make_args(10, 3));
    auto conv = models::create("alexnet_cifar", make_args(10, 3, /*fully_conv=*/true));
    auto a = lin->state_dict(), b = conv->state_dict();
    ASSERT_EQ(a.size(), b.size());
    for (auto& [k, t] : a) {
      ASSERT_TRUE(b.count(k)) << k;
      ASSERT_EQ(b[k].numel(), t.numel()) << k;
      b[k].copy_(t);
    }
    EXPECT_EQ(b["classifier.1.weight"].shape(), (Shape{512, 256, 4, 4}));
    lin->eval();
    conv->eval();
    for (int64_t size : {28, 32, 40}) {
      const Tensor x = Tensor::randn({2, 3, size, size}, gen);
      EXPECT_TRUE(all_close((*conv)(x), (*lin)(x), 1e-5, 1e-5)) << size;
    }
    // And to_fully_convolutional() where avgpool hands over a real 4x4 map (not one
    // value repeated, as for alexnet and vgg above), so the weight layout matters.
    const Tensor x = Tensor::randn({2, 3, 32, 32}, gen);
    const Tensor y = (*lin)(x);
    models::to_fully_convolutional(*lin);
    EXPECT_TRUE(all_close((*lin)(x), y, 1e-5, 1e-5));
  }
  // Models whose head is already global pooling have nothing to convert.
  auto nin = models::create("nin", make_args(10, 3, /*fully_conv=*/true));
  expect_error([&] { models::to_fully_convolutional(*nin); }, {"to_fully_convolutional", "NIN"});
  expect_error([] { models::alexnet_cifar(make_args(10, 3))->set_score_map(true); },
               {"alexnet_cifar", "fully-convolutional"});
}

TEST(Classic, FullyConvolutionalModelGivesAScoreMapForLargerInputs) {
  Generator gen(4);
  auto net = models::alexnet_cifar(make_args(10, 3, /*fully_conv=*/true));
  net->eval();
  // At the natural size the score map is 1x1 and equals the ordinary output.
  const Tensor x32 = Tensor::randn({2, 3, 32, 32}, gen);
  const Tensor y32 = (*net)(x32);
  net->set_score_map(true);
  const Tensor m32 = (*net)(x32);
  EXPECT_EQ(m32.shape(), (Shape{2, 10, 1, 1}));
  EXPECT_TRUE(all_close(m32.reshape({2, 10}), y32, 1e-6, 1e-6));

  // 48x48: the features are 6x6 (48 -> 24 -> 12 -> 6), the 4x4 first layer of the head
  // slides over them: a 3x3 map whose entry (i, j) is the head applied to the 4x4 window
  // of features at (i, j).
  const Tensor x = Tensor::randn({2, 3, 48, 48}, gen);
  const Tensor map = (*net)(x);
  ASSERT_EQ(map.shape(), (Shape{2, 10, 3, 3}));
  const Tensor f = (*net->features)(x);
  ASSERT_EQ(f.shape(), (Shape{2, 256, 6, 6}));
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 3; ++j) {
      Tensor window = Tensor::zeros({2, 256, 4, 4});
      for (int64_t n = 0; n < 2; ++n)
        for (int64_t c = 0; c < 256; ++c)
          for (int64_t h = 0; h < 4; ++h)
            for (int64_t w = 0; w < 4; ++w) window.at({n, c, h, w}) = f.at({n, c, i + h, j + w});
      const Tensor s = (*net->classifier)(window);
      ASSERT_EQ(s.shape(), (Shape{2, 10, 1, 1}));
      for (int64_t n = 0; n < 2; ++n)
        for (int64_t k = 0; k < 10; ++k) EXPECT_NEAR(map.at({n, k, i, j}), s.at({n, k, 0, 0}), 1e-5) << i << "," << j;
    }
  net->set_score_map(false);
  EXPECT_EQ((*net)(x).shape(), (Shape{2, 10}));
}
