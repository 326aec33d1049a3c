// GoogLeNet and DenseNet: shapes, input-size limits, channel bookkeeping of Inception
// blocks and dense blocks, parameter counts from the published definitions, and the
// initialization schemes. Parity with torchvision (logits, gradients, running stats) is
// in test_torchvision.cpp.
#include <cmath>
#include <map>

#include "convnet/core/rng.h"
#include "convnet/io/weights.h"
#include "convnet/models/densenet.h"
#include "convnet/models/googlenet.h"
#include "convnet/models/registry.h"
#include "convnet/nn/init.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;

namespace {

models::ModelArgs args(int64_t in_channels, int64_t num_classes = 10) {
  models::ModelArgs a;
  a.in_channels = in_channels;
  a.num_classes = num_classes;
  return a;
}

struct Moments {
  double mean, std, min, max;
};
Moments moments(const Tensor& t) {
  double s = 0, s2 = 0, lo = 1e30, hi = -1e30;
  for (float v : t.to_vector()) {
    s += v, s2 += double(v) * v;
    lo = std::min(lo, double(v)), hi = std::max(hi, double(v));
  }
  const double n = static_cast<double>(t.numel()), mean = s / n;
  return {mean, std::sqrt(s2 / n - mean * mean), lo, hi};
}

std::map<std::string, Tensor> state(nn::Module& m) {
  return m.state_dict();
}

}  // namespace

// ---- truncated normal (torch.nn.init.trunc_normal_) ----------------------------------

TEST(TruncNormal, MatchesTheTruncatedNormalMoments) {
  Generator gen(7);
  Tensor t = Tensor::empty({200000});
  // N(0, 1) on [-1, 1]: variance 1 - 2 phi(1) / (Phi(1) - Phi(-1)) = 1 - 2 * 0.2419707 / 0.6826895.
  nn::init::trunc_normal_(t, 0.0, 1.0, -1.0, 1.0, gen);
  auto m = moments(t);
  EXPECT_GE(m.min, -1.0);
  EXPECT_LE(m.max, 1.0);
  EXPECT_NEAR(m.mean, 0.0, 0.01);
  EXPECT_NEAR(m.std, std::sqrt(1.0 - 2 * 0.2419707 / 0.6826895), 0.01);
  // N(1, 2) on [1, inf): a half normal, mean 1 + 2 sqrt(2 / pi), std 2 sqrt(1 - 2 / pi).
  nn::init::trunc_normal_(t, 1.0, 2.0, 1.0, 1e9, gen);
  m = moments(t);
  EXPECT_GE(m.min, 1.0);
  EXPECT_NEAR(m.mean, 1.0 + 2.0 * std::sqrt(2.0 / M_PI), 0.02);
  EXPECT_NEAR(m.std, 2.0 * std::sqrt(1.0 - 2.0 / M_PI), 0.02);
  // GoogLeNet's: std 0.01 with bounds at +-2 (200 std away) is a plain N(0, 0.01).
  nn::init::trunc_normal_(t, 0.0, 0.01, -2.0, 2.0, gen);
  m = moments(t);
  EXPECT_NEAR(m.std, 0.01, 2e-4);
  EXPECT_LT(std::max(-m.min, m.max), 0.07);
  expect_error([&] { nn::init::trunc_normal_(t, 0.0, 1.0, 1.0, -1.0, gen); }, {"trunc_normal_", "empty"});
}

// ---- GoogLeNet ----------------------------------------------------------------------

TEST(GoogLeNet, ShapesOnMnistAndCifarSizedInputs) {
  Generator gen(0);
  auto gray = models::create("googlenet", args(1));
  EXPECT_EQ((*gray)(Tensor::randn({2, 1, 28, 28}, gen)).shape(), (Shape{2, 10}));
  auto rgb = models::create("googlenet", args(3, 7));
  EXPECT_EQ((*rgb)(Tensor::randn({2, 3, 32, 32}, gen)).shape(), (Shape{2, 7}));
}

