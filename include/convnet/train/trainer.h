#pragma once
#pragma GCC visibility push(default)
/// \file
/// The training loop behind `convnet train`: a model from the zoo, a dataset (any kind of
/// data::load_dataset), an optimizer and a schedule, validation every epoch, checkpoints in
/// a run directory (see checkpoint.h and docs/formats.md), a metrics log and SVG plots, and
/// exact resumption. Defaults are the recipe of the PyTorch peer
/// (shared/bench/pytorch_fashion_mnist.py): SGD momentum 0.9 nesterov, weight decay 5e-4,
/// one-cycle LR peaking at 0.05 (pct_start 0.15), batch 128, Fashion-MNIST inputs
/// normalized with mean 0.2860 and std 0.3530.
///
/// Reproducibility: with the same configuration, seed and thread count, a run that is
/// stopped after epoch k and resumed from its checkpoint ends with weights bit-identical to
/// an uninterrupted run. Everything random is either a function of (seed, epoch, sample)
/// (shuffling, augmentation, mixup: the data loader) or drawn from the default generator
/// (initialization, dropout), whose state the checkpoint stores.
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "convnet/data/dataset.h"
#include "convnet/nn/module.h"
#include "convnet/train/options.h"

namespace convnet::train {

/// Progress of one training step (Callbacks::on_step).
struct StepInfo {
  /// The epoch, counted from 1.
  int64_t epoch, step, /**< The step within the epoch, counted from 1. */ steps_per_epoch;  ///< Steps per epoch.
  /// The step's loss (before the update).
  double loss, lr, /**< The learning rate for the next step. */ images_per_second;  ///< Training images/s this epoch.
};

/// The statistics of one epoch (Callbacks::on_epoch, Checkpoint::history, metrics.jsonl).
struct EpochStats {
  int64_t epoch = 0;  ///< The epoch, counted from 1.
  /// Mean training loss over the epoch's images (with label smoothing and MixUp/CutMix as trained).
  double train_loss = 0, train_acc = 0;  ///< Training accuracy (argmax against the batch labels), in [0, 1].
  /// Mean cross entropy on the validation split, or the test set without one.
  double val_loss = 0, val_acc = 0;  ///< Top-1 accuracy on the same images, in [0, 1].
  double lr = 0;                     ///< The learning rate at the first step of the epoch.
  /// Wall time of the epoch, training and validation, in seconds.
  double seconds = 0, images_per_second = 0;  ///< Training images per second (validation not counted).
  bool best = false;  ///< The best validation accuracy so far (best checkpoint written).
  /// With loss scaling (`--loss-scale`, fp16): the scale at the end of the epoch (0 without).
  double loss_scale = 0;
  /// With loss scaling: the steps skipped because their gradients overflowed (0 without).
  int64_t skipped_steps = 0;
};

/// What train() returns.
struct TrainResult {
  double test_acc = 0;   ///< Top-1 accuracy of the final weights (EMA weights with `--ema`) on the test set.
  /// False for a folder dataset without a test split; test_acc is then the last validation accuracy.
  bool has_test = true;
  int64_t test_images = 0;  ///< The test images test_acc was measured on (fewer with `--limit-test`).
  int64_t test_total = 0;   ///< The images of the test split.
  double best_val_acc = 0;  ///< The best validation accuracy of the run.
  int64_t best_epoch = 0;   ///< The epoch of best_val_acc.
  double seconds = 0;       ///< Wall time of train(), in seconds.
  std::string run_dir;      ///< The run directory: checkpoints, metrics.jsonl, plots.
  nn::ModulePtr model;      ///< The final (EMA) model, in eval mode.
  bool interrupted = false;   ///< stopped by request_stop() (SIGINT/SIGTERM in the CLI) before the last epoch
  int64_t stopped_epoch = 0;  ///< with `interrupted`: the epoch it stopped in
  int64_t stopped_step = 0;   ///< with `interrupted`: the steps of that epoch done (0: between epochs)
};

/// What train() reports while it runs; each callback may be empty.
struct Callbacks {
  std::function<void(const StepInfo&)> on_step;     ///< After every training step (skipped ones included).
  std::function<void(const EpochStats&)> on_epoch;  ///< After every epoch, once its checkpoint and logs are written.
  /// One-line notes: where validation comes from, the run directory, resumption, warnings.
  std::function<void(const std::string&)> on_info;
};

/// Asks a running train() to stop after its current step: it then writes a resumable
/// checkpoint (last.safetensors, with the position inside the epoch) and returns with
/// TrainResult::interrupted. Async-signal-safe (one atomic store): the CLI calls it from its
/// SIGINT and SIGTERM handlers. The request stays until train() honours it or
/// clear_stop_request() is called.
/// \post stop_requested() is true.
void request_stop() noexcept;
/// Whether request_stop() was called and not yet honoured.
/// \post true between request_stop() and the end of the train() that honours it.
bool stop_requested() noexcept;
/// Withdraws a stop request.
/// \post stop_requested() is false.
void clear_stop_request() noexcept;

/// Validates the configuration, with messages that say which value is wrong and what is
/// accepted.
/// Tests every option's Check (naming its flag), then what relates options to each other
/// or to the library's lists: a known zoo model (unless fine-tuning an ONNX file), a known
/// dataset kind, `--milestones` for the multistep schedule, `--warmup` below `--epochs`, a valid
/// `--augment` list, at most one fine-tuning source, a known device (CUDA only in a CUDA
/// build), a known precision, and a `--loss-scale` of auto, dynamic, none or a positive number.
/// \post Returns when the configuration passes every test.
/// \throws convnet::Error at the first test that fails.
void validate(const TrainConfig& cfg);

/// The configuration to resume with: the one stored in the checkpoint at `ckpt` (file or run
/// directory).
/// `given` holds what the command line asked for and `explicitly_set` the TrainConfig field
/// names that were given on it ("model", "lr", "data_dir", ...). Fields that may change on
/// resumption (OptionInfo::free_on_resume: epochs, threads, workers, data_dir, out,
/// eval_batch_size, device) take the given value.
/// \pre  `ckpt` is a checkpoint file or a run directory (see resolve_checkpoint()).
/// \post Returns the stored configuration with the free fields that were set taken from
///       `given`; in the result, `ckpt.resume` is the checkpoint file, and `ckpt.out` the
///       checkpoint's directory unless "out" was set.
/// \throws convnet::Error when the checkpoint cannot be loaded (as load_checkpoint()), or an
///         explicitly set field that may not change differs from the stored one (naming the
///         flag, both values and the checkpoint file, e.g. `--model` resnet20 for a lenet5
///         checkpoint).
TrainConfig resume_config(const std::string& ckpt, const TrainConfig& given,
                          const std::set<std::string>& explicitly_set);

/// Runs a training (or, with `cfg.ckpt.resume`, continues one) as configured.
/// Loads the data, builds the model (or the pretrained one, see finetune.h), then trains
/// epoch by epoch: validation, best.safetensors when the validation accuracy improved,
/// last.safetensors, metrics.jsonl and the SVG plots, every epoch. A step with a loss or a
/// gradient norm that is not finite stops the run before its update (with loss scaling, a
/// step whose gradients overflow is skipped instead).
/// \pre  `cfg` passes validate(); the data is where `cfg.data` says; a checkpoint to resume
///       holds training state for the same model and data.
/// \post Returns the result; the run directory (`cfg.ckpt.out`, default
///       runs/MODEL-YYYYmmdd-HHMMSS) holds the checkpoints, logs and plots. Process-wide: the
///       thread count is set when `cfg.compute.threads` > 0, and the default generator is
///       seeded with `cfg.compute.seed` (or restored from the checkpoint).
/// \throws convnet::Error when validate() fails; the data cannot be loaded; a checkpoint to
///         resume cannot be read, holds weights only, or was trained with another model,
///         classes or input shape (naming the file); `--num-classes` differs from the data's;
///         the run directory or a file in it cannot be written (naming it); or the training
///         diverges (naming the epoch and step, and the last good checkpoint, left intact).
TrainResult train(const TrainConfig& cfg, const Callbacks& cb = {});

/// torch.nn.utils.clip_grad_norm_ (PyTorch 1.13): scales every defined gradient by
/// min(1, max_norm / (total + 1e-6)), total = the 2-norm of the per-parameter 2-norms
/// (grad_norm()), in float32 as PyTorch.
/// \pre  The defined gradients are float32 on the CPU.
/// \post Returns total; when total is not finite, or max_norm / (total + 1e-6) >= 1, the
///       gradients are left as they are. Parameters without a gradient are skipped.
double clip_grad_norm(const std::vector<Tensor>& params, double max_norm);
/// The total 2-norm of the defined gradients of `params`, as clip_grad_norm computes it,
/// without changing them. The trainer checks it every step, so no update is ever taken
/// from a non-finite gradient.
/// \pre  The defined gradients are float32 on the CPU.
/// \post Returns the norm (rounded to float32); Inf or NaN when any gradient element is not
///       finite; 0 when no parameter has a gradient.
double grad_norm(const std::vector<Tensor>& params);

/// One step of the exponential moving average of weights (`--ema`): every parameter of `ema`
/// becomes decay * ema + (1 - decay) * model's, in float32; buffers (BatchNorm running
/// statistics) are copied from `model`, since an average of them describes no network's
/// activations.
/// \pre  Both modules are the same architecture: the same parameters and buffers, in the
///       same order and of the same shapes (not checked); float32 on the CPU.
/// \post The parameters and buffers of `ema` are updated in place; `model` is unchanged.
void update_ema(nn::Module& ema, const nn::Module& model, double decay);

/// Top-1 accuracy of `model` in eval mode, without recording a graph: evaluate_full().top1.
/// \pre  `d` is already normalized; `batch_size` > 0.
/// \post Returns a fraction in [0, 1]; the model's train/eval mode is what it was.
/// \throws convnet::Error as evaluate_full() (a non-positive batch size, a label outside the
///         model's classes).
double evaluate(nn::Module& model, const data::Dataset& d, int64_t batch_size = 1000);

/// The configuration as the checkpoint's JSON holds it: one flat object, one key per option,
/// the field names of options.h ("lr", "clip_grad_norm").
/// \post Returns the JSON text (config_from_json() reads it back).
std::string config_to_json(const TrainConfig& cfg);
/// Reads a configuration written by config_to_json(). Missing fields keep their defaults
/// (older checkpoints); unknown keys are ignored.
/// \post Returns the configuration (not validated: see validate()).
/// \throws convnet::Error when the text is not JSON or a value has the wrong type, naming
///         `what` (e.g. the checkpoint file).
TrainConfig config_from_json(const std::string& json, const std::string& what);

}  // namespace convnet::train
#pragma GCC visibility pop
