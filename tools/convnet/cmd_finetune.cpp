// convnet finetune: `convnet train` from pretrained weights with a new classifier head and
// frozen layers (the library side is train/finetune.h; the options of train are shared).
#include <cstdio>
#include <filesystem>
#include <memory>

#include "commands.h"
#include "convnet/core/error.h"
#include "convnet/train/checkpoint.h"
#include "train_cli.h"

namespace convnet::cli {

namespace {
struct FinetuneCli {
  TrainCli t;
  bool train_all = false;
};

int run_finetune(FinetuneCli& f) {
  train::TrainConfig& cfg = f.t.cfg;
  if (cfg.ckpt.resume.empty()) {
    CONVNET_CHECK(
        !cfg.model.finetune_checkpoint.empty() || !cfg.model.finetune_weights.empty() ||
            !cfg.model.finetune_onnx.empty(),
        "finetune needs pretrained weights: --checkpoint CKPT, --weights W.safetensors (or .pth) with --model NAME, "
        "or --onnx M.onnx");
    if (!cfg.model.finetune_onnx.empty()) {
      // Stored in full, so that eval, predict, export and --resume find the graph.
      cfg.model.finetune_onnx = std::filesystem::absolute(cfg.model.finetune_onnx).string();
      cfg.model.model = "onnx";
    }
    if (!cfg.model.finetune_checkpoint.empty()) {
      // The model is the checkpoint's; its path is stored in full so a resumed run finds it.
      const train::Checkpoint ck = train::load_checkpoint(cfg.model.finetune_checkpoint);
      cfg.model.finetune_checkpoint = ck.path;
      cfg.model.model = ck.config.model.model;
    }
  }
  if (f.train_all) cfg.model.train_last = -1;
  return run_training(f.t);
}
}  // namespace

Command add_finetune(CLI::App& app) {
  auto f = std::make_shared<FinetuneCli>();
  train::TrainConfig& cfg = f->t.cfg;
  cfg.model.model.clear();
  auto* ft = app.add_subcommand(
      "finetune",
      "Fine-tune a pretrained model on new classes: new classifier head, frozen layers (see docs/finetune.md); "
      "takes every option of `convnet train`");
  f->t.app = ft;
  auto o = add_training_options(f->t, true);
  CLI::Option* ckpt = o.at("finetune_checkpoint");
  CLI::Option* weights = o.at("finetune_weights");
  CLI::Option* model = o.at("model");
  model->description("Model of --weights (see `convnet models`)")->group("Fine-tuning");
  weights->check(CLI::ExistingFile)->excludes(ckpt);
  model->excludes(ckpt);
  weights->needs(model);
  model->needs(weights);
  o.at("finetune_onnx")->check(CLI::ExistingFile)->excludes(ckpt)->excludes(weights)->excludes(model);
  // --train-all is --train-last -1.
  CLI::Option* all =
      ft->add_flag("--train-all", f->train_all, "Train every layer (the pretrained weights are only the start)")
          ->excludes(o.at("train_last"))
          ->group("Fine-tuning");
  f->t.keys[all] = "train_last";
  return {ft, [f] { return run_finetune(*f); }};
}

}  // namespace convnet::cli
