#pragma once
// The training loop behind `convnet train`: a model from the zoo, Fashion-MNIST (or any
// idx dataset directory), an optimizer and a schedule, with per-step and per-epoch
// callbacks for progress display. Defaults are the recipe of the PyTorch peer
// (shared/bench/pytorch_fashion_mnist.py): SGD momentum 0.9 nesterov, weight decay 5e-4,
// one-cycle LR peaking at 0.05 (pct_start 0.15), batch 128, inputs normalized with
// mean 0.2860 and std 0.3530.
#include <functional>
#include <string>

#include "convnet/data/dataset.h"
#include "convnet/nn/module.h"

namespace convnet::train {

struct TrainConfig {
  std::string model = "lenet5";
  std::string data_dir = "/usr/share/datasets/fashion-mnist";
  int64_t epochs = 10;
  int64_t batch_size = 128;
  std::string optimizer = "sgd";  // sgd | adam | adamw
  double lr = 0.05;
  double momentum = 0.9;
  bool nesterov = true;
  double weight_decay = 5e-4;
  std::string schedule = "onecycle";  // constant | step | multistep | cosine | onecycle
  int64_t step_size = 0;               // step: epochs per decay (0 = epochs/3)
  std::vector<int64_t> milestones;     // multistep: epochs
  double gamma = 0.1;
  double pct_start = 0.15;             // onecycle warm-up fraction
  uint64_t seed = 0;
  int threads = 0;                     // 0 = all cores
  int64_t limit_train = 0;             // use only the first N training images (0 = all)
  int64_t eval_batch_size = 1000;
};

struct StepInfo {
  int64_t epoch, step, steps_per_epoch;
  double loss, lr, images_per_second;
};

struct EpochStats {
  int64_t epoch;
  double train_loss, train_acc, test_acc, lr, seconds, images_per_second;
};

struct TrainResult {
  double test_acc;
  double seconds;
  nn::ModulePtr model;
};

struct Callbacks {
  std::function<void(const StepInfo&)> on_step;
  std::function<void(const EpochStats&)> on_epoch;
};

// Validates the configuration (unknown model/optimizer/schedule, non-positive sizes)
// with messages that say which value is wrong and what is accepted.
void validate(const TrainConfig& cfg);
TrainResult train(const TrainConfig& cfg, const Callbacks& cb = {});

// Top-1 accuracy of `model` in eval mode, without recording a graph.
double evaluate(nn::Module& model, const data::Dataset& d, int64_t batch_size = 1000);

}  // namespace convnet::train
