// Fine-tuning: the pretrained model with a new head, and which of its parameters train.
#include "convnet/train/finetune.h"

#include <algorithm>
#include <map>
#include <set>

#include "convnet/core/error.h"
#include "convnet/io/onnx.h"
#include "convnet/io/pth.h"
#include "convnet/io/safetensors.h"
#include "convnet/io/weights.h"
#include "convnet/nn/init.h"
#include "convnet/nn/layers.h"
#include "convnet/train/checkpoint.h"
#include "convnet/train/trainer.h"

namespace convnet::train {

namespace {

std::string join(const std::vector<std::string>& v, size_t max_items = 8) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v.size() > max_items && i == max_items / 2) {
      s += ", ... (" + std::to_string(v.size() - max_items) + " more)";
      i = v.size() - max_items / 2 - 1;
      continue;
    }
    s += (s.empty() ? "" : ", ") + (v[i].empty() ? std::string("(top)") : v[i]);
  }
  return s;
}

std::string with_commas(int64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

int64_t outputs_of(nn::Module* m) {
  if (auto* l = dynamic_cast<nn::Linear*>(m)) return l->out_features;
  if (auto* c = dynamic_cast<nn::Conv2d*>(m)) return c->options().out_channels;
  return -1;
}

// The number of classes a weights file was trained for: the rows of the last parameter of
// the model that the file holds (the classifier's bias or weight).
int64_t classes_in(const std::string& model, models::ModelArgs a, const io::SafeTensors& w) {
  nn::init::SkipInitGuard skip;  // the names and shapes are all this needs
  auto params = models::create(model, a)->named_parameters();
  for (auto it = params.rbegin(); it != params.rend(); ++it)
    if (w.tensors.count(it->first)) return w.tensors.at(it->first).size(0);
  return a.num_classes;
}

// A layer: a module with parameters of its own, or for an imported ONNX graph a node
// with the parameters it reads first.
struct Layer {
  std::string name;
  std::vector<std::pair<std::string, Tensor>> params;  // full names
  bool batchnorm = false;
};

std::vector<Layer> layers_of(nn::Module& m) {
  std::vector<Layer> out;
  if (auto* g = dynamic_cast<io::OnnxModel*>(&m)) {
    std::map<std::string, Tensor> named;
    for (auto& [n, p] : m.named_parameters()) named[n] = p;
    for (const auto& grp : g->parameter_groups()) {
      Layer l{grp.node, {}, grp.op_type == "BatchNormalization"};
      for (const auto& n : grp.params) l.params.emplace_back(n, named.at(n));
      out.push_back(std::move(l));
    }
    return out;
  }
  for (auto& [path, mod] : m.named_modules()) {
    auto own = mod->named_parameters(false);
    if (own.empty()) continue;
    Layer l{path, {}, dynamic_cast<nn::BatchNorm*>(mod) != nullptr};
    for (auto& [n, p] : own) l.params.emplace_back(path.empty() ? n : path + "." + n, p);
    out.push_back(std::move(l));
  }
  return out;
}

}  // namespace

bool glob_match(const std::string& p, const std::string& s) {
  // Iterative wildcard matching with backtracking to the last '*'.
  size_t i = 0, j = 0, star = std::string::npos, mark = 0;
  while (j < s.size()) {
    if (i < p.size() && (p[i] == '?' || p[i] == s[j])) {
      ++i, ++j;
    } else if (i < p.size() && p[i] == '*') {
      star = i++, mark = j;
    } else if (star != std::string::npos) {
      i = star + 1, j = ++mark;
    } else {
      return false;
    }
  }
  while (i < p.size() && p[i] == '*') ++i;
  return i == p.size();
}

std::string find_head(nn::Module& m, int64_t num_classes) {
  if (auto* g = dynamic_cast<io::OnnxModel*>(&m)) {
    const auto [node, out] = g->head();
    CONVNET_CHECK(out == num_classes, "fine-tuning: the last Gemm/Conv node '", node, "' of ONNX model '", g->source(),
                  "' has ", out, " outputs, not the ", num_classes,
                  " classes of the pretrained model, so it is not the classifier head");
    return node;
  }
  std::string last_linear, last_conv;
  bool conv_after_linear = false, any_linear = false;
  for (auto& [path, mod] : m.named_modules()) {
    if (dynamic_cast<nn::Linear*>(mod)) {
      last_linear = path, any_linear = true, conv_after_linear = false;
    } else if (dynamic_cast<nn::Conv2d*>(mod)) {
      last_conv = path, conv_after_linear = true;
    }
  }
  const bool conv_head = !any_linear || conv_after_linear;
  const std::string head = conv_head ? last_conv : last_linear;
  CONVNET_CHECK(any_linear || !last_conv.empty(), m.type_name(),
                ": has no Linear or Conv2d layer that could be the classifier head");
  nn::Module* mod = nullptr;
  for (auto& [path, x] : m.named_modules())
    if (path == head) mod = x;
  const int64_t out = outputs_of(mod);
  CONVNET_CHECK(out == num_classes, "fine-tuning: the last ", conv_head ? "Conv2d" : "Linear", " layer '", head,
                "' has ", out, " outputs, not the ", num_classes,
                " classes of the pretrained model, so it is not the classifier head; this model cannot be "
                "fine-tuned by replacing its last layer");
  return head;
}

