#pragma once
// Fine-tuning (transfer learning): a pretrained model gets a new classifier head for the
// new task's classes and trains only part of its parameters. `convnet finetune` and
// train::train (TrainConfig's finetune_* fields) use these steps:
//
//   1. pretrained_model(): the model of a checkpoint or a weights file, weights loaded
//      strictly, its classifier head replaced by a freshly initialized layer with the new
//      number of classes (the names stay: "fc.weight", so the result is an ordinary zoo
//      model with num_classes = N, and eval/predict load its checkpoints as any other).
//   2. plan_freezing() + apply(): which parameters train. A "layer" is a module with
//      parameters of its own (Conv2d, Linear, BatchNorm), in the order the model registers
//      them, which for the zoo is the order of the forward pass; in an imported ONNX graph,
//      a node with the parameters it reads first, in run order. By default only the head
//      trains; train_last = K trains the last K layers; -1 all of them; `freeze` globs
//      ('*' any run of characters, '?' one) then freeze the parameters they match.
//      Frozen parameters have requires_grad = false, so autograd records no backward for
//      them: no weight-gradient kernel runs for a frozen layer, and nothing at all runs
//      below the lowest trainable layer (its input needs no gradient).
//   3. keep_frozen_bn_in_eval() after every model.train(): with bn_stats = "frozen", the
//      BatchNorm layers whose parameters are all frozen normalize with, and keep, their
//      running statistics; with "adapt" they update them on the new data.
#include <string>
#include <vector>

#include "convnet/core/rng.h"
#include "convnet/models/registry.h"
#include "convnet/nn/module.h"

namespace convnet::train {

struct TrainConfig;

// The classifier head: the last Linear of the model, or, when a Conv2d comes after every
// Linear (a fully-convolutional head), the last Conv2d. It must have `num_classes`
// outputs; otherwise the error names the layer and its size.
std::string find_head(nn::Module& m, int64_t num_classes);
// Replaces the head at `path` by a freshly initialized layer with `num_classes` outputs.
void replace_head(nn::Module& m, const std::string& path, int64_t num_classes, Generator& gen = default_generator());

struct FreezePlan {
  std::string head;                               // path of the classifier head
  std::vector<std::string> layers;                // parameterized layers, in order
  std::vector<std::string> trainable_layers;      // those with a trainable parameter
  std::vector<std::string> frozen_parameters;     // names
  std::vector<std::string> frozen_batchnorms;     // BatchNorm layers kept in eval (bn_stats frozen)
  int64_t trainable_count = 0, frozen_count = 0;  // parameter elements
  std::string describe() const;                   // the summary `convnet finetune` prints
};

// Decides and applies requires_grad for every parameter (see the header comment).
// Throws convnet::Error when train_last exceeds the number of layers (listing them), is
// below -1, when a freeze pattern matches no parameter (with examples of the names), or
// when nothing would train.
FreezePlan apply_freezing(nn::Module& m, const std::string& head, int64_t train_last,
                          const std::vector<std::string>& freeze, const std::string& bn_stats);
void keep_frozen_bn_in_eval(nn::Module& m, const FreezePlan& plan);

// fnmatch-like: '*' matches any run of characters (dots included), '?' one character.
bool glob_match(const std::string& pattern, const std::string& name);

// The model a training configuration describes with `args`: the zoo model c.model, or
// for c.finetune_onnx the ONNX graph (its weights) with its head resized to
// args.num_classes (train, EMA copies, and model_from_checkpoint for eval/predict/export).
nn::ModulePtr create_model(const TrainConfig& c, const models::ModelArgs& args);

// Step 1 for train(): the pretrained model of c.finetune_checkpoint or c.finetune_weights
// (model c.model), or the graph of c.finetune_onnx, built for the data's channels and input size, with a new head of
// `args.num_classes` outputs. `note` receives one line saying what was loaded.
nn::ModulePtr pretrained_model(const TrainConfig& c, const models::ModelArgs& args, std::string& note);

}  // namespace convnet::train
