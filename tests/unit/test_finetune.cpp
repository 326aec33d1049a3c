// Fine-tuning steps (train/finetune.h): the head found and replaced with the right shape,
// freezing by --train-last / --freeze, frozen parameters bit-identical after optimizer
// steps, BatchNorm statistics kept or adapted, the backward skipping frozen work (counted
// with the profiler's per-kernel call counts), and the error messages.
#include <map>
#include <set>

#include "convnet/autograd/autograd.h"
#include "convnet/core/profiler.h"
#include "convnet/core/rng.h"
#include "convnet/io/onnx.h"
#include "convnet/io/onnx_export.h"
#include "convnet/models/registry.h"
#include "convnet/nn/layers.h"
#include "convnet/ops/loss.h"
#include "convnet/optim/sgd.h"
#include "convnet/train/finetune.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;

namespace {

std::map<std::string, std::vector<float>> snapshot(const nn::Module& m) {
  std::map<std::string, std::vector<float>> s;
  for (auto& [n, t] : m.state_dict()) s[n] = t.to_vector();
  return s;
}

std::set<std::string> trainable_names(const nn::Module& m) {
  std::set<std::string> s;
  for (auto& [n, p] : m.named_parameters())
    if (p.requires_grad()) s.insert(n);
  return s;
}

// `steps` SGD steps on random data with the model in train mode (frozen BatchNorms in eval).
void train_steps(nn::Module& m, const train::FreezePlan& plan, int steps, const Shape& x_shape, int64_t classes) {
  Generator gen(7);
  optim::SGD opt(m.trainable_parameters(), {.lr = 0.1, .momentum = 0.9});
  for (int s = 0; s < steps; ++s) {
    m.train();
    train::keep_frozen_bn_in_eval(m, plan);
    Tensor x = Tensor::randn(x_shape, gen);
    Labels y;
    for (int64_t i = 0; i < x_shape[0]; ++i) y.push_back(i % classes);
    opt.zero_grad();
    ops::cross_entropy(m(x), y).backward();
    opt.step();
  }
}

}  // namespace

TEST(Finetune, GlobMatch) {
  EXPECT_TRUE(train::glob_match("layer1.*", "layer1.0.conv1.weight"));
  EXPECT_TRUE(train::glob_match("*.bias", "fc.bias"));
  EXPECT_TRUE(train::glob_match("features.?.weight", "features.3.weight"));
  EXPECT_FALSE(train::glob_match("features.?.weight", "features.10.weight"));
  EXPECT_FALSE(train::glob_match("layer1.*", "layer2.0.conv1.weight"));
  EXPECT_TRUE(train::glob_match("*", ""));
  EXPECT_FALSE(train::glob_match("fc", "fc.weight"));
}

TEST(Finetune, HeadFoundAndReplacedWithTheNewShape) {
  manual_seed(0);
  auto r = models::create("resnet20", {.num_classes = 10, .in_channels = 1});
  EXPECT_EQ(train::find_head(*r, 10), "fc");
  const auto before = snapshot(*r);
  train::replace_head(*r, "fc", 3);
  auto sd = r->state_dict();
  EXPECT_EQ(sd.at("fc.weight").shape(), (Shape{3, 64}));
  EXPECT_EQ(sd.at("fc.bias").shape(), (Shape{3}));
  EXPECT_EQ(sd.at("conv1.weight").to_vector(), before.at("conv1.weight"));  // the body is untouched
  r->eval();
  NoGradGuard g;
  Generator gen(1);
  EXPECT_EQ((*r)(Tensor::randn({2, 1, 28, 28}, gen)).shape(), (Shape{2, 3}));
  // The result has the parameter names and shapes of a fresh model with 3 classes, so its
  // checkpoints load into models::create(..., num_classes = 3) (what eval and predict do).
  auto fresh = models::create("resnet20", {.num_classes = 3, .in_channels = 1});
  for (auto& [n, t] : fresh->state_dict()) EXPECT_EQ(sd.at(n).shape(), t.shape()) << n;

  // LeNet-5: the last Linear of a Sequential; its fully-convolutional form: the last Conv2d.
  auto l = models::create("lenet5", {.num_classes = 10, .in_channels = 1});
  EXPECT_EQ(train::find_head(*l, 10), "11");
  auto fc = models::create("lenet5", {.num_classes = 10, .in_channels = 1, .fully_conv = true});
  const std::string h = train::find_head(*fc, 10);
  train::replace_head(*fc, h, 4);
  fc->eval();
  NoGradGuard g2;
  EXPECT_EQ((*fc)(Tensor::randn({1, 1, 28, 28}, gen)).size(1), 4);
}