void replace_head(nn::Module& m, const std::string& path, int64_t num_classes, Generator& gen) {
  if (auto* g = dynamic_cast<io::OnnxModel*>(&m)) return g->replace_head(num_classes, gen);
  for (auto& [p, mod] : m.named_modules()) {
    if (p != path) continue;
    if (auto* l = dynamic_cast<nn::Linear*>(mod)) return l->replace_output(num_classes, gen);
    if (auto* c = dynamic_cast<nn::Conv2d*>(mod)) return c->replace_output(num_classes, gen);
    throw Error("fine-tuning: layer '" + path + "' is a " + mod->type_name() + ", not a Linear or Conv2d head");
  }
  throw Error("fine-tuning: the model has no layer '" + path + "'");
}

FreezePlan apply_freezing(nn::Module& m, const std::string& head, int64_t train_last,
                          const std::vector<std::string>& freeze, const std::string& bn_stats) {
  CONVNET_CHECK(bn_stats == "frozen" || bn_stats == "adapt", "--bn-stats must be frozen or adapt, got '", bn_stats,
                "'");
  CONVNET_CHECK(train_last >= -1, "--train-last must be a number of layers >= 1, got ", train_last);
  FreezePlan plan;
  plan.head = head;
  const std::vector<Layer> layers = layers_of(m);
  for (const auto& l : layers) plan.layers.push_back(l.name);
  CONVNET_CHECK(std::find(plan.layers.begin(), plan.layers.end(), head) != plan.layers.end(), "fine-tuning: head '",
                head, "' is not a layer with parameters");
  const auto L = static_cast<int64_t>(layers.size());
  CONVNET_CHECK(train_last <= L, "--train-last ", train_last, ": the model has only ", L, " parameterized layers (",
                join(plan.layers, 12), ")");

  // Which layers train before the freeze patterns: the last K, all, or the head only
  // (all when only --freeze is given: the patterns then say what to freeze).
  int64_t first_trainable = L;  // index of the first trainable layer
  if (train_last > 0) first_trainable = L - train_last;
  if (train_last == -1 || (train_last == 0 && !freeze.empty())) first_trainable = 0;
  for (int64_t i = 0; i < L; ++i) {
    const bool on = i >= first_trainable || (train_last == 0 && freeze.empty() && layers[i].name == head);
    for (auto [n, p] : layers[i].params)
      if (p.defined()) p.requires_grad_(on);
  }
  const auto params = m.named_parameters();
  for (const auto& pattern : freeze) {
    int matched = 0;
    for (const auto& [n, p] : params)
      if (p.defined() && glob_match(pattern, n)) p.impl()->requires_grad = false, ++matched;
    if (matched == 0) {
      std::vector<std::string> names;
      for (const auto& [n, p] : params) names.push_back(n);
      throw Error("--freeze '" + pattern + "' matches no parameter; the parameters are named like " + join(names, 6) +
                  " ('*' matches any characters, dots included)");
    }
  }
  for (const auto& [n, p] : params) {
    if (!p.defined()) continue;
    if (p.requires_grad())
      plan.trainable_count += p.numel();
    else
      plan.frozen_count += p.numel(), plan.frozen_parameters.push_back(n);
  }
  CONVNET_CHECK(plan.trainable_count > 0, "fine-tuning: every parameter is frozen (--train-last ", train_last,
                ", --freeze patterns); nothing would train");
  for (const auto& l : layers) {
    bool any = false, all_frozen = true;
    for (const auto& [n, p] : l.params)
      if (p.defined()) any = true, all_frozen = all_frozen && !p.requires_grad();
    if (!all_frozen) plan.trainable_layers.push_back(l.name);
    if (bn_stats == "frozen" && any && all_frozen && l.batchnorm) plan.frozen_batchnorms.push_back(l.name);
  }
  return plan;
}

