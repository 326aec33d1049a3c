// BatchNorm folding for inference (nn/fuse.h): the folded network computes what the
// original computes, on every zoo family with BatchNorm, and only eligible pairs fold.
#include <algorithm>
#include <cmath>
#include <ostream>

#include "convnet/autograd/autograd.h"
#include "convnet/core/rng.h"
#include "convnet/models/registry.h"
#include "convnet/nn/fuse.h"
#include "convnet/nn/layers.h"
#include "convnet/nn/sequential.h"
#include "convnet/ops/elementwise.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;

namespace {

// Random BatchNorm statistics and affine parameters, so that folding changes the numbers
// (the defaults, mean 0 / var 1 / gamma 1 / beta 0, would make it nearly an identity).
void randomize_batch_norms(nn::Module& m, uint64_t seed) {
  Generator gen(seed);
  for (auto& [name, mod] : m.named_modules()) {
    auto* bn = dynamic_cast<nn::BatchNorm*>(mod);
    if (!bn) continue;
    float* mean = bn->running_mean.data();
    float* var = bn->running_var.data();
    for (int64_t c = 0; c < bn->num_features; ++c) {
      mean[c] = static_cast<float>(gen.normal() * 0.5);
      var[c] = static_cast<float>(0.2 + gen.uniform01() * 2.0);
      if (bn->weight.defined()) bn->weight.data()[c] = static_cast<float>(0.5 + gen.uniform01());
      if (bn->bias.defined()) bn->bias.data()[c] = static_cast<float>(gen.normal() * 0.3);
    }
  }
}

int count_batch_norms(nn::Module& m, bool folded_only) {
  int n = 0;
  for (auto& [name, mod] : m.named_modules())
    if (auto* bn = dynamic_cast<nn::BatchNorm*>(mod)) n += !folded_only || bn->folded();
  return n;
}

double max_abs(const Tensor& t) {
  double m = 0;
  for (float v : t.to_vector()) m = std::max(m, static_cast<double>(std::fabs(v)));
  return m;
}

}  // namespace

struct FoldCase {
  std::string model;
  int64_t in_channels, size;
  bool all_folded;  // every BatchNorm follows a convolution (post-activation networks)
};

void PrintTo(const FoldCase& c, std::ostream* os) { *os << c.model << " " << c.in_channels << "x" << c.size; }

class FoldZoo : public ::testing::TestWithParam<FoldCase> {};

TEST_P(FoldZoo, FoldedNetworkComputesTheSameLogits) {
  const FoldCase& fc = GetParam();
  manual_seed(11);
  auto m = models::create(fc.model, {.num_classes = 7, .in_channels = fc.in_channels, .input_size = fc.size});
  randomize_batch_norms(*m, 5);
  m->eval();
  Generator gen(7);
  Tensor x = Tensor::randn({3, fc.in_channels, fc.size, fc.size}, gen);
  Tensor before;
  {
    NoGradGuard g;
    before = (*m)(x).clone();
  }
  const int total = count_batch_norms(*m, false);
  auto pairs = nn::fold_batch_norms(*m, {1, fc.in_channels, fc.size, fc.size});
  EXPECT_EQ(static_cast<int>(pairs.size()), count_batch_norms(*m, true));
  if (fc.all_folded)
    EXPECT_EQ(static_cast<int>(pairs.size()), total) << fc.model;
  else
    EXPECT_GT(static_cast<int>(pairs.size()), 0) << fc.model;
  Tensor after;
  {
    NoGradGuard g;
    after = (*m)(x);
  }
  // Within 1e-4 of the logits' scale: folding only reorders float rounding.
  EXPECT_TRUE(all_close(after, before, 0.0, 1e-4 * (max_abs(before) + 1e-3))) << fc.model;
}

INSTANTIATE_TEST_SUITE_P(Zoo, FoldZoo,
                         ::testing::Values(FoldCase{"resnet20", 1, 28, true}, FoldCase{"resnet20_b", 3, 32, true},
                                           FoldCase{"vgg11_bn_cifar", 3, 32, true},
                                           FoldCase{"resnet18", 3, 64, true},
                                           FoldCase{"mobilenet_v2", 3, 32, true},
                                           FoldCase{"googlenet", 3, 64, true},
                                           FoldCase{"densenet_bc_100_12", 3, 32, false}),
                         [](const auto& info) { return info.param.model; });

// The rules: a convolution whose output is also read elsewhere, or a module that runs
// twice, is left alone; a folded BatchNorm refuses to train.
namespace {
struct TwoReaders : nn::Module {
  std::shared_ptr<nn::Conv2d> conv = register_module("conv", std::make_shared<nn::Conv2d>(2, 4, 3, 1, 1));
  std::shared_ptr<nn::BatchNorm2d> bn = register_module("bn", std::make_shared<nn::BatchNorm2d>(4));
  std::shared_ptr<nn::Conv2d> conv2 = register_module("conv2", std::make_shared<nn::Conv2d>(4, 4, 3, 1, 1));
  std::shared_ptr<nn::BatchNorm2d> bn2 = register_module("bn2", std::make_shared<nn::BatchNorm2d>(4));
  Tensor forward(const Tensor& x) override {
    Tensor c = (*conv)(x);
    Tensor y = ops::add((*bn)(c), c);  // c has two readers: not foldable
    Tensor z = (*bn2)((*conv2)(y));     // foldable
    return (*bn2)(z);                   // bn2 runs twice: not foldable after all
  }
  std::string type_name() const override { return "TwoReaders"; }
};
}  // namespace

TEST(Fold, OnlyEligiblePairsFold) {
  manual_seed(2);
  TwoReaders t;
  randomize_batch_norms(t, 3);
  auto pairs = nn::fold_batch_norms(t, {1, 2, 6, 6});
  EXPECT_TRUE(pairs.empty());

  auto net = std::make_shared<nn::Sequential>();
  net->add(std::make_shared<nn::Conv2d>(nn::Conv2dOptions(2, 4, 3).bias(false)));
  net->add(std::make_shared<nn::BatchNorm2d>(4));
  net->add(std::make_shared<nn::ReLU>());
  randomize_batch_norms(*net, 4);
  net->eval();
  Generator gen(1);
  Tensor x = Tensor::randn({2, 2, 5, 5}, gen);
  Tensor before = (*net)(x).detach().clone();
  pairs = nn::fold_batch_norms(*net, x.shape());
  ASSERT_EQ(pairs.size(), 1u);
  EXPECT_EQ(pairs[0].conv, "0");
  EXPECT_EQ(pairs[0].batch_norm, "1");
  // The bias-free convolution got a bias holding the BatchNorm's shift.
  EXPECT_TRUE(net->state_dict().count("0.bias"));
  EXPECT_TRUE(all_close((*net)(x), before, 1e-5, 1e-5));
  net->train();
  expect_error([&] { (*net)(x); }, {"1 (BatchNorm2d)", "folded into 0", "cannot train"});
}