TEST(Finetune, HeadThatIsNotTheClassifierIsRefused) {
  auto l = models::create("lenet5", {.num_classes = 10, .in_channels = 1});
  expect_error([&] { train::find_head(*l, 7); }, {"the last Linear layer '11' has 10 outputs, not the 7 classes"});
}

TEST(Finetune, TrainLastKFreezesTheRightLayers) {
  auto l = models::create("lenet5", {.num_classes = 10, .in_channels = 1});
  // Parameterized layers of LeNet-5: conv 0, conv 3, fc 7, fc 9, fc 11.
  auto plan = train::apply_freezing(*l, "11", 3, {}, "frozen");
  EXPECT_EQ(plan.layers, (std::vector<std::string>{"0", "3", "7", "9", "11"}));
  EXPECT_EQ(plan.trainable_layers, (std::vector<std::string>{"7", "9", "11"}));
  EXPECT_EQ(trainable_names(*l),
            (std::set<std::string>{"7.weight", "7.bias", "9.weight", "9.bias", "11.weight", "11.bias"}));
  EXPECT_EQ(plan.frozen_count, 6 * 25 + 6 + 16 * 6 * 25 + 16);
  EXPECT_EQ(plan.trainable_count, l->num_parameters() - plan.frozen_count);

  plan = train::apply_freezing(*l, "11", 0, {}, "frozen");  // default: the head only
  EXPECT_EQ(trainable_names(*l), (std::set<std::string>{"11.weight", "11.bias"}));
  plan = train::apply_freezing(*l, "11", -1, {}, "frozen");  // all
  EXPECT_EQ(trainable_names(*l).size(), 10u);
  plan = train::apply_freezing(*l, "11", 0, {"0.*", "*.bias"}, "frozen");  // --freeze alone: the rest trains
  EXPECT_EQ(trainable_names(*l), (std::set<std::string>{"3.weight", "7.weight", "9.weight", "11.weight"}));
  const std::string text = plan.describe();
  EXPECT_NE(text.find("trainable layers (4 of 5): 3, 7, 9, 11"), std::string::npos) << text;
  EXPECT_NE(text.find("61,706 total"), std::string::npos) << text;
}

TEST(Finetune, FrozenParametersStayBitIdenticalAndGetNoGradient) {
  manual_seed(1);
  auto m = models::create("resnet20_b", {.num_classes = 10, .in_channels = 1});
  train::replace_head(*m, "fc", 4);
  auto plan = train::apply_freezing(*m, "fc", 2, {}, "frozen");  // layer3's last BatchNorm and fc
  ASSERT_EQ(plan.trainable_layers.size(), 2u);
  EXPECT_EQ(plan.trainable_layers.back(), "fc");
  const auto before = snapshot(*m);
  train_steps(*m, plan, 3, {4, 1, 12, 12}, 4);
  const auto after = snapshot(*m);
  int frozen = 0, changed = 0;
  for (auto& [n, p] : m->named_parameters()) {
    if (p.requires_grad()) {
      changed += after.at(n) != before.at(n);
    } else {
      ++frozen;
      EXPECT_EQ(after.at(n), before.at(n)) << n << " is frozen but changed";
      EXPECT_FALSE(p.grad().defined()) << n << " is frozen but got a gradient";
    }
  }
  EXPECT_GT(frozen, 50);
  EXPECT_EQ(changed, 4);  // bn weight, bn bias, fc weight, fc bias
  // bn_stats frozen: the running statistics of the frozen BatchNorms did not move.
  for (const auto& bn : plan.frozen_batchnorms)
    EXPECT_EQ(after.at(bn + ".running_mean"), before.at(bn + ".running_mean")) << bn;
  // 21 BatchNorms (19 on the residual branches and stem, 2 in projection shortcuts), one of them trainable.
  EXPECT_EQ(plan.frozen_batchnorms.size(), 20u);
}

