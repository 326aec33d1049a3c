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
  if (cfg.resume.empty()) {
    CONVNET_CHECK(!cfg.finetune_checkpoint.empty() || !cfg.finetune_weights.empty() || !cfg.finetune_onnx.empty(),
                  "finetune needs pretrained weights: --checkpoint CKPT, --weights W.safetensors with --model NAME, "
                  "or --onnx M.onnx");
    if (!cfg.finetune_onnx.empty()) {
      // Stored in full, so that eval, predict, export and --resume find the graph.
      cfg.finetune_onnx = std::filesystem::absolute(cfg.finetune_onnx).string();
      cfg.model = "onnx";
    }
    if (!cfg.finetune_checkpoint.empty()) {
      // The model is the checkpoint's; its path is stored in full so a resumed run finds it.
      const train::Checkpoint ck = train::load_checkpoint(cfg.finetune_checkpoint);
      cfg.finetune_checkpoint = ck.path;
      cfg.model = ck.config.model;
    }
  }
  if (f.train_all) cfg.train_last = -1;
  return run_training(f.t);
}
}  // namespace

Command add_finetune(CLI::App& app) {
  auto f = std::make_shared<FinetuneCli>();
  train::TrainConfig& cfg = f->t.cfg;
  cfg.model.clear();
  auto* ft = app.add_subcommand(
      "finetune",
      "Fine-tune a pretrained model on new classes: new classifier head, frozen layers (see docs/finetune.md); "
      "takes every option of `convnet train`");
  f->t.app = ft;
  auto* ckpt = ft->add_option("-c,--checkpoint", cfg.finetune_checkpoint,
                              "Pretrained checkpoint (file or run directory); its model is used")
                   ->group("Fine-tuning");
  auto* weights = ft->add_option("--weights", cfg.finetune_weights,
                                 "Pretrained weights (safetensors with state_dict names, e.g. from "
                                 "python/export_torchvision.py) of the model given by --model")
                      ->check(CLI::ExistingFile)
                      ->excludes(ckpt)
                      ->group("Fine-tuning");
  auto* model = ft->add_option("-m,--model", cfg.model, "Model of --weights (see `convnet models`)")
                    ->excludes(ckpt)
                    ->group("Fine-tuning");
  weights->needs(model);
  model->needs(weights);
  ft->add_option("--onnx", cfg.finetune_onnx,
                 "Pretrained ONNX model (weights included; its last Gemm or Conv is the head). Checkpoints "
                 "refer to this file, which must stay where it is")
      ->check(CLI::ExistingFile)
      ->excludes(ckpt)
      ->excludes(weights)
      ->excludes(model)
      ->group("Fine-tuning");
  ft->add_option("--num-classes", cfg.num_classes,
                 "Classes of the new head; must equal the data's (default: the data's, e.g. from --classes)")
      ->check(CLI::PositiveNumber)
      ->group("Fine-tuning");
  auto* last = ft->add_option("--train-last", cfg.train_last,
                              "Train the last K parameterized layers (Conv2d, Linear, BatchNorm, in model order); "
                              "default: the new head only")
                   ->check(CLI::PositiveNumber)
                   ->group("Fine-tuning");
  ft->add_flag("--train-all", f->train_all, "Train every layer (the pretrained weights are only the start)")
      ->excludes(last)
      ->group("Fine-tuning");
  ft->add_option("--freeze", cfg.freeze,
                 "Freeze the parameters whose names match this glob, e.g. 'layer1.*' (repeatable; without "
                 "--train-last, everything else trains)")
      ->group("Fine-tuning");
  ft->add_option("--bn-stats", cfg.bn_stats,
                 "BatchNorm layers whose parameters are frozen: frozen = keep their running statistics (eval "
                 "mode), adapt = update them on the new data")
      ->capture_default_str()
      ->check(CLI::IsMember({"frozen", "adapt"}))
      ->group("Fine-tuning");
  add_training_options(ft, cfg);
  return {ft, [f] { return run_finetune(*f); }};
}

}  // namespace convnet::cli
