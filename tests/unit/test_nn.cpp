// Modules: names, modes, freezing, counts, replacement, initialization statistics.
#include <algorithm>
#include <cmath>
#include <vector>

#include "convnet/core/error.h"
#include "convnet/core/rng.h"
#include "convnet/nn/init.h"
#include "convnet/nn/layers.h"
#include "convnet/nn/sequential.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;

namespace {
std::shared_ptr<nn::Sequential> small_net() {
  auto net = std::make_shared<nn::Sequential>();
  net->add(std::make_shared<nn::Conv2d>(nn::Conv2dOptions(3, 8, 3).padding(1).bias(false)));
  net->add(std::make_shared<nn::BatchNorm2d>(8));
  net->add(std::make_shared<nn::ReLU>());
  net->add(std::make_shared<nn::Dropout2d>(0.2));
  net->add(std::make_shared<nn::GlobalAvgPool2d>());
  net->add(std::make_shared<nn::Flatten>());
  net->add(std::make_shared<nn::Linear>(8, 5));
  return net;
}
double mean_of(const Tensor& t) {
  double s = 0;
  for (float v : t.to_vector()) s += v;
  return s / t.numel();
}
double std_of(const Tensor& t) {
  const double m = mean_of(t);
  double s = 0;
  for (float v : t.to_vector()) s += (v - m) * (v - m);
  return std::sqrt(s / t.numel());
}
}  // namespace

TEST(Module, NamesFollowPyTorchStateDictKeys) {
  auto net = small_net();
  std::vector<std::string> names;
  for (auto& [n, p] : net->named_parameters()) names.push_back(n);
  EXPECT_EQ(names, (std::vector<std::string>{"0.weight", "1.weight", "1.bias", "6.weight", "6.bias"}));
  auto sd = net->state_dict();
  EXPECT_TRUE(sd.count("1.running_mean") && sd.count("1.running_var") && sd.count("1.num_batches_tracked"));
  EXPECT_EQ(sd.size(), 8u);
  EXPECT_EQ((*net)[6]->label(), "6 (Linear)");
}

TEST(Module, TrainEvalPropagatesAndFreezingCountsTrainable) {
  auto net = small_net();
  net->eval();
  for (auto& [n, m] : net->named_modules()) EXPECT_FALSE(m->is_training()) << n;
  net->train();
  for (auto& [n, m] : net->named_modules()) EXPECT_TRUE(m->is_training()) << n;
  const int64_t total = 8 * 3 * 9 + 2 * 8 + 8 * 5 + 5;
  EXPECT_EQ(net->num_parameters(), total);
  EXPECT_EQ(net->num_parameters(true), total);
  (*net)[0]->requires_grad_(false);
  EXPECT_EQ(net->num_parameters(true), total - 8 * 3 * 9);
  EXPECT_EQ(net->trainable_parameters().size(), 4u);
  // A frozen layer gets no gradient; the rest do.
  Generator gen(3);
  Tensor y = (*net)(Tensor::randn({4, 3, 6, 6}, gen));
  y.backward(Tensor::ones(y.shape()));
  auto params = net->named_parameters();
  EXPECT_FALSE(params[0].second.grad().defined());
  for (size_t i = 1; i < params.size(); ++i) EXPECT_TRUE(params[i].second.grad().defined()) << params[i].first;
}

TEST(Module, ReplaceHeadKeepsNameAndMode) {
  auto net = small_net();
  net->eval();
  net->replace(6, std::make_shared<nn::Linear>(8, 3));
  EXPECT_EQ(net->state_dict().at("6.weight").shape(), (Shape{3, 8}));
  EXPECT_FALSE((*net)[6]->is_training());
  Generator gen(4);
  EXPECT_EQ((*net)(Tensor::randn({2, 3, 5, 5}, gen)).shape(), (Shape{2, 3}));
}

TEST(Module, ReprListsLayers) {
  auto net = small_net();
  const std::string r = net->repr();
  EXPECT_NE(r.find("(0): Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=1, bias=False)"), std::string::npos) << r;
  EXPECT_NE(r.find("(6): Linear(in_features=8, out_features=5, bias=True)"), std::string::npos) << r;
}

TEST(Init, DefaultConvInitBoundsFollowPyTorch) {
  manual_seed(0);
  nn::Conv2d conv(4, 8, 3);  // fan_in = 36 -> U(-1/6, 1/6) for weight and bias
  const float bound = 1.f / 6.f;
  float lo = 1, hi = -1;
  for (float v : conv.weight.to_vector()) lo = std::min(lo, v), hi = std::max(hi, v);
  EXPECT_GE(lo, -bound);
  EXPECT_LE(hi, bound);
  EXPECT_LT(lo, -0.8f * bound);  // the whole range is used
  EXPECT_GT(hi, 0.8f * bound);
  for (float v : conv.bias.to_vector()) EXPECT_LE(std::abs(v), bound);
  EXPECT_EQ(conv.num_parameters(), 8 * 4 * 9 + 8);
}