TEST(Finetune, BatchNormStatisticsFrozenOrAdapting) {
  for (const std::string mode : {"frozen", "adapt"}) {
    manual_seed(2);
    auto m = models::create("resnet20", {.num_classes = 10, .in_channels = 1});
    auto plan = train::apply_freezing(*m, "fc", 0, {}, mode);
    const auto before = snapshot(*m);
    train_steps(*m, plan, 2, {4, 1, 8, 8}, 10);
    const auto after = snapshot(*m);
    EXPECT_EQ(after.at("bn1.running_mean") == before.at("bn1.running_mean"), mode == "frozen") << mode;
    EXPECT_EQ(after.at("layer2.1.bn2.running_var") == before.at("layer2.1.bn2.running_var"), mode == "frozen") << mode;
    EXPECT_EQ(after.at("bn1.weight"), before.at("bn1.weight")) << mode;  // frozen either way
    EXPECT_EQ(plan.frozen_batchnorms.empty(), mode == "adapt");
  }
}

// Frozen layers cost no backward work: the profiler counts every kernel call by name, and
// every backward kernel (every "*_bwd*" row: convolutions, linear layers, BatchNorm,
// activations, pooling, the loss) is counted, not only the parameterized layers'.
// Expected counts are derived from the architecture in the comments.
std::map<std::string, int64_t> backward_calls(nn::Module& m, const Tensor& x, const Labels& y) {
  Tensor loss = ops::cross_entropy(m(x), y);
  profiler::reset();
  profiler::enable(true);
  loss.backward();
  profiler::enable(false);
  std::map<std::string, int64_t> out;
  for (const auto& r : profiler::rows()) {
    if (r.name.find("_bwd") == std::string::npos) continue;
    std::string n = r.name;  // a convolution runs on the plain or the channel-blocked key
    if (const auto p = n.find("_blocked"); p != std::string::npos) n.erase(p);
    out[n] += r.calls;
  }
  return out;
}

TEST(Finetune, BackwardSkipsFrozenLayers) {
  // lenet5: conv1 relu pool conv2 relu pool flatten fc1 relu fc2 relu fc3 (layers 0 3 7 9 11).
  auto count = [](int64_t train_last) {
    manual_seed(3);
    auto l = models::create("lenet5", {.num_classes = 10, .in_channels = 1});
    train::apply_freezing(*l, "11", train_last, {}, "frozen");
    Generator gen(3);
    return backward_calls(*l, Tensor::randn({8, 1, 28, 28}, gen), Labels{0, 1, 2, 3, 4, 5, 6, 7});
  };
  using Calls = std::map<std::string, int64_t>;
  // Head only: the loss and fc3's weight gradient; its input needs no gradient, so the ReLU
  // before it runs no backward.
  EXPECT_EQ(count(0), (Calls{{"cross_entropy_bwd", 1}, {"linear_bwd", 1}}));
  // The classifier (3 Linear): the two ReLUs between them, nothing below fc1.
  EXPECT_EQ(count(3), (Calls{{"cross_entropy_bwd", 1}, {"linear_bwd", 3}, {"relu_bwd", 2}}));
  // conv2 too: through the second pool and ReLU to its weight gradient, but no data
  // gradient (conv1 is frozen and the input needs none).
  EXPECT_EQ(count(4), (Calls{{"conv2d_bwd_weight", 1},
                             {"cross_entropy_bwd", 1},
                             {"linear_bwd", 3},
                             {"max_pool2d_bwd", 1},
                             {"relu_bwd", 3}}));
  // Everything: both weight gradients, the data gradient of conv2 only, every ReLU and pool.
  EXPECT_EQ(count(-1), (Calls{{"conv2d_bwd_data", 1},
                              {"conv2d_bwd_weight", 2},
                              {"cross_entropy_bwd", 1},
                              {"linear_bwd", 3},
                              {"max_pool2d_bwd", 2},
                              {"relu_bwd", 4}}));
}