TEST(GoogLeNet, SmallestInputIs15) {
  // 15: conv1 7x7/2 pad 3 -> 8, maxpool1 3/2 ceil -> 4, maxpool2 -> 2, maxpool3 -> 1,
  // maxpool4 2/2 ceil -> 1. 14: 7 -> 3 -> 1, and maxpool3's 3x3 window no longer fits.
  EXPECT_EQ(models::info("googlenet").min_input_size, 15);
  EXPECT_TRUE(models::info("googlenet").torchvision);
  auto net = models::create("googlenet", args(3));
  Generator gen(0);
  EXPECT_EQ((*net)(Tensor::randn({2, 3, 15, 15}, gen)).shape(), (Shape{2, 10}));
  expect_error(
      [&] {
        (*net)(Tensor::randn({2, 3, 14, 14}, gen));
      },
      {"googlenet: input of shape (2, 3, 14, 14) is too small", "the smallest input this model accepts is 15x15"});
  models::ModelArgs tiny = args(3);
  tiny.input_size = 14;
  expect_error([&] { models::create("googlenet", tiny); }, {"googlenet", "too small", "15x15"});
}

TEST(GoogLeNet, InceptionOutputChannelsAndSizesFollowTable1) {
  // Szegedy et al. 2015, Table 1, "depth" of the output of each inception module:
  // #1x1 + #3x3 + #5x5 + pool proj.
  const std::vector<std::pair<std::string, int64_t>> expected = {
      {"inception3a", 256}, {"inception3b", 480}, {"inception4a", 512}, {"inception4b", 512}, {"inception4c", 512},
      {"inception4d", 528}, {"inception4e", 832}, {"inception5a", 832}, {"inception5b", 1024}};
  auto net = models::create("googlenet", args(3));
  std::map<std::string, Shape> seen;
  for (auto& [name, m] : net->named_modules())
    if (auto* inc = dynamic_cast<models::Inception*>(m)) {
      inc->register_forward_hook([&seen, name = name](nn::Module&, const Tensor& x, const Tensor& y) {
        EXPECT_EQ(x.size(2), y.size(2)) << name << " keeps the spatial size";
        seen[name] = y.shape();
      });
    }
  Generator gen(0);
  net->eval();  // stage 5 is 1x1: one image would give BatchNorm one value per channel in training
  (*net)(Tensor::randn({1, 3, 32, 32}, gen));
  ASSERT_EQ(seen.size(), expected.size());
  for (const auto& [name, channels] : expected) {
    SCOPED_TRACE(name);
    EXPECT_EQ(seen[name][1], channels);
  }
  // 32x32: conv1 -> 16, maxpool1 -> 8, maxpool2 -> 4 (stage 3), maxpool3 -> 2 (stage 4),
  // maxpool4 -> 1 (stage 5).
  EXPECT_EQ(seen["inception3b"], (Shape{1, 480, 4, 4}));
  EXPECT_EQ(seen["inception4e"], (Shape{1, 832, 2, 2}));
  EXPECT_EQ(seen["inception5b"], (Shape{1, 1024, 1, 1}));
}

TEST(GoogLeNet, TorchvisionNamesAndInitialization) {
  auto net = models::googlenet(args(3));
  auto sd = state(*net);
  for (const char* key :
       {"conv1.conv.weight", "conv1.bn.running_mean", "conv1.bn.num_batches_tracked", "inception3a.branch1.conv.weight",
        "inception3a.branch2.0.conv.weight", "inception3a.branch2.1.bn.bias", "inception4e.branch3.1.conv.weight",
        "inception5b.branch4.1.bn.running_var", "fc.weight", "fc.bias"})
    EXPECT_TRUE(sd.count(key)) << key;
  EXPECT_FALSE(sd.count("conv1.conv.bias")) << "BasicConv2d convolutions have no bias";
  // torchvision's branch3 is 3x3 (the paper's is 5x5): weight (ch5x5, ch5x5red, 3, 3).
  EXPECT_EQ(sd["inception3a.branch3.1.conv.weight"].shape(), (Shape{32, 16, 3, 3}));
  EXPECT_EQ(sd["conv1.conv.weight"].shape(), (Shape{64, 3, 7, 7}));
  // init_weights=True: trunc_normal_(std 0.01, [-2, 2]) for conv and linear weights.
  for (const char* key : {"conv1.conv.weight", "inception4c.branch2.1.conv.weight", "fc.weight"}) {
    auto m = moments(sd[key]);
    EXPECT_NEAR(m.std, 0.01, 0.001) << key;
    EXPECT_NEAR(m.mean, 0.0, 0.001) << key;
  }
  auto bn = moments(sd["inception3b.branch4.1.bn.weight"]);
  EXPECT_EQ(bn.min, 1.0);
  EXPECT_EQ(bn.max, 1.0);
  EXPECT_EQ(moments(sd["inception3b.branch4.1.bn.bias"]).max, 0.0);
  // BatchNorm eps 0.001 as torchvision's BasicConv2d.
  for (auto& [name, m] : net->named_modules())
    if (auto* b = dynamic_cast<nn::BatchNorm*>(m)) {
      EXPECT_DOUBLE_EQ(b->eps, 0.001) << name;
    }
}