void keep_frozen_bn_in_eval(nn::Module& m, const FreezePlan& plan) {
  if (plan.frozen_batchnorms.empty()) return;
  if (auto* g = dynamic_cast<io::OnnxModel*>(&m)) return g->keep_in_eval(plan.frozen_batchnorms);
  const std::set<std::string> keep(plan.frozen_batchnorms.begin(), plan.frozen_batchnorms.end());
  for (auto& [path, mod] : m.named_modules())
    if (keep.count(path)) mod->eval();
}

std::string FreezePlan::describe() const {
  const int64_t total = trainable_count + frozen_count;
  std::string s = "fine-tuning: new head '" + head + "'; trainable layers (" + std::to_string(trainable_layers.size()) +
                  " of " + std::to_string(layers.size()) + "): " + join(trainable_layers) + "\n";
  s += "parameters: " + with_commas(total) + " total, " + with_commas(trainable_count) + " trainable, " +
       with_commas(frozen_count) + " frozen (" + std::to_string(frozen_parameters.size()) + " tensors)";
  if (!frozen_batchnorms.empty())
    s += "\nBatchNorm: " + std::to_string(frozen_batchnorms.size()) +
         " frozen layers keep their running statistics (eval mode; --bn-stats adapt updates them)";
  return s;
}

nn::ModulePtr create_model(const TrainConfig& c, const models::ModelArgs& a) {
  if (c.model.finetune_onnx.empty()) return models::create(c.model.model, a);
  auto g = io::load_onnx(c.model.finetune_onnx);
  if (g->head().second != a.num_classes) g->replace_head(a.num_classes, default_generator());
  return g;
}

nn::ModulePtr pretrained_model(const TrainConfig& c, const models::ModelArgs& args, std::string& note) {
  const int sources =
      !c.model.finetune_checkpoint.empty() + !c.model.finetune_weights.empty() + !c.model.finetune_onnx.empty();
  CONVNET_CHECK(sources == 1, "fine-tuning needs exactly one source: a checkpoint, a weights file or an ONNX model");
  if (!c.model.finetune_onnx.empty()) {
    auto g = io::load_onnx(c.model.finetune_onnx);
    const auto [head, K] = g->head();
    g->replace_head(args.num_classes, default_generator());
    note = "pretrained: ONNX model '" + c.model.finetune_onnx + "' (" + std::to_string(g->num_nodes()) + " nodes, " +
           std::to_string(K) + " classes); head '" + head + "' replaced: " + std::to_string(K) + " -> " +
           std::to_string(args.num_classes) + " outputs, freshly initialized";
    return g;
  }
  nn::ModulePtr m;
  models::ModelArgs a = args;
  if (!c.model.finetune_checkpoint.empty()) {
    const Checkpoint ck = load_checkpoint(c.model.finetune_checkpoint);
    CONVNET_CHECK(ck.config.model.model == c.model.model, "checkpoint '", ck.path, "' holds model '",
                  ck.config.model.model, "', not '", c.model.model, "'");
    CONVNET_CHECK(ck.model_args.in_channels == args.in_channels, "checkpoint '", ck.path, "' was trained on ",
                  ck.model_args.in_channels, "-channel images, but the data has ", args.in_channels,
                  " channels; check --dataset and --grayscale");
    a.num_classes = ck.model_args.num_classes;
    m = models::create(c.model.model, a);
    load_weights_into(*m, ck.weights, ck.path, c.model.model);
    note = "pretrained: checkpoint '" + ck.path + "' (" + c.model.model + ", " + std::to_string(a.num_classes) +
           " classes, epoch " + std::to_string(ck.epoch) + ")";
  } else {
    const io::SafeTensors w = io::load_tensor_file(c.model.finetune_weights);
    a.num_classes = classes_in(c.model.model, a, w);
    m = models::create(c.model.model, a);
    io::load_state_dict(*m, w, /*strict=*/true, c.model.finetune_weights);
    note = "pretrained: weights '" + c.model.finetune_weights + "' (" + c.model.model + ", " +
           std::to_string(a.num_classes) + " classes)";
  }
  const std::string head = find_head(*m, a.num_classes);
  replace_head(*m, head, args.num_classes);
  note += "; head '" + head + "' replaced: " + std::to_string(a.num_classes) + " -> " +
          std::to_string(args.num_classes) + " outputs, freshly initialized";
  return m;
}

}  // namespace convnet::train
