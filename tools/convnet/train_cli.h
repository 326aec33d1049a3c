#pragma once
// The training options and the training run shared by `convnet train` and `convnet
// finetune` (which adds its own options to the same TrainConfig).
#include <CLI/CLI.hpp>
#include <map>
#include <string>

#include "convnet/train/trainer.h"
#include "progress.h"

namespace convnet::cli {

struct TrainCli {
  train::TrainConfig cfg;
  CLI::App* app = nullptr;
  // Each CLI option and the key of the TrainConfig option it sets (train/options.h).
  std::map<const CLI::Option*, std::string> keys;
  DisplayOptions display;  // --quiet, --log-format (not part of the training configuration)
};

// The options of train/options.h on t.app, with their defaults, help and checks; those of
// fine-tuning only when `finetune`. Returns them by key, for relations between them.
std::map<std::string, CLI::Option*> add_training_options(TrainCli& t, bool finetune);
// Runs train::train with progress and per-epoch lines; --resume reads the checkpoint's configuration.
int run_training(const TrainCli& t);

}  // namespace convnet::cli
