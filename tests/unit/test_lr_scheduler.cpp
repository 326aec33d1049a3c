// LR schedules: values from the formulas, what each step() sets on the optimizer,
// resuming, and errors. The full sequences against PyTorch: tests/parity/test_optim.cpp.
#include <cmath>
#include <numbers>

#include "convnet/core/error.h"
#include "convnet/optim/adam.h"
#include "convnet/optim/lr_scheduler.h"
#include "convnet/optim/sgd.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::optim;
using convnet::testing::expect_error;

namespace {
std::vector<Tensor> one_param() {
  Tensor p = Tensor::zeros({1});
  p.requires_grad_();
  return {p};
}
}  // namespace

TEST(LRScheduler, StepLRSetsTheOptimizerLr) {
  SGD opt(one_param(), {.lr = 0.1});
  StepLR s(opt, 3, 0.5);
  EXPECT_DOUBLE_EQ(opt.lr(), 0.1);
  const double expected[] = {0.1, 0.1, 0.05, 0.05, 0.05, 0.025};  // after steps 1..6
  for (double e : expected) {
    s.step();
    EXPECT_NEAR(opt.lr(), e, 1e-15) << "step " << s.last_step();
  }
  EXPECT_EQ(s.last_step(), 6);
  EXPECT_DOUBLE_EQ(s.base_lr(), 0.1);
}

TEST(LRScheduler, MultiStepCountsRepeatedMilestonesTwice) {
  SGD opt(one_param(), {.lr = 1.0});
  MultiStepLR s(opt, {5, 2, 5}, 0.1);
  EXPECT_DOUBLE_EQ(s.lr_at(1), 1.0);
  EXPECT_NEAR(s.lr_at(2), 0.1, 1e-15);
  EXPECT_NEAR(s.lr_at(4), 0.1, 1e-15);
  EXPECT_NEAR(s.lr_at(5), 1e-3, 1e-15);
  EXPECT_NEAR(s.lr_at(100), 1e-3, 1e-15);
}

TEST(LRScheduler, CosineClosedForm) {
  SGD opt(one_param(), {.lr = 0.2});
  CosineAnnealingLR s(opt, 10, 0.02);
  EXPECT_DOUBLE_EQ(s.lr_at(0), 0.2);
  EXPECT_NEAR(s.lr_at(5), 0.11, 1e-15);   // halfway: the mean of base and eta_min
  EXPECT_NEAR(s.lr_at(10), 0.02, 1e-15);  // the minimum at T_max
  EXPECT_NEAR(s.lr_at(20), 0.2, 1e-15);   // and back up: period 2*T_max
  EXPECT_NEAR(s.lr_at(3), 0.02 + 0.18 * (1 + std::cos(std::numbers::pi * 0.3)) / 2, 1e-15);
}

TEST(LRScheduler, OneCycleSetsLrAndMomentum) {
  SGD opt(one_param(), {.lr = 123.0, .momentum = 0.5});
  OneCycleLR s(opt, 1.0, 10);  // pct_start 0.3: the peak is at step 3 - 1 = 2
  EXPECT_NEAR(opt.lr(), 1.0 / 25, 1e-15);  // ignores the optimizer's lr, as PyTorch
  EXPECT_DOUBLE_EQ(opt.momentum(), 0.95);
  s.step();
  s.step();
  EXPECT_DOUBLE_EQ(opt.lr(), 1.0);
  EXPECT_DOUBLE_EQ(opt.momentum(), 0.85);
  EXPECT_NEAR(s.lr_at(9), 1.0 / 25 / 1e4, 1e-18);  // the minimum at total_steps - 1
  EXPECT_DOUBLE_EQ(*s.momentum_at(9), 0.95);
  EXPECT_NO_THROW(s.lr_at(10));  // PyTorch allows stepping total_steps times
  expect_error([&] { s.lr_at(11); }, {"OneCycleLR", "Tried to step 12 times", "total steps is 10"});
}

