#pragma once
#pragma GCC visibility push(default)
/// \file
/// Training checkpoints (format "convnet-checkpoint" version 1, see docs/formats.md): one
/// safetensors file per checkpoint, so that one atomic rename commits all of it.
/// - tensors: the model's state_dict under its own names (the EMA weights when training
///   with `--ema`), so the file also works as a plain weights file; with training state also
///   `train_state/optimizer/<i>.<field>` (Optimizer::state_dict) and, with EMA,
///   `train_state/model/<name>` (the raw training weights).
/// - metadata: "format", "format_version", "model", "model_args", "class_names",
///   "normalize", "dataset", "config", "epoch", "scheduler_step", "rng", "history", "best",
///   "train_state", and with loss scaling "loss_scale" (each a JSON value stored as a string).
///
/// A run directory holds last.safetensors (every epoch, with training state: what `--resume`
/// reads), best.safetensors (best validation accuracy so far, weights and metadata only),
/// metrics.jsonl and the SVG plots.
///
/// Writes are atomic and durable: the bytes go to `<path>.tmp`, which is fsync'ed, renamed
/// over `<path>`, and the directory fsync'ed; a crash at any point leaves either the old or the
/// new checkpoint under the real name, never a mixture.
#include <map>
#include <string>
#include <vector>

#include "convnet/core/rng.h"
#include "convnet/core/tensor.h"
#include "convnet/models/registry.h"
#include "convnet/nn/module.h"
#include "convnet/train/trainer.h"