// A BatchNorm model: resnet20 with --train-last 2 trains layer3.2.bn2 and fc. Backward runs
// the loss, fc, the global pooling, the block's final ReLU and bn2's parameter gradients;
// conv2 below bn2 is frozen and nothing under it trains, so no convolution, no other
// BatchNorm and no other ReLU runs backward.
TEST(Finetune, BackwardSkipsFrozenLayersOfAResNet) {
  manual_seed(5);
  auto r = models::create("resnet20", {.num_classes = 10, .in_channels = 3});
  const auto plan = train::apply_freezing(*r, "fc", 2, {}, "frozen");
  ASSERT_EQ(plan.trainable_layers, (std::vector<std::string>{"layer3.2.bn2", "fc"}));
  r->train();
  train::keep_frozen_bn_in_eval(*r, plan);
  Generator gen(5);
  const auto got = backward_calls(*r, Tensor::randn({4, 3, 32, 32}, gen), Labels{0, 1, 2, 3});
  EXPECT_EQ(got, (std::map<std::string, int64_t>{{"adaptive_avg_pool2d_bwd", 1},
                                                 {"batch_norm_bwd", 1},
                                                 {"cross_entropy_bwd", 1},
                                                 {"linear_bwd", 1},
                                                 {"relu_bwd", 1}}));
}

TEST(Finetune, Errors) {
  auto l = models::create("lenet5", {.num_classes = 10, .in_channels = 1});
  expect_error([&] { train::apply_freezing(*l, "11", 0, {"layer9.*"}, "frozen"); },
               {"--freeze 'layer9.*' matches no parameter", "named like 0.weight"});
  expect_error([&] { train::apply_freezing(*l, "11", 6, {}, "frozen"); },
               {"--train-last 6: the model has only 5 parameterized layers (0, 3, 7, 9, 11)"});
  expect_error([&] { train::apply_freezing(*l, "11", 0, {"*"}, "frozen"); }, {"every parameter is frozen"});
  expect_error([&] { train::apply_freezing(*l, "11", 0, {}, "maybe"); }, {"--bn-stats must be frozen or adapt"});
}

// An imported ONNX graph (here: resnet20_b exported by io::export_onnx) fine-tunes the same
// way: its layers are the nodes that read parameters, its head the last Gemm, its frozen
// BatchNormalization nodes keep their statistics.
TEST(Finetune, OnnxGraph) {
  for (const std::string mode : {"frozen", "adapt"}) {
    manual_seed(4);
    auto zoo = models::create("resnet20_b", {.num_classes = 10, .in_channels = 1});
    auto g = io::OnnxModel::load_from_bytes(io::export_onnx_bytes(*zoo, {1, 1, 8, 8}), "resnet20_b.onnx");
    EXPECT_EQ(g->head(), (std::pair<std::string, int64_t>{"/fc/Gemm", 10}));
    EXPECT_EQ(train::find_head(*g, 10), "/fc/Gemm");
    Generator gen(4);
    train::replace_head(*g, "/fc/Gemm", 3, gen);
    EXPECT_EQ(g->head().second, 3);
    EXPECT_EQ(g->state_dict().at("fc.weight").shape(), (Shape{3, 64}));
    auto plan = train::apply_freezing(*g, "/fc/Gemm", 2, {}, mode);
    EXPECT_EQ(plan.layers.size(), 43u);  // 21 Conv, 21 BatchNormalization, 1 Gemm
    EXPECT_EQ(plan.trainable_layers, (std::vector<std::string>{"/layer3.2.bn2/BatchNormalization", "/fc/Gemm"}));
    const auto before = snapshot(*g);
    train_steps(*g, plan, 2, {4, 1, 8, 8}, 3);
    const auto after = snapshot(*g);
    for (auto& [n, p] : g->named_parameters())
      if (!p.requires_grad()) {
        EXPECT_EQ(after.at(n), before.at(n)) << n;
      }
    EXPECT_NE(after.at("fc.weight"), before.at("fc.weight"));
    EXPECT_EQ(after.at("bn1.running_mean") == before.at("bn1.running_mean"), mode == "frozen") << mode;
    // The trainable BatchNorm adapts either way.
    EXPECT_NE(after.at("layer3.2.bn2.running_mean"), before.at("layer3.2.bn2.running_mean")) << mode;
  }
}
