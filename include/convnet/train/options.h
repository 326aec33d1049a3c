#pragma once
#pragma GCC visibility push(default)
/// \file
/// The training configuration (TrainConfig), one declaration per option.
///
/// Each section's X-macro below declares its options once:
/// `X(type, field, default, "flags", "help", check)`
/// and that one line drives everything about the option:
/// - the field and its default in the section's struct (`TrainConfig::data.dataset`);
/// - the CLI flag, its help and its default (tools/convnet: convnet train / finetune);
/// - its validation (train::validate: the Check, with a message naming the flag);
/// - its key in a checkpoint's JSON configuration (the field name, flat: "dataset", "lr").
///
/// Adding an option is one line here (and the code that uses it). Checks that relate two
/// options (`--warmup` below `--epochs`, one fine-tuning source) are in train::validate.
/// Flags are CLI11 specs (`-e,--epochs`); an empty one means the option has no flag of its
/// own (it is set by another, e.g. finetune's `--train-all`).
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace convnet::train {

/// What an option's value must satisfy (train::validate tests it); the named constructors
/// keep the X-macro lines short. A number (or bool) is tested by kind; a list of integers
/// element by element; a string only by one_of; a list of strings never.
struct Check {
  /// The test:
  /// - none: any value;
  /// - at_least: v >= lo;
  /// - above: v > lo;
  /// - range: lo <= v <= hi;
  /// - below_one: 0 <= v < 1;
  /// - one_of: the string is one of `choices`.
  enum Kind { none, at_least, above, range, below_one, one_of };
  Kind kind = none;  ///< The test.
  /// The lower bound (at_least, above, range).
  double lo = 0, hi = 0;  ///< The upper bound (range).
  const char* choices = "";  ///< The accepted strings for one_of, separated by '|': "a|b|c".
  /// Any value.
  static Check any() { return {}; }
  /// A number at least `v`.
  static Check min(double v) { return {at_least, v, 0, ""}; }
  /// A number greater than 0.
  static Check positive() { return {above, 0, 0, ""}; }
  /// A number in [lo, hi]: lo <= v <= hi.
  static Check in(double lo, double hi) { return {range, lo, hi, ""}; }
  /// A fraction in [0, 1): 0 <= v < 1.
  static Check fraction() { return {below_one, 0, 1, ""}; }
  /// One of the strings of `c`, separated by '|' (e.g. "sgd|adam|adamw"); `c` must outlive the Check.
  static Check choice(const char* c) { return {one_of, 0, 0, c}; }
};

/// The Data options (DataConfig): the dataset kind and directory, image size and resize
/// mode, the classes, the validation split, loader threads, subsets, and the evaluation
/// batch size. One `X(type, field, default, flags, help, check)` per option.
#define CONVNET_DATA_OPTIONS(X)                                                                                      \
  X(std::string, dataset, "fashion-mnist", "--dataset", "Dataset kind (fashion-mnist, mnist, cifar10, folder, ...)", \
    Check::any())                                                                                                    \
  X(std::string, data_dir, "", "-d,--data-dir",                                                                      \
    "Dataset directory (default for fashion-mnist: /usr/share/datasets/fashion-mnist, where Debian's "               \
    "dataset-fashion-mnist installs it; idx files may be gzip'd)",                                                   \
    Check::any())                                                                                                    \
  X(int64_t, image_size, 0, "--image-size", "folder datasets: resize images to this size (0 = keep)",                \
    Check::in(0, 8192))                                                                                              \
  X(std::string, resize_mode, "resize", "--resize-mode", "folder datasets: resize | center-crop",                    \
    Check::choice("resize|center-crop"))                                                                             \
  X(bool, grayscale, false, "--grayscale", "folder datasets: load images with 1 channel", Check::any())              \
  X(std::vector<int64_t>, classes, {}, "--classes",                                                                  \
    "Train on these classes only, e.g. 3,5 (relabelled 0..k-1 in this order)", Check::min(0))                        \
  X(double, val_split, 0, "--val-split",                                                                             \
    "Hold out this fraction of the training set for validation (0 = validate on the test set)", Check::fraction())   \
  X(int, workers, 2, "--workers", "Data-loader threads (the result does not depend on it)", Check::in(0, 256))       \
  X(int64_t, limit_train, 0, "--limit-train", "Use only the first N training images (0 = all)", Check::min(0))       \
  X(int64_t, limit_test, 0, "--limit-test",                                                                          \
    "Use only the first N test images (0 = all): the final test accuracy, and validation without --val-split",       \
    Check::min(0))                                                                                                   \
  X(int64_t, per_class, 0, "--per-class",                                                                            \
    "Use only N training images of each class, a random choice fixed by --seed (0 = all)", Check::min(0))            \
  X(int64_t, eval_batch_size, 1000, "--eval-batch-size", "Batch size of evaluation", Check::min(1))

/// The Model options (ModelConfig): the zoo model and, for fine-tuning, the number of
/// classes, the pretrained source (checkpoint, weights or ONNX file), which layers train,
/// and the BatchNorm statistics of frozen layers. One X(...) line per option.
#define CONVNET_MODEL_OPTIONS(X)                                                                                     \
  X(std::string, model, "lenet5", "-m,--model", "Model name (see `convnet models`)", Check::any())                   \
  X(int64_t, num_classes, 0, "--num-classes",                                                                        \
    "Classes of the new head; must equal the data's (default: the data's, e.g. from --classes)", Check::min(0))      \
  X(std::string, finetune_checkpoint, "", "-c,--checkpoint",                                                         \
    "Pretrained checkpoint (file or run directory); its model is used", Check::any())                                \
  X(std::string, finetune_weights, "", "--weights",                                                                  \
    "Pretrained weights (safetensors, or a PyTorch .pth state dict as torch.save writes it, with state_dict names) " \
    "of the model "                                                                                                  \
    "given by --model",                                                                                              \
    Check::any())                                                                                                    \
  X(std::string, finetune_onnx, "", "--onnx",                                                                        \
    "Pretrained ONNX model (weights included; its last Gemm or Conv is the head). Checkpoints refer to this file, "  \
    "which must stay where it is",                                                                                   \
    Check::any())                                                                                                    \
  X(int64_t, train_last, 0, "--train-last",                                                                          \
    "Train the last K parameterized layers (Conv2d, Linear, BatchNorm, in model order); default: the new head only", \
    Check::min(-1))                                                                                                  \
  X(std::vector<std::string>, freeze, {}, "--freeze",                                                                \
    "Freeze the parameters whose names match this glob, e.g. 'layer1.*' (repeatable; without --train-last, "         \
    "everything else trains)",                                                                                       \
    Check::any())                                                                                                    \
  X(std::string, bn_stats, "frozen", "--bn-stats",                                                                   \
    "BatchNorm layers whose parameters are frozen: frozen = keep their running statistics (eval mode), adapt = "     \
    "update them on the new data",                                                                                   \
    Check::choice("frozen|adapt"))

/// The Optimization options (OptimConfig): epochs, batch size, optimizer, learning rate,
/// momentum, weight decay, label smoothing, gradient clipping and EMA. One X(...) line per
/// option.
#define CONVNET_OPTIM_OPTIONS(X)                                                                                      \
  X(int64_t, epochs, 10, "-e,--epochs", "Number of epochs", Check::min(1))                                            \
  X(int64_t, batch_size, 128, "-b,--batch-size", "Mini-batch size", Check::min(1))                                    \
  X(int64_t, accumulate, 1, "--accumulate",                                                                           \
    "Accumulate the gradients of N batches per optimizer step (an N times larger batch in the memory of one); "       \
    "under mpirun only the N-th batch communicates",                                                                  \
    Check::min(1))                                                                                                    \
  X(std::string, optimizer, "sgd", "--optimizer", "Optimizer: sgd | adam | adamw", Check::choice("sgd|adam|adamw"))   \
  X(double, lr, 0.05, "--lr", "Learning rate (the peak rate for onecycle)", Check::positive())                        \
  X(double, momentum, 0.9, "--momentum", "SGD momentum", Check::fraction())                                           \
  X(bool, nesterov, true, "--nesterov,!--no-nesterov", "Nesterov momentum (SGD)", Check::any())                       \
  X(double, weight_decay, 5e-4, "--weight-decay", "Weight decay (L2 for sgd/adam, decoupled for adamw)",              \
    Check::min(0))                                                                                                    \
  X(double, label_smoothing, 0, "--label-smoothing", "Label smoothing epsilon of the cross entropy", Check::in(0, 1)) \
  X(double, clip_grad_norm, 0, "--clip-grad-norm",                                                                    \
    "Clip the total 2-norm of the gradients to MAX (torch.nn.utils.clip_grad_norm_; 0 = off)", Check::min(0))         \
  X(double, ema, 0, "--ema",                                                                                          \
    "Keep an exponential moving average of the weights with this decay (e.g. 0.999); it is what is evaluated and "    \
    "saved (0 = off)",                                                                                                \
    Check::fraction())

/// The Schedule options (ScheduleConfig): the learning-rate schedule, its parameters, and
/// the warmup. One X(...) line per option.
#define CONVNET_SCHEDULE_OPTIONS(X)                                                                                   \
  X(std::string, schedule, "onecycle", "--schedule",                                                                  \
    "Learning-rate schedule: constant | step | multistep | cosine "                                                   \
    "| onecycle",                                                                                                     \
    Check::choice("constant|step|multistep|cosine|onecycle"))                                                         \
  X(int64_t, step_size, 0, "--step-size", "step schedule: epochs between decays (default epochs/3)", Check::min(0))   \
  X(std::vector<int64_t>, milestones, {}, "--milestones", "multistep schedule: epochs at which the rate decays",      \
    Check::min(1))                                                                                                    \
  X(double, gamma, 0.1, "--gamma", "step/multistep decay factor", Check::positive())                                  \
  X(double, pct_start, 0.15, "--pct-start", "onecycle: fraction of steps spent increasing the rate", Check::in(0, 1)) \
  X(int64_t, warmup, 0, "--warmup",                                                                                   \
    "Epochs of linear warmup (from 1/3 of the rate) before the schedule, which then runs over the remaining epochs",  \
    Check::min(0))

/// The Augmentation options (AugmentConfig): the augmentation list, MixUp, CutMix and
/// test-time augmentation. One X(...) line per option.
#define CONVNET_AUGMENT_OPTIONS(X)                                                                                   \
  X(std::string, augment, "", "--augment",                                                                           \
    "Augmentation, e.g. crop:4,flip (items: crop:P flip[:P] rotate:D affine:T[:S0:S1] jitter:B[:C[:S]] "             \
    "erasing[:P])",                                                                                                  \
    Check::any())                                                                                                    \
  X(double, mixup, 0, "--mixup", "MixUp with Beta(A, A) (0 = off; e.g. 0.2)", Check::min(0))                         \
  X(double, cutmix, 0, "--cutmix", "CutMix with Beta(A, A) (0 = off; e.g. 1.0)", Check::min(0))                      \
  X(std::string, tta, "none", "--tta",                                                                               \
    "Test-time augmentation at evaluation: none | flip (the mean of the softmax probabilities of the image and its " \
    "mirror image)",                                                                                                 \
    Check::choice("none|flip"))

/// The Compute options (ComputeConfig): device, precision, loss scaling, seed and threads.
/// One X(...) line per option.
#define CONVNET_COMPUTE_OPTIONS(X)                                                                                   \
  X(std::string, device, "cpu", "--device",                                                                          \
    "Device to train on: cpu, cuda or cuda:N (CUDA needs a build configured with the CUDA toolkit found)",           \
    Check::any())                                                                                                    \
  X(std::string, precision, "fp32", "--precision",                                                                   \
    "Compute precision: fp32, or bf16 / fp16 mixed precision (convolutions and linear layers in the reduced "        \
    "precision; float32 weights, optimizer state and checkpoints; fp16 with loss scaling, on the CPU through "       \
    "the emulating reference kernels)",                                                                              \
    Check::choice("fp32|bf16|fp16"))                                                                                 \
  X(std::string, loss_scale, "auto", "--loss-scale",                                                                 \
    "Loss scaling (optim/grad_scaler.h): auto (dynamic for fp16, none otherwise) | dynamic | none | a "              \
    "number (a static scale); steps whose gradients overflow are skipped",                                           \
    Check::any())                                                                                                    \
  X(uint64_t, seed, 0, "--seed", "Random seed (initialization, split, shuffling, augmentation, dropout)",            \
    Check::any())                                                                                                    \
  X(int, threads, 0, "-j,--threads", "Threads (0 = all cores)", Check::in(0, 1024))                                  \
  X(bool, sync_bn, false, "--sync-bn",                                                                               \
    "Data parallel (mpirun): BatchNorm statistics over the global batch instead of each rank's shard", Check::any()) \
  X(double, bucket_mb, 25, "--bucket-mb",                                                                            \
    "Data parallel: gradients are combined in buckets of about this many MB, each started as soon as its "           \
    "gradients are ready",                                                                                           \
    Check::positive())                                                                                               \
  X(double, dist_timeout, 120, "--dist-timeout",                                                                     \
    "Data parallel: seconds a rank waits for the others in a collective before it gives up and exits",               \
    Check::positive())                                                                                               \
  X(std::string, lr_scale, "none", "--lr-scale",                                                                     \
    "Data parallel: none, or linear = --lr times the world size (the linear scaling rule; pair it with "             \
    "--warmup, docs/distributed.md)",                                                                                \
    Check::choice("none|linear"))

/// The Checkpoints options (CheckpointConfig): the run directory and the run to resume.
/// One X(...) line per option.
#define CONVNET_CHECKPOINT_OPTIONS(X)                                                                          \
  X(std::string, out, "", "-o,--out",                                                                          \
    "Run directory for checkpoints, metrics.jsonl and plots (default runs/<model>-<time>)", Check::any())      \
  X(std::string, resume, "", "--resume",                                                                       \
    "Continue the run of this checkpoint or run directory (its last.safetensors) with its configuration; the " \
    "result is bit-identical to an uninterrupted run with the same --threads",                                 \
    Check::any())

/// The X of the section structs: declares one option as a field with its default,
/// `type field = def;`.
#define CONVNET_CONFIG_FIELD(type, field, def, flags, help, check) type field = def;

// The sections. Their field names are the options' JSON keys.
/// The Data section of TrainConfig: one field per line of CONVNET_DATA_OPTIONS, named as the
/// option's JSON key, with its default.
struct DataConfig {
  CONVNET_DATA_OPTIONS(CONVNET_CONFIG_FIELD)
};
/// The Model section of TrainConfig: one field per line of CONVNET_MODEL_OPTIONS.
struct ModelConfig {
  CONVNET_MODEL_OPTIONS(CONVNET_CONFIG_FIELD)
};
/// The Optimization section of TrainConfig: one field per line of CONVNET_OPTIM_OPTIONS.
struct OptimConfig {
  CONVNET_OPTIM_OPTIONS(CONVNET_CONFIG_FIELD)
};
/// The Schedule section of TrainConfig: one field per line of CONVNET_SCHEDULE_OPTIONS.
struct ScheduleConfig {
  CONVNET_SCHEDULE_OPTIONS(CONVNET_CONFIG_FIELD)
};
/// The Augmentation section of TrainConfig: one field per line of CONVNET_AUGMENT_OPTIONS.
struct AugmentConfig {
  CONVNET_AUGMENT_OPTIONS(CONVNET_CONFIG_FIELD)
};
/// The Compute section of TrainConfig: one field per line of CONVNET_COMPUTE_OPTIONS.
struct ComputeConfig {
  CONVNET_COMPUTE_OPTIONS(CONVNET_CONFIG_FIELD)
};
/// The Checkpoints section of TrainConfig: one field per line of CONVNET_CHECKPOINT_OPTIONS.
struct CheckpointConfig {
  CONVNET_CHECKPOINT_OPTIONS(CONVNET_CONFIG_FIELD)
};

/// Everything a training run is configured by. Defaults are the recipe of the PyTorch peer
/// (shared/bench/pytorch_fashion_mnist.py).
struct TrainConfig {
  DataConfig data;          ///< Dataset and loading.
  ModelConfig model;        ///< Model and fine-tuning.
  OptimConfig optim;        ///< Optimizer and its recipe.
  ScheduleConfig sched;     ///< Learning-rate schedule.
  AugmentConfig aug;        ///< Augmentation.
  ComputeConfig compute;    ///< Device, precision, seed, threads.
  CheckpointConfig ckpt;    ///< Run directory and resumption.
};

/// One option, type-erased: where it lives in a TrainConfig, and what the X-macro line says.
struct OptionInfo {
  /// Returns a reference to the option's field in a TrainConfig; one alternative per field type.
  using Ref = std::variant<std::string& (*)(TrainConfig&), int64_t& (*)(TrainConfig&), int& (*)(TrainConfig&),
                           uint64_t& (*)(TrainConfig&), double& (*)(TrainConfig&), bool& (*)(TrainConfig&),
                           std::vector<int64_t>& (*)(TrainConfig&), std::vector<std::string>& (*)(TrainConfig&)>;
  const char* key;      ///< The field and JSON key: "clip_grad_norm".
  /// The section: "Data", "Model", "Optimization", "Schedule", "Augmentation", "Compute", "Checkpoints".
  const char* section;
  const char* flags;    ///< The CLI11 flag spec: "--clip-grad-norm" (may be empty).
  const char* help;     ///< The help text of the CLI.
  Check check;          ///< What the value must satisfy.
  Ref ref;              ///< Where the value lives in a TrainConfig.
  bool finetune_only;   ///< A flag of `convnet finetune` only (the pretrained source and the freezing).
  bool free_on_resume;  ///< May be given a new value on `--resume` (see train::resume_config).
};
/// Every option, in declaration order.
/// \post Returns the table (built once, on the first call): the sections Data, Model,
///       Optimization, Schedule, Augmentation, Compute, Checkpoints, each in the order of its
///       X-macro.
const std::vector<OptionInfo>& train_options();
/// The long flag of an option, for messages: "--clip-grad-norm".
/// \pre  `o.flags` is empty or holds a long flag (`--name`).
/// \post Returns the first long flag of `o.flags` (`-e,--epochs` gives "--epochs",
///       `--nesterov,!--no-nesterov` gives "--nesterov"), or "--" + key when `o.flags` is empty.
std::string option_flag(const OptionInfo& o);

}  // namespace convnet::train
#pragma GCC visibility pop