TEST(GoogLeNet, AuxiliaryHeadsAreOptionalAndOnlyRunInTraining) {
  models::GoogLeNetOptions opt;
  opt.aux_logits = true;
  auto plain = models::googlenet(args(3, 10));
  auto aux = models::googlenet(args(3, 10), opt);
  // Each head: BasicConv2d 1x1 (in -> 128, no bias; BN 2 x 128), fc1 2048 -> 1024, fc2 1024 -> 10.
  auto head = [](int64_t in) { return in * 128 + 2 * 128 + 2048 * 1024 + 1024 + 1024 * 10 + 10; };
  EXPECT_EQ(aux->num_parameters() - plain->num_parameters(), head(512) + head(528));
  EXPECT_TRUE(state(*aux).count("aux1.conv.conv.weight"));
  EXPECT_TRUE(state(*aux).count("aux2.fc2.bias"));
  Generator gen(0);
  Tensor x = Tensor::randn({2, 3, 32, 32}, gen);
  aux->train();
  EXPECT_EQ((*aux)(x).shape(), (Shape{2, 10}));
  ASSERT_TRUE(aux->aux_logits1().defined());
  EXPECT_EQ(aux->aux_logits1().shape(), (Shape{2, 10}));
  EXPECT_EQ(aux->aux_logits2().shape(), (Shape{2, 10}));
  aux->eval();
  (*aux)(x);
  EXPECT_FALSE(aux->aux_logits1().defined());
  EXPECT_FALSE(aux->aux_logits2().defined());
}

// ---- DenseNet -----------------------------------------------------------------------

TEST(DenseNet, ImageNetDenseNetsOnCifarSizedInputsAndTheirSmallestInput) {
  // 28x28: conv0 -> 14, pool0 -> 7, transitions -> 3 -> 1 -> 0. 29 is the smallest that
  // leaves one pixel: 15 -> 8 -> 4 -> 2 -> 1.
  Generator gen(0);
  for (const char* name : {"densenet121", "densenet161", "densenet169", "densenet201"}) {
    SCOPED_TRACE(name);
    EXPECT_EQ(models::info(name).min_input_size, 29);
    EXPECT_TRUE(models::info(name).torchvision);
    auto net = models::create(name, args(3));
    EXPECT_EQ((*net)(Tensor::randn({2, 3, 32, 32}, gen)).shape(), (Shape{2, 10}));
  }
  auto gray = models::create("densenet121", args(1, 5));
  gray->eval();  // one image and a 1x1 last block: batch statistics need more than one value
  EXPECT_EQ((*gray)(Tensor::randn({1, 1, 29, 29}, gen)).shape(), (Shape{1, 5}));
  expect_error(
      [&] {
        (*gray)(Tensor::randn({2, 1, 28, 28}, gen));
      },
      {"densenet121: input of shape (2, 1, 28, 28) is too small", "the smallest input this model accepts is 29x29"});
}

