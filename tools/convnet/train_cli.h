#pragma once
// The training options and the training run shared by `convnet train` and `convnet
// finetune` (which adds its own options to the same TrainConfig).
#include <CLI/CLI.hpp>

#include "convnet/train/trainer.h"

namespace convnet::cli {

struct TrainCli {
  train::TrainConfig cfg;
  CLI::App* app = nullptr;
};

// Every option of TrainConfig but --model (data, optimization, checkpoints), with its default.
void add_training_options(CLI::App* app, train::TrainConfig& cfg);
// Runs train::train with progress and per-epoch lines; --resume reads the checkpoint's configuration.
int run_training(const TrainCli& t);

}  // namespace convnet::cli
