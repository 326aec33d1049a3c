// LeNet-5 against PyTorch given the same weights: logits, loss, every parameter
// gradient, and the losses and weights of 5 SGD steps (momentum, nesterov, weight decay).
#include "convnet/core/rng.h"
#include "convnet/models/lenet.h"
#include "convnet/models/registry.h"
#include "convnet/ops/loss.h"
#include "convnet/optim/sgd.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;

namespace {
void load_params(nn::Module& m, const io::SafeTensors& f, const std::string& prefix) {
  for (auto& [name, t] : m.state_dict()) {
    Tensor dst = t;
    dst.copy_(fixture_tensor(f, prefix + name));
  }
}
std::vector<int64_t> labels(const Tensor& t) {
  std::vector<int64_t> y;
  for (float v : t.to_vector()) y.push_back(static_cast<int64_t>(v));
  return y;
}
}  // namespace

TEST(LeNet5Parity, ForwardBackwardAndSgdStepsMatchPyTorch) {
  for (const auto& file : fixture_files("lenet5_")) {
    SCOPED_TRACE(file);
    auto f = load_fixture(file);
    auto cfg = fixture_config(f);
    models::ModelArgs a;
    a.in_channels = cfg["in_channels"].get<int64_t>();
    a.input_size = cfg["input_size"].get<int64_t>();
    auto net = cfg["classic"].get<bool>() ? models::lenet5_classic(a) : models::lenet5(a);
    ASSERT_EQ(net->state_dict().size(), 10u);  // 5 layers x (weight, bias): names as PyTorch's Sequential
    load_params(*net, f, "param.");
    const Tensor& x = fixture_tensor(f, "input");
    const auto y = labels(fixture_tensor(f, "target"));

    Tensor logits = (*net)(x);
    EXPECT_TRUE(all_close(logits, fixture_tensor(f, "logits"), 1e-4, 1e-5));
    Tensor loss = ops::cross_entropy(logits, y);
    EXPECT_NEAR(loss.item(), fixture_tensor(f, "loss").item(), 1e-5 * std::abs(fixture_tensor(f, "loss").item()));
    loss.backward();
    for (auto& [name, p] : net->named_parameters()) {
      SCOPED_TRACE(name);
      EXPECT_TRUE(all_close(p.grad(), fixture_tensor(f, "grad." + name), 1e-4, 1e-5));
    }

    optim::SGDOptions o;
    o.lr = 0.05, o.momentum = 0.9, o.nesterov = true, o.weight_decay = 5e-4;
    optim::SGD opt(net->parameters(), o);
    const auto expected_losses = fixture_tensor(f, "sgd_losses").to_vector();
    for (size_t step = 0; step < expected_losses.size(); ++step) {
      opt.zero_grad();
      Tensor l = ops::cross_entropy((*net)(x), y);
      EXPECT_NEAR(l.item(), expected_losses[step], 1e-4 * std::abs(expected_losses[step])) << "step " << step;
      l.backward();
      opt.step();
    }
    for (auto& [name, p] : net->state_dict()) {
      SCOPED_TRACE("after 5 steps: " + name);
      EXPECT_TRUE(all_close(p, fixture_tensor(f, "after." + name), 1e-4, 1e-5));
    }
  }
}

TEST(LeNet5, RegistryShapesAndParameterCounts) {
  // 6*(1*25)+6 + 16*(6*25)+16 + 120*400+120 + 84*120+84 + 10*84+10 = 61706 (LeCun's count for 1 channel).
  auto net = models::create("lenet5");
  EXPECT_EQ(net->num_parameters(), 61706);
  models::ModelArgs rgb;
  rgb.in_channels = 3;
  auto net3 = models::create("lenet5_classic", rgb);
  EXPECT_EQ(net3->num_parameters(), 61706 + 2 * 6 * 25);
  Generator gen(0);
  EXPECT_EQ((*net3)(Tensor::randn({2, 3, 32, 32}, gen)).shape(), (Shape{2, 10}));
  expect_error([] { models::create("lenet7"); }, {"unknown model 'lenet7'", "lenet5", "lenet5_classic"});
  models::ModelArgs tiny;
  tiny.input_size = 11;
  expect_error([&] { models::create("lenet5", tiny); }, {"too small", "12x12"});
}

TEST(LeNet5, WrongInputNamesLayerAndShapes) {
  auto net = models::create("lenet5");
  Generator gen(0);
  // 3 channels into a 1-channel network: the first convolution reports it.
  expect_error([&] { (*net)(Tensor::randn({2, 3, 28, 28}, gen)); }, {"0 (Conv2d)", "(2, 3, 28, 28)", "(6, 1, 5, 5)"});
  // 32x32 into a network built for 28x28: the first Linear sees 576 features, not 400.
  expect_error([&] { (*net)(Tensor::randn({2, 1, 32, 32}, gen)); }, {"7 (Linear)", "(120, 400)", "(2, 576)"});
}