TEST(DenseNet, TorchvisionNamesWidthsAndInitialization) {
  auto net = models::densenet121(args(3, 1000));
  auto sd = state(*net);
  for (const char* key :
       {"features.conv0.weight", "features.norm0.running_mean", "features.denseblock1.denselayer1.norm1.weight",
        "features.denseblock1.denselayer6.conv2.weight", "features.transition1.norm.running_var",
        "features.transition3.conv.weight", "features.denseblock4.denselayer16.norm2.bias",
        "features.norm5.num_batches_tracked", "classifier.weight", "classifier.bias"})
    EXPECT_TRUE(sd.count(key)) << key;
  EXPECT_FALSE(sd.count("features.denseblock4.denselayer17.conv1.weight"));
  // Widths: 64 + 6*32 = 256 -> 128; 128 + 12*32 = 512 -> 256; 256 + 24*32 = 1024 -> 512; 512 + 16*32 = 1024.
  EXPECT_EQ(sd["features.transition1.conv.weight"].shape(), (Shape{128, 256, 1, 1}));
  EXPECT_EQ(sd["features.transition3.conv.weight"].shape(), (Shape{512, 1024, 1, 1}));
  EXPECT_EQ(sd["features.denseblock2.denselayer12.conv1.weight"].shape(), (Shape{128, 128 + 11 * 32, 1, 1}));
  EXPECT_EQ(sd["classifier.weight"].shape(), (Shape{1000, 1024}));
  EXPECT_EQ(models::densenet161(args(3))->num_features(), 2208);  // torchvision's densenet161 classifier width
  // kaiming_normal_ (fan_in, gain sqrt 2): conv0 std sqrt(2 / (3 * 7 * 7)).
  EXPECT_NEAR(moments(sd["features.conv0.weight"]).std, std::sqrt(2.0 / 147.0), 0.05 * std::sqrt(2.0 / 147.0));
  EXPECT_NEAR(moments(sd["features.denseblock3.denselayer1.conv2.weight"]).std, std::sqrt(2.0 / (128 * 9)),
              0.05 * std::sqrt(2.0 / (128 * 9)));
  EXPECT_EQ(moments(sd["features.norm5.weight"]).min, 1.0);
  EXPECT_EQ(moments(sd["features.norm5.bias"]).max, 0.0);
  auto b = moments(sd["classifier.bias"]);
  EXPECT_EQ(b.min, 0.0);
  EXPECT_EQ(b.max, 0.0);
}

TEST(DenseNetBC, ParameterCountIsThePapers) {
  // DenseNet-BC (L=100, k=12) for CIFAR-10, Huang et al. 2017, Table 2: 0.8M parameters.
  // By hand from the definition (convolutions without bias, BN = 2 per channel):
  int64_t c = 24, expected = 3 * 24 * 3 * 3;  // conv0
  for (int block = 0; block < 3; ++block) {
    for (int i = 0; i < 16; ++i, c += 12)  // BN(c), 1x1 c->48, BN(48), 3x3 48->12
      expected += 2 * c + c * 48 + 2 * 48 + 48 * 12 * 9;
    if (block < 2) expected += 2 * c + c * (c / 2), c /= 2;  // transition: BN(c), 1x1 c->c/2
  }
  expected += 2 * c + c * 10 + 10;  // norm5, classifier
  EXPECT_EQ(c, 342);
  EXPECT_EQ(expected, 769162);
  auto net = models::create("densenet_bc_100_12", args(3, 10));
  EXPECT_EQ(net->num_parameters(), expected);
  EXPECT_FALSE(models::info("densenet_bc_100_12").torchvision);
}

TEST(DenseNetBC, ShapesAndSmallestInput) {
  Generator gen(0);
  auto gray = models::create("densenet_bc_100_12", args(1));
  EXPECT_EQ((*gray)(Tensor::randn({2, 1, 28, 28}, gen)).shape(), (Shape{2, 10}));
  auto rgb = models::create("densenet_bc_100_12", args(3, 100));
  EXPECT_EQ((*rgb)(Tensor::randn({2, 3, 32, 32}, gen)).shape(), (Shape{2, 100}));
  // Two 2x2 average pools: 4 -> 2 -> 1; 3 -> 1 -> 0.
  EXPECT_EQ(models::info("densenet_bc_100_12").min_input_size, 4);
  rgb->eval();  // one image and a 1x1 last block: batch statistics need more than one value
  EXPECT_EQ((*rgb)(Tensor::randn({1, 3, 4, 4}, gen)).shape(), (Shape{1, 100}));
  expect_error(
      [&] {
        (*rgb)(Tensor::randn({1, 3, 3, 3}, gen));
      },
      {"densenet_bc_100_12: input of shape (1, 3, 3, 3) is too small", "4x4"});
}