TEST(LRScheduler, OneCycleCyclesAdamBeta1) {
  Adam opt(one_param(), {.lr = 1e-3});
  OneCycleLR s(opt, 1e-2, 20, 0.5, 10, 100, false, true, 0.8, 0.9);
  EXPECT_DOUBLE_EQ(opt.options().beta1, 0.9);
  s.set_last_step(9);  // the peak: 0.5*20 - 1
  EXPECT_DOUBLE_EQ(opt.lr(), 1e-2);
  EXPECT_DOUBLE_EQ(opt.options().beta1, 0.8);
}

TEST(LRScheduler, OneCycleWithoutMomentumLeavesItAlone) {
  SGD opt(one_param(), {.lr = 0.1, .momentum = 0.7});
  OneCycleLR s(opt, 1.0, 10, 0.3, 25, 1e4, false, /*cycle_momentum=*/false);
  s.step();
  EXPECT_DOUBLE_EQ(opt.momentum(), 0.7);
  EXPECT_FALSE(s.momentum_at(3).has_value());
}

TEST(LRScheduler, SetLastStepResumes) {
  SGD a(one_param(), {.lr = 0.1}), b(one_param(), {.lr = 0.1});
  CosineAnnealingLR sa(a, 50), sb(b, 50);
  for (int k = 0; k < 17; ++k) sa.step();
  sb.set_last_step(17);
  EXPECT_EQ(sb.last_step(), 17);
  EXPECT_DOUBLE_EQ(a.lr(), b.lr());
  sa.step();
  sb.step();
  EXPECT_DOUBLE_EQ(a.lr(), b.lr());
  expect_error([&] { sb.set_last_step(-1); }, {"set_last_step", "-1"});
}

TEST(LRScheduler, LinearWarmupThenCosine) {
  SGD opt(one_param(), {.lr = 0.3});
  LinearWarmup s(opt, 4, std::make_unique<CosineAnnealingLR>(opt, 8), 0.25);
  EXPECT_NEAR(opt.lr(), 0.075, 1e-15);  // start_factor * base
  EXPECT_NEAR(s.lr_at(2), 0.3 * (0.25 + 0.75 * 0.5), 1e-15);
  EXPECT_DOUBLE_EQ(s.lr_at(4), 0.3);            // after's step 0
  EXPECT_NEAR(s.lr_at(8), 0.15, 1e-15);         // cosine halfway (its step 4 of 8)
  EXPECT_NEAR(s.lr_at(12), 0.0, 1e-15);
}

TEST(LRScheduler, LinearWarmupAlone) {
  SGD opt(one_param(), {.lr = 0.1});
  LinearWarmup s(opt, 2, nullptr, 0.0);
  EXPECT_DOUBLE_EQ(opt.lr(), 0.0);
  s.step();
  EXPECT_DOUBLE_EQ(opt.lr(), 0.05);
  s.step();
  EXPECT_DOUBLE_EQ(opt.lr(), 0.1);
  s.step();
  EXPECT_DOUBLE_EQ(opt.lr(), 0.1);
}

TEST(LRScheduler, Errors) {
  SGD opt(one_param(), {.lr = 0.1}), other(one_param(), {.lr = 0.1});
  expect_error([&] { StepLR(opt, 0); }, {"StepLR", "step_size must be positive, got 0"});
  expect_error([&] { CosineAnnealingLR(opt, -3); }, {"CosineAnnealingLR", "T_max must be positive, got -3"});
  expect_error([&] { OneCycleLR(opt, 0.1, 0); }, {"OneCycleLR", "Expected positive integer total_steps, but got 0"});
  expect_error([&] { OneCycleLR(opt, 0.1, 10, 1.5); }, {"OneCycleLR", "pct_start, but got 1.5"});
  expect_error([&] { LinearWarmup(opt, -1, nullptr); }, {"LinearWarmup", "warmup_steps", "-1"});
  expect_error([&] { LinearWarmup(opt, 5, nullptr, 2.0); }, {"LinearWarmup", "between 0 and 1"});
  expect_error([&] { LinearWarmup(opt, 5, std::make_unique<StepLR>(other, 3)); }, {"LinearWarmup", "same optimizer"});
}
