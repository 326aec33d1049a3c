#pragma once
// The training loop behind `convnet train`: a model from the zoo, a dataset (any kind of
// data::load_dataset), an optimizer and a schedule, validation every epoch, checkpoints in
// a run directory (see checkpoint.h and docs/formats.md), a metrics log and SVG plots, and
// exact resumption. Defaults are the recipe of the PyTorch peer
// (shared/bench/pytorch_fashion_mnist.py): SGD momentum 0.9 nesterov, weight decay 5e-4,
// one-cycle LR peaking at 0.05 (pct_start 0.15), batch 128, Fashion-MNIST inputs
// normalized with mean 0.2860 and std 0.3530.
//
// Reproducibility: with the same configuration, seed and thread count, a run that is
// stopped after epoch k and resumed from its checkpoint ends with weights bit-identical to
// an uninterrupted run. Everything random is either a function of (seed, epoch, sample)
// (shuffling, augmentation, mixup: the data loader) or drawn from the default generator
// (initialization, dropout), whose state the checkpoint stores.
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "convnet/data/dataset.h"
#include "convnet/nn/module.h"
#include "convnet/train/options.h"

namespace convnet::train {

struct StepInfo {
  int64_t epoch, step, steps_per_epoch;
  double loss, lr, images_per_second;
};

struct EpochStats {
  int64_t epoch = 0;
  double train_loss = 0, train_acc = 0;
  double val_loss = 0, val_acc = 0;  // on the validation split, or the test set without one
  double lr = 0;                     // at the first step of the epoch
  double seconds = 0, images_per_second = 0;
  bool best = false;  // the best validation accuracy so far (best checkpoint written)
  // With loss scaling (--loss-scale, fp16): the scale at the end of the epoch, and the steps
  // skipped because their gradients overflowed (0 and 0 without).
  double loss_scale = 0;
  int64_t skipped_steps = 0;
};

struct TrainResult {
  double test_acc = 0;   // of the final weights (EMA weights with --ema) on the test set
  bool has_test = true;  // false: a folder dataset without a test split; test_acc is then the validation accuracy
  double best_val_acc = 0;
  int64_t best_epoch = 0;
  double seconds = 0;
  std::string run_dir;
  nn::ModulePtr model;  // the final (EMA) model, in eval mode
};

struct Callbacks {
  std::function<void(const StepInfo&)> on_step;
  std::function<void(const EpochStats&)> on_epoch;
  // One-line notes: where validation comes from, the run directory, resumption, warnings.
  std::function<void(const std::string&)> on_info;
};

// Validates the configuration (unknown model/optimizer/schedule, non-positive sizes,
// fractions out of range) with messages that say which value is wrong and what is accepted.
void validate(const TrainConfig& cfg);

// The configuration to resume with: the one stored in the checkpoint at `ckpt` (file or run
// directory), with given.resume set. `given` holds what the command line asked for and
// `explicitly_set` the TrainConfig field names that were given on it ("model", "lr",
// "data_dir", ...). Fields that may change on resumption (epochs, threads, workers,
// data_dir, out, eval_batch_size) take the given value; any other explicitly set field
// that differs from the stored one throws convnet::Error naming the checkpoint file and
// the field (e.g. --model resnet20 for a lenet5 checkpoint).
TrainConfig resume_config(const std::string& ckpt, const TrainConfig& given,
                          const std::set<std::string>& explicitly_set);

TrainResult train(const TrainConfig& cfg, const Callbacks& cb = {});

// torch.nn.utils.clip_grad_norm_ (PyTorch 1.13): scales every defined gradient by
// min(1, max_norm / (total + 1e-6)), total = the 2-norm of the per-parameter 2-norms;
// returns total (not finite: the gradients are left as they are).
double clip_grad_norm(const std::vector<Tensor>& params, double max_norm);
// The total 2-norm of the defined gradients of `params`, as clip_grad_norm computes it, without
// changing them: Inf or NaN when any gradient element is not finite. The trainer checks it
// every step, so no update is ever taken from a non-finite gradient.
double grad_norm(const std::vector<Tensor>& params);

// One step of the exponential moving average of weights (--ema): every parameter of `ema`
// becomes decay * ema + (1 - decay) * model's, in float32; buffers (BatchNorm running
// statistics) are copied from `model`, since an average of them describes no network's
// activations. Both modules must be the same architecture (same parameter order).
void update_ema(nn::Module& ema, const nn::Module& model, double decay);

// Top-1 accuracy of `model` in eval mode, without recording a graph (d already normalized).
double evaluate(nn::Module& model, const data::Dataset& d, int64_t batch_size = 1000);

// The field names of TrainConfig as the checkpoint's JSON spells them (the CLI's long
// option names with '_' for '-').
std::string config_to_json(const TrainConfig& cfg);
// Missing fields keep their defaults (older checkpoints); a wrong type throws naming `what`.
TrainConfig config_from_json(const std::string& json, const std::string& what);

}  // namespace convnet::train
