#pragma once
#pragma GCC visibility push(default)
/// \file
/// Fine-tuning (transfer learning): a pretrained model gets a new classifier head for the
/// new task's classes and trains only part of its parameters. `convnet finetune` and
/// train::train (TrainConfig's finetune_* fields) use these steps:
///
///   1. pretrained_model(): the model of a checkpoint or a weights file, weights loaded
///      strictly, its classifier head replaced by a freshly initialized layer with the new
///      number of classes (the names stay: "fc.weight", so the result is an ordinary zoo
///      model with num_classes = N, and eval/predict load its checkpoints as any other).
///   2. apply_freezing(): which parameters train. A "layer" is a module with parameters of
///      its own (Conv2d, Linear, BatchNorm), in the order the model registers them, which
///      for the zoo is the order of the forward pass; in an imported ONNX graph, a node with
///      the parameters it reads first, in run order. By default only the head trains;
///      train_last = K trains the last K layers; -1 all of them; `freeze` globs (`*` any run
///      of characters, `?` one) then freeze the parameters they match. Frozen parameters
///      have requires_grad = false, so autograd records no backward for them: no
///      weight-gradient kernel runs for a frozen layer, and nothing at all runs below the
///      lowest trainable layer (its input needs no gradient).
///   3. keep_frozen_bn_in_eval() after every model.train(): with bn_stats = "frozen", the
///      BatchNorm layers whose parameters are all frozen normalize with, and keep, their
///      running statistics; with "adapt" they update them on the new data.
#include <string>
#include <vector>

#include "convnet/core/rng.h"
#include "convnet/models/registry.h"
#include "convnet/nn/module.h"

namespace convnet::train {

struct TrainConfig;

/// The classifier head of `m`: the last Linear of the model, or, when a Conv2d comes after
/// every Linear (a fully-convolutional head) or there is no Linear, the last Conv2d; for an
/// imported ONNX graph, its last Gemm or Conv node.
/// \pre  `num_classes` is the number of classes `m` was trained for.
/// \post Returns the head's dotted path in named_modules() (for an ONNX graph, the node name).
/// \throws convnet::Error when `m` has no Linear or Conv2d (naming its type), or the head
///         does not have `num_classes` outputs (naming the layer and its output count).
std::string find_head(nn::Module& m, int64_t num_classes);
/// Replaces the head at `path` by a freshly initialized layer with `num_classes` outputs.
/// \pre  `path` names a Linear or Conv2d of `m` (find_head()); for an ONNX graph `path` is
///       not used: its last Gemm or Conv node is the head.
/// \post The head has `num_classes` outputs, new weight and bias drawn from `gen` (PyTorch's
///       default initialization), under the same parameter names.
/// \throws convnet::Error when `m` has no layer `path`, or that layer is neither a Linear
///         nor a Conv2d (naming it).
void replace_head(nn::Module& m, const std::string& path, int64_t num_classes, Generator& gen = default_generator());

/// Which parameters of a model train, as apply_freezing() set them.
struct FreezePlan {
  std::string head;                               ///< Path of the classifier head.
  std::vector<std::string> layers;                ///< Parameterized layers, in order.
  std::vector<std::string> trainable_layers;      ///< Those with a trainable parameter.
  std::vector<std::string> frozen_parameters;     ///< Names of the frozen parameters.
  std::vector<std::string> frozen_batchnorms;     ///< BatchNorm layers kept in eval mode (bn_stats "frozen").
  /// Elements of the trainable parameters.
  int64_t trainable_count = 0, frozen_count = 0;  ///< Elements of the frozen parameters.
  /// The summary `convnet finetune` prints.
  /// \post Returns two or three lines: the head and the trainable layers, the parameter
  ///       counts, and the frozen BatchNorm layers when there are any.
  std::string describe() const;
};

/// Decides and applies requires_grad for every parameter (see the file comment, step 2).
/// Which layers train: with `train_last` = 0 and no `freeze` patterns, the head only;
/// `train_last` = K > 0, the last K layers; -1 (or 0 with `freeze` patterns), all layers.
/// Then every parameter whose name matches a `freeze` pattern is frozen.
/// \pre  `head` is the path of a layer with parameters (find_head()); `train_last` >= -1;
///       `bn_stats` is "frozen" or "adapt".
/// \post Every parameter of `m` has requires_grad set as decided; the returned plan
///       describes it (frozen_batchnorms only with `bn_stats` "frozen").
/// \throws convnet::Error when `bn_stats` is neither "frozen" nor "adapt", `train_last` is
///         below -1 or exceeds the number of layers (listing them), `head` is not a layer
///         with parameters, a freeze pattern matches no parameter (with examples of the
///         names), or nothing would train. Parameters changed before the error stay changed.
FreezePlan apply_freezing(nn::Module& m, const std::string& head, int64_t train_last,
                          const std::vector<std::string>& freeze, const std::string& bn_stats);
/// Puts the BatchNorm layers of `plan.frozen_batchnorms` back in eval mode (step 3); call it
/// after every `m.train()`.
/// \pre  `plan` comes from apply_freezing() on `m`.
/// \post Those layers normalize with, and keep, their running statistics; the other layers'
///       modes are unchanged.
void keep_frozen_bn_in_eval(nn::Module& m, const FreezePlan& plan);

/// fnmatch-like matching of a whole name: `*` matches any run of characters (dots
/// included), `?` one character; every other character itself.
/// \post Returns whether `pattern` matches all of `name`.
bool glob_match(const std::string& pattern, const std::string& name);

/// The model a training configuration describes with `args`: the zoo model `c.model.model`,
/// or for `c.model.finetune_onnx` the ONNX graph (its weights) with its head resized to
/// `args.num_classes` (used by train, for EMA copies, and by model_from_checkpoint() for
/// eval/predict/export).
/// \pre  `c.model.model` is a zoo model, or `c.model.finetune_onnx` names a readable ONNX file.
/// \post Returns a freshly built model; when an ONNX head is resized, its new weights are
///       drawn from the default generator.
/// \throws convnet::Error as models::create or io::load_onnx do (an unknown model, an input
///         size the model refuses, an ONNX file that cannot be read or has no head).
nn::ModulePtr create_model(const TrainConfig& c, const models::ModelArgs& args);

/// Step 1 for train(): the pretrained model of `c.model.finetune_checkpoint` or
/// `c.model.finetune_weights` (model `c.model.model`), or the graph of
/// `c.model.finetune_onnx`, built for the data's channels and input size, with a new head of
/// `args.num_classes` outputs. A weights file's class count is read from the file (the rows
/// of the model's last parameter that it holds).
/// \pre  Exactly one of the three sources is set; `args` holds the data's input channels and
///       size and the new number of classes.
/// \post Returns the model with the pretrained weights (loaded strictly) and a head freshly
///       initialized from the default generator; `note` holds one line saying what was
///       loaded and how the head changed.
/// \throws convnet::Error when not exactly one source is set, a checkpoint holds another
///         model or was trained on another number of input channels (naming the file), a
///         file cannot be read, its weights do not fit the model, or no head with the
///         pretrained number of classes is found (find_head()).
nn::ModulePtr pretrained_model(const TrainConfig& c, const models::ModelArgs& args, std::string& note);

}  // namespace convnet::train
#pragma GCC visibility pop