TEST(Init, XavierAndKaimingHaveTheirStandardDeviations) {
  Generator gen(5);
  Tensor w = Tensor::empty({256, 128, 3, 3});  // fan_in 1152, fan_out 2304
  nn::init::xavier_uniform_(w, 1.0, gen);
  EXPECT_NEAR(std_of(w), std::sqrt(2.0 / (1152 + 2304)), 0.01 * std::sqrt(2.0 / (1152 + 2304)));
  nn::init::xavier_normal_(w, 1.0, gen);
  EXPECT_NEAR(std_of(w), std::sqrt(2.0 / (1152 + 2304)), 0.01 * std::sqrt(2.0 / (1152 + 2304)));
  nn::init::kaiming_normal_(w, 0, nn::init::FanMode::FanOut, "relu", gen);
  EXPECT_NEAR(std_of(w), std::sqrt(2.0 / 2304), 0.01 * std::sqrt(2.0 / 2304));
  nn::init::kaiming_uniform_(w, 0, nn::init::FanMode::FanIn, "relu", gen);
  EXPECT_NEAR(std_of(w), std::sqrt(2.0 / 1152), 0.01 * std::sqrt(2.0 / 1152));
  EXPECT_NEAR(mean_of(w), 0.0, 0.001);
  EXPECT_NEAR(nn::init::calculate_gain("tanh"), 5.0 / 3.0, 1e-12);
  EXPECT_NEAR(nn::init::calculate_gain("leaky_relu", 0.2), std::sqrt(2.0 / 1.04), 1e-12);
  expect_error([] { nn::init::calculate_gain("swish"); }, {"swish"});
}

// The bulk fills are the per-call draws: the same values (bit for bit) and the same state
// after, across the chunk and thread splits of large fills and with a cached normal value.
TEST(Init, BulkFillsEqualTheDrawsOneByOne) {
  for (const int64_t n : {0, 1, 2, 3, 7, 8193, 300001}) {
    for (const bool spare : {false, true}) {
      SCOPED_TRACE("n = " + std::to_string(n) + (spare ? ", a cached normal value" : ""));
      Generator a(11), b(11);
      if (spare) a.normal(), b.normal();
      std::vector<float> bulk(static_cast<size_t>(n)), one(static_cast<size_t>(n));
      a.fill_normal(bulk.data(), n, 0.5f, 2.f);
      for (auto& v : one) v = b.normal(0.5f, 2.f);
      EXPECT_EQ(bulk, one);
      EXPECT_EQ(a.normal(), b.normal()) << "the state after differs";
      EXPECT_EQ(a.next_u64(), b.next_u64());
      a.fill_uniform(bulk.data(), n, -0.25f, 3.f);
      for (auto& v : one) v = b.uniform(-0.25f, 3.f);
      EXPECT_EQ(bulk, one);
      EXPECT_EQ(a.next_u64(), b.next_u64());
    }
  }
  // trunc_normal_: one 64-bit draw per element in order, so a long fill starts like a short
  // one from the same state and leaves the generator n draws on.
  Generator g(3), h(3), k(3);
  Tensor big = Tensor::empty({300001}), small = Tensor::empty({1000});
  nn::init::trunc_normal_(big, 0.0, 0.02, -0.04, 0.04, g);
  nn::init::trunc_normal_(small, 0.0, 0.02, -0.04, 0.04, h);
  const auto bv = big.to_vector(), sv = small.to_vector();
  EXPECT_EQ(std::vector<float>(bv.begin(), bv.begin() + 1000), sv);
  for (int64_t i = 0; i < 300001; ++i) k.next_u64();
  EXPECT_EQ(g.next_u64(), k.next_u64());
  EXPECT_LE(*std::max_element(bv.begin(), bv.end()), 0.04f);
  EXPECT_GE(*std::min_element(bv.begin(), bv.end()), -0.04f);
  EXPECT_NEAR(std_of(big), 0.02 * 0.88, 0.002);  // N(0, 0.02^2) truncated at 2 sigma: 0.88 sigma
}

TEST(Init, SkipInitGuardWritesZerosAndDrawsNothing) {
  manual_seed(7);
  const uint64_t next = Generator(7).next_u64();
  {
    nn::init::SkipInitGuard skip;
    { nn::init::SkipInitGuard nested; }
    EXPECT_TRUE(nn::init::init_skipped());  // guards nest
    nn::Conv2d conv(4, 8, 3);
    nn::Linear fc(16, 3);
    Tensor t = Tensor::full({5}, 1.f);
    nn::init::trunc_normal_(t, 0.0, 1.0, -2.0, 2.0);
    for (const Tensor& x : {conv.weight, conv.bias, fc.weight, fc.bias, t})
      for (float v : x.to_vector()) ASSERT_EQ(v, 0.f);
    expect_error([&] { nn::init::trunc_normal_(t, 0.0, -1.0); }, {"std must be positive"});  // still checked
  }
  EXPECT_FALSE(nn::init::init_skipped());
  EXPECT_EQ(default_generator().next_u64(), next) << "the guard drew from the default generator";
  nn::Linear fc(16, 3);
  float largest = 0;
  for (float v : fc.weight.to_vector()) largest = std::max(largest, std::abs(v));
  EXPECT_GT(largest, 0.f);
}

TEST(Modules, ConstructorErrors) {
  expect_error([] { nn::Conv2d(3, 4, 3, 1, Padding(int64_t{0}), 1, 2); }, {"in_channels (3)", "groups (2)"});
  expect_error([] { nn::Dropout(1.5); }, {"between 0 and 1", "1.5"});
  auto bn = nn::BatchNorm2d(4);
  Generator gen(6);
  expect_error([&] { bn(Tensor::randn({2, 4, 3}, gen)); }, {"BatchNorm2d", "4-D", "(2, 4, 3)"});
}
