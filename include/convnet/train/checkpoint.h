#pragma once
// Training checkpoints (format "convnet-checkpoint" version 1, see docs/formats.md): one
// safetensors file per checkpoint, so that one atomic rename commits all of it.
//   tensors   the model's state_dict under its own names (the EMA weights when training
//             with --ema), so the file also works as a plain weights file;
//             with training state: "train_state/optimizer/<i>.<field>" (Optimizer::state_dict)
//             and, with EMA, "train_state/model/<name>" (the raw training weights)
//   metadata  "format", "format_version", "model", "model_args", "class_names",
//             "normalize", "dataset", "config", "epoch", "scheduler_step", "rng",
//             "history", "best", and with loss scaling "loss_scale" (each a JSON value
//             stored as a string)
// A run directory holds last.safetensors (every epoch, with training state: what --resume
// reads), best.safetensors (best validation accuracy so far, weights and metadata only),
// metrics.jsonl and the SVG plots.
//
// Writes are atomic and durable: the bytes go to "<path>.tmp", which is fsync'ed, renamed
// over <path>, and the directory fsync'ed; a crash at any point leaves either the old or the
// new checkpoint under the real name, never a mixture.
#include <map>
#include <string>
#include <vector>

#include "convnet/core/rng.h"
#include "convnet/core/tensor.h"
#include "convnet/models/registry.h"
#include "convnet/nn/module.h"
#include "convnet/train/trainer.h"

namespace convnet::train {

inline constexpr int kCheckpointVersion = 1;
inline constexpr const char* kLastCheckpoint = "last.safetensors";
inline constexpr const char* kBestCheckpoint = "best.safetensors";

struct Checkpoint {
  std::string path;  // where it was loaded from (error messages)
  int version = kCheckpointVersion;
  TrainConfig config;  // the full training configuration (model name, dataset spec, recipe)
  models::ModelArgs model_args;
  std::vector<std::string> class_names;
  std::vector<float> mean, std;  // the normalization applied to inputs
  int64_t epoch = 0;             // epochs completed
  int64_t scheduler_step = 0;    // LRScheduler::last_step()
  std::vector<EpochStats> history;
  double best_val_acc = -1;
  int64_t best_epoch = 0;
  Generator::State rng{};                       // the default generator after `epoch`
  double loss_scale = 0;                        // the GradScaler's scale (0: no loss scaling)
  int64_t loss_scale_growth_tracker = 0;        // and its steps since the last change
  std::map<std::string, Tensor> weights;        // the model's state_dict (EMA weights with --ema)
  bool has_train_state = false;                 // the two maps below are saved / were found
  std::map<std::string, Tensor> optimizer;      // Optimizer::state_dict()
  std::map<std::string, Tensor> train_weights;  // raw weights under EMA (empty otherwise)
};

// Writes `c` atomically (see above); with_train_state = false leaves out the optimizer
// state and raw weights (best.safetensors). Errors name the file.
void save_checkpoint(const std::string& path, const Checkpoint& c, bool with_train_state = true);

// `path_or_dir` is a checkpoint file or a run directory (then its last.safetensors).
std::string resolve_checkpoint(const std::string& path_or_dir);
// Throws convnet::Error naming the file when it is missing, corrupt, not a convnet
// checkpoint, or of a newer format version.
Checkpoint load_checkpoint(const std::string& path_or_dir);

// The model the checkpoint describes, with its weights loaded strictly; when they do not
// fit, the error names the file, the model and every mismatching tensor.
nn::ModulePtr model_from_checkpoint(const Checkpoint& c);

// Loads `weights` into `m` strictly; errors name `path` and the model.
void load_weights_into(nn::Module& m, const std::map<std::string, Tensor>& weights, const std::string& path,
                       const std::string& model_name);

// Writes a small file atomically and durably (temp file, fsync, rename): logs and plots.
void write_file_atomic(const std::string& path, const std::string& content);

}  // namespace convnet::train