TEST(DenseNetBC, EveryDenseLayerAddsGrowthRateChannels) {
  auto net = models::create("densenet_bc_100_12", args(3));
  std::vector<std::pair<int64_t, int64_t>> layer_io;  // (input channels, output channels)
  Tensor block_in, block_out;
  for (auto& [name, m] : net->named_modules()) {
    if (name == "features.denseblock2")
      m->register_forward_hook([&](nn::Module&, const Tensor& x, const Tensor& y) { block_in = x, block_out = y; });
    const std::string layer_prefix = "features.denseblock2.denselayer";
    if (name.rfind(layer_prefix, 0) == 0 && name.find('.', layer_prefix.size()) == std::string::npos)
      m->register_forward_hook(
          [&](nn::Module&, const Tensor& x, const Tensor& y) { layer_io.emplace_back(x.size(1), y.size(1)); });
  }
  Generator gen(0);
  Tensor x = Tensor::randn({2, 3, 8, 8}, gen);
  Tensor y = (*net)(x);
  ASSERT_EQ(layer_io.size(), 16u);
  // Block 2 starts from transition1's 216 / 2 = 108 channels; layer i sees 108 + (i-1) * 12.
  for (int64_t i = 0; i < 16; ++i) {
    EXPECT_EQ(layer_io[i].first, 108 + i * 12) << "layer " << i + 1;
    EXPECT_EQ(layer_io[i].second, 12) << "layer " << i + 1;
  }
  EXPECT_EQ(block_out.shape(), (Shape{2, 108 + 16 * 12, 4, 4}));
  // Dense connectivity: the block's input is passed through unchanged as its first channels.
  for (int64_t c : {0, 57, 107})
    for (int64_t h : {0, 3}) EXPECT_EQ(block_out.at({1, c, h, 2}), block_in.at({1, c, h, 2}));
  // Every parameter gets a gradient through the concatenations (its value is checked by
  // DenseNetBC.LogitsAndGradientsMatchPyTorch).
  y.backward(Tensor::ones(y.shape()));
  for (auto& [name, p] : net->named_parameters()) {
    ASSERT_TRUE(p.grad().defined()) << name;
  }
  EXPECT_GT(moments(net->state_dict()["features.conv0.weight"].grad()).std, 0.0);
}

// The same network in PyTorch (python/densenet_bc_fixture.py: torchvision's DenseNet with
// the CIFAR stem, loaded here by state_dict name, strictly), in float64 and eval mode:
// logits, and every parameter's gradient elementwise through the 48 concatenations, the
// transitions' average pooling and the global pooling, within 1e-4 of the tensor's scale.
TEST(DenseNetBC, LogitsAndGradientsMatchPyTorch) {
  TempDir dir("densenet_bc");
  run_python("densenet_bc_fixture.py " + (dir / "f.safetensors"));
  const auto f = load_fixture(dir / "f.safetensors");
  io::SafeTensors weights;
  for (const auto& [k, v] : f.tensors)
    if (k.rfind("param.", 0) == 0) weights.tensors[k.substr(6)] = v, weights.dtypes[k.substr(6)] = f.dtypes.at(k);
  auto net = models::create("densenet_bc_100_12", args(3));
  io::load_state_dict(*net, weights, /*strict=*/true, "densenet_bc_100_12");
  net->eval();
  Tensor y = (*net)(fixture_tensor(f, "input"));
  const Tensor& logits = fixture_tensor(f, "logits");
  double lscale = 0;
  for (float v : logits.to_vector()) lscale = std::max(lscale, static_cast<double>(std::abs(v)));
  EXPECT_TRUE(all_close(y, logits, 1e-4, 1e-5 * lscale));
  y.backward(fixture_tensor(f, "g"));
  int checked = 0;
  for (auto& [n, p] : net->named_parameters()) {
    SCOPED_TRACE("grad of " + n);
    const Tensor& ref = fixture_tensor(f, "grad." + n);
    double scale = 0;
    for (float v : ref.to_vector()) scale = std::max(scale, static_cast<double>(std::abs(v)));
    EXPECT_TRUE(all_close(p.grad(), ref, 1e-4, 1e-4 * scale));
    ++checked;
  }
  EXPECT_EQ(checked, 1 + 48 * 6 + 2 * 3 + 2 + 2);  // conv0, dense layers, transitions, norm5, classifier
}