namespace convnet::train {

/// The checkpoint format version this build writes (and the newest it reads).
inline constexpr int kCheckpointVersion = 1;
/// File name of a run's latest checkpoint, written every epoch with training state.
inline constexpr const char* kLastCheckpoint = "last.safetensors";
/// File name of a run's best checkpoint (best validation accuracy), weights and metadata only.
inline constexpr const char* kBestCheckpoint = "best.safetensors";

/// Where a run stopped inside an epoch (train::request_stop(): Ctrl-C, SIGTERM): the epoch in
/// progress is Checkpoint::epoch + 1, and resuming skips the batches already done (the data
/// order is a function of the seed and the epoch), so the result is the same as without the
/// stop.
struct PartialEpoch {
  int64_t step = 0;     ///< Steps of the epoch in progress done (0: the checkpoint is at an epoch boundary).
  int64_t seen = 0;     ///< Training images of those steps.
  int64_t correct = 0;  ///< Of them, predicted correctly.
  int64_t skipped = 0;  ///< Steps skipped by loss scaling.
  double loss_sum = 0;  ///< Sum of the per-image training losses.
  double lr = 0;        ///< The learning rate at the epoch's first step.
  double seconds = 0;   ///< Training time of those steps.
};

/// A training checkpoint in memory: what save_checkpoint() writes and load_checkpoint() reads.
struct Checkpoint {
  std::string path;                  ///< Where it was loaded from (set by load_checkpoint; for error messages).
  int version = kCheckpointVersion;  ///< The format version of the file.
  TrainConfig config;                ///< The full training configuration (model name, dataset spec, recipe).
  models::ModelArgs model_args;      ///< What the model was built with (classes, input channels and size).
  std::vector<std::string> class_names;  ///< Class names of the training data (may be empty).
  /// Input normalization `(x - mean[c]) / std[c]`: the means, one per input channel.
  std::vector<float> mean, std;  ///< Input normalization: the standard deviations, one per input channel.
  int64_t epoch = 0;             ///< Epochs completed.
  int64_t scheduler_step = 0;    ///< Optimizer steps taken, LRScheduler::last_step().
  /// The number of data-parallel ranks that trained it (1 without mpirun); partial.step
  /// counts global batches of that many ranks.
  int64_t world_size = 1;
  std::vector<EpochStats> history;  ///< One entry per completed epoch.
  double best_val_acc = -1;         ///< Best validation accuracy so far (-1: none yet).
  int64_t best_epoch = 0;           ///< The epoch of best_val_acc.
  Generator::State rng{};                       ///< The default generator's state after `epoch`.
  double loss_scale = 0;                        ///< The GradScaler's scale (0: no loss scaling).
  int64_t loss_scale_growth_tracker = 0;        ///< The GradScaler's steps since its last scale change.
  std::map<std::string, Tensor> weights;        ///< The model's state_dict (EMA weights with `--ema`).
  /// load_checkpoint: the file holds training state (the two maps below). save_checkpoint
  /// ignores it: its `with_train_state` argument decides.
  bool has_train_state = false;
  std::map<std::string, Tensor> optimizer;      ///< Optimizer::state_dict().
  std::map<std::string, Tensor> train_weights;  ///< Raw training weights under EMA (empty otherwise).
  PartialEpoch partial;                         ///< The stop inside epoch + 1, if any (metadata "partial_epoch").
};

/// Writes a checkpoint atomically and durably (see the file comment).
/// `with_train_state` = false leaves out the optimizer state and the raw weights (as
/// best.safetensors does). For tests, the environment variable CONVNET_TEST_CRASH_SAVING
/// (docs/formats.md) makes it end the process part way through the temporary file.
/// \pre  The tensors of `c.weights`, `c.optimizer` and `c.train_weights` are float32 on the
///       CPU (they are stored as F32); `c.mean` and `c.std` have `c.model_args.in_channels`
///       entries (load_checkpoint() checks that).
/// \post `path` holds the checkpoint (the parent directories are created); a file that was
///       there is replaced in one rename; no `<path>.tmp` is left behind after an error.
/// \throws convnet::Error when the directory cannot be created, or the temporary file
///         cannot be created, written, synced, closed or renamed (naming the file and the
///         system's reason).
void save_checkpoint(const std::string& path, const Checkpoint& c, bool with_train_state = true);

/// The checkpoint file `path_or_dir` stands for: a checkpoint file, or a run directory
/// (then its last.safetensors).
/// \post Returns `path_or_dir/last.safetensors` for a directory, else `path_or_dir` itself.
/// \throws convnet::Error when the directory has no last.safetensors, or the file does not
///         exist (naming the path).
std::string resolve_checkpoint(const std::string& path_or_dir);
/// Reads a checkpoint file, or the last.safetensors of a run directory.
/// Configuration keys missing from an older file keep their defaults.
/// \pre  `path_or_dir` is a checkpoint file or a run directory (see resolve_checkpoint()).
/// \post Returns the checkpoint with `path` set to the file read; its tensors are float32,
///       split into `weights`, `optimizer` and `train_weights` by their name prefixes.
/// \throws convnet::Error naming the file when it is missing, cannot be read as safetensors
///         (corrupt), is not a convnet checkpoint, has a format version outside 1 to
///         kCheckpointVersion, or lacks a metadata entry or has a malformed one (including a
///         model name that differs from the configuration's, or normalization statistics
///         that do not match the input channels).
Checkpoint load_checkpoint(const std::string& path_or_dir);

/// The model the checkpoint describes, with its weights loaded strictly.
/// Built by create_model() from `c.config` and `c.model_args`: a zoo model, or for a
/// fine-tuned ONNX graph the ONNX file named in the configuration (which must still exist).
/// \pre  `c` comes from load_checkpoint() (or has the same fields filled).
/// \post Returns the model with every state_dict entry copied from `c.weights`.
/// \throws convnet::Error when the model cannot be built (naming the checkpoint file and the
///         cause), or the weights do not fit it (see load_weights_into()).
nn::ModulePtr model_from_checkpoint(const Checkpoint& c);

/// Loads `weights` into `m` strictly: every state_dict entry of `m` must be there with its
/// shape, and nothing else.
/// \pre  `weights` maps state_dict names to tensors (e.g. Checkpoint::weights); `path` and
///       `model_name` only go into error messages.
/// \post Every state_dict entry of `m` holds the value of the same name; on an error nothing
///       in `m` has changed.
/// \throws convnet::Error naming `path` and `model_name` when tensors are missing, differ in
///         shape or are not in the model (the first 8 problems listed, then their count).
void load_weights_into(nn::Module& m, const std::map<std::string, Tensor>& weights, const std::string& path,
                       const std::string& model_name);

/// Writes a small file atomically and durably (temporary file, fsync, rename): logs and plots.
/// \pre  The directory of `path` exists.
/// \post `path` holds `content`; a file that was there is replaced in one rename.
/// \throws convnet::Error when `<path>.tmp` cannot be created, written, synced, closed or
///         renamed (naming the file and the system's reason).
void write_file_atomic(const std::string& path, const std::string& content);

}  // namespace convnet::train
#pragma GCC visibility pop
