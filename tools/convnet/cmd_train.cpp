// convnet train
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <set>

#include "commands.h"
#include "convnet/data/datasets.h"
#include "convnet/train/checkpoint.h"
#include "convnet/train/trainer.h"
#include "train_cli.h"

namespace convnet::cli {

namespace {

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// A one-line progress bar on a terminal; a few plain lines per epoch otherwise.
struct Progress {
  bool tty = isatty(fileno(stderr));
  int64_t last_quarter = -1;
  void step(const train::StepInfo& s) {
    if (tty) {
      const int width = 30;
      const int filled = static_cast<int>(width * s.step / s.steps_per_epoch);
      std::fprintf(stderr, "\repoch %lld [%s%s] %lld/%lld loss %.4f lr %.4g %.0f img/s ", (long long)s.epoch,
                   std::string(filled, '=').c_str(), std::string(width - filled, ' ').c_str(), (long long)s.step,
                   (long long)s.steps_per_epoch, s.loss, s.lr, s.images_per_second);
      std::fflush(stderr);
    } else {
      const int64_t quarter = 4 * s.step / s.steps_per_epoch;
      if (quarter != last_quarter && quarter < 4) {
        last_quarter = quarter;
        if (quarter > 0)
          std::fprintf(stderr, "epoch %lld: step %lld/%lld loss %.4f %.0f img/s\n", (long long)s.epoch,
                       (long long)s.step, (long long)s.steps_per_epoch, s.loss, s.images_per_second);
      }
    }
  }
  void epoch_done() {
    if (tty) std::fprintf(stderr, "\r%100s\r", "");
    last_quarter = -1;
  }
};

// The TrainConfig fields given on the command line: each option's long name with '_'
// for '-', which is how the checkpoint's configuration spells them.
std::set<std::string> explicitly_set(const CLI::App& app) {
  std::set<std::string> s;
  for (const CLI::Option* o : app.get_options()) {
    if (o->count() == 0 || o->get_lnames().empty()) continue;
    std::string n = o->get_lnames().front();
    for (char& ch : n)
      if (ch == '-') ch = '_';
    s.insert(n);
  }
  return s;
}

}  // namespace

int run_training(const TrainCli& t) {
  train::TrainConfig cfg = t.cfg;
  if (!cfg.resume.empty()) cfg = train::resume_config(cfg.resume, cfg, explicitly_set(*t.app));
  // Validation is on the test set unless part of the training set is held out: the
  // per-epoch line says which.
  const char* val_name = cfg.val_split > 0 ? "val" : "test";
  Progress progress;
  train::Callbacks cb;
  cb.on_step = [&](const train::StepInfo& s) { progress.step(s); };
  cb.on_info = [&](const std::string& s) {
    progress.epoch_done();
    std::printf("%s\n", s.c_str());
    std::fflush(stdout);
  };
  cb.on_epoch = [&](const train::EpochStats& e) {
    progress.epoch_done();
    std::printf(
        "epoch %lld/%lld  train loss %.4f  train acc %s  %s loss %.4f  %s acc %s%s  lr %.4g  %.0f img/s  %.1fs\n",
        (long long)e.epoch, (long long)cfg.epochs, e.train_loss, fmt("%.2f%%", 100 * e.train_acc).c_str(), val_name,
        e.val_loss, val_name, fmt("%.2f%%", 100 * e.val_acc).c_str(), e.best ? " (best)" : "", e.lr,
        e.images_per_second, e.seconds);
    std::fflush(stdout);
  };
  const std::string where = cfg.dataset + (cfg.data_dir.empty() ? "" : " " + cfg.data_dir);
  const std::string warmup = cfg.warmup > 0 ? " after " + std::to_string(cfg.warmup) + " warmup epochs" : "";
  std::printf("training %s on %s: %lld epochs, batch %lld, %s lr %.4g, schedule %s%s, seed %llu\n", cfg.model.c_str(),
              where.c_str(), (long long)cfg.epochs, (long long)cfg.batch_size, cfg.optimizer.c_str(), cfg.lr,
              cfg.schedule.c_str(), warmup.c_str(), (unsigned long long)cfg.seed);
  std::fflush(stdout);
  auto result = train::train(cfg, cb);
  std::printf("checkpoints: %s/%s (last), %s/%s (best validation accuracy %.2f%%, epoch %lld)\n",
              result.run_dir.c_str(), train::kLastCheckpoint, result.run_dir.c_str(), train::kBestCheckpoint,
              100 * result.best_val_acc, (long long)result.best_epoch);
  if (!result.has_test)
    std::printf("no test split; final validation accuracy: %.2f%%\n", 100 * result.test_acc);
  else
    std::printf("final test accuracy: %.2f%%  (%s, %lld epochs, wall time %.1f s)\n", 100 * result.test_acc,
                cfg.model.c_str(), (long long)cfg.epochs, result.seconds);
  return 0;
}

void add_training_options(CLI::App* tr, train::TrainConfig& cfg) {
  std::string kinds;
  for (const auto& k : data::dataset_kinds()) kinds += (kinds.empty() ? "" : ", ") + k;
  tr->add_option("--dataset", cfg.dataset, "Dataset kind: " + kinds)->capture_default_str()->group("Data");
  tr->add_option("-d,--data-dir", cfg.data_dir,
                 "Dataset directory (default for fashion-mnist: /usr/share/datasets/fashion-mnist, where Debian's "
                 "dataset-fashion-mnist installs it; idx files may be gzip'd)")
      ->group("Data");
  tr->add_option("--image-size", cfg.image_size, "folder datasets: resize images to this size (0 = keep)")
      ->check(CLI::NonNegativeNumber)
      ->group("Data");
  tr->add_option("--resize-mode", cfg.resize_mode, "folder datasets: resize | center-crop")
      ->capture_default_str()
      ->check(CLI::IsMember({"resize", "center-crop"}))
      ->group("Data");
  tr->add_flag("--grayscale", cfg.grayscale, "folder datasets: load images with 1 channel")->group("Data");
  tr->add_option("--classes", cfg.classes, "Train on these classes only, e.g. 3,5 (relabelled 0..k-1 in this order)")
      ->delimiter(',')
      ->check(CLI::NonNegativeNumber)
      ->group("Data");
  tr->add_option("--val-split", cfg.val_split,
                 "Hold out this fraction of the training set for validation (0 = validate on the test set)")
      ->check(CLI::Range(0.0, 0.99))
      ->group("Data");
  tr->add_option("--augment", cfg.augment,
                 "Augmentation, e.g. crop:4,flip (items: crop:P flip[:P] rotate:D affine:T[:S0:S1] "
                 "jitter:B[:C[:S]] erasing[:P])")
      ->group("Data");
  tr->add_option("--mixup", cfg.mixup, "MixUp with Beta(A, A) (0 = off; e.g. 0.2)")
      ->check(CLI::NonNegativeNumber)
      ->group("Data");
  tr->add_option("--cutmix", cfg.cutmix, "CutMix with Beta(A, A) (0 = off; e.g. 1.0)")
      ->check(CLI::NonNegativeNumber)
      ->group("Data");
  tr->add_option("--workers", cfg.workers, "Data-loader threads (the result does not depend on it)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber)
      ->group("Data");
  tr->add_option("--limit-train", cfg.limit_train, "Use only the first N training images (0 = all)")
      ->check(CLI::NonNegativeNumber)
      ->group("Data");
  tr->add_option("--per-class", cfg.per_class,
                 "Use only N training images of each class, a random choice fixed by --seed (0 = all)")
      ->check(CLI::NonNegativeNumber)
      ->group("Data");

  tr->add_option("-e,--epochs", cfg.epochs, "Number of epochs")->capture_default_str()->check(CLI::PositiveNumber);
  tr->add_option("-b,--batch-size", cfg.batch_size, "Mini-batch size")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  tr->add_option("--optimizer", cfg.optimizer, "Optimizer")
      ->capture_default_str()
      ->check(CLI::IsMember({"sgd", "adam", "adamw"}));
  tr->add_option("--lr", cfg.lr, "Learning rate (the peak rate for onecycle)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  tr->add_option("--momentum", cfg.momentum, "SGD momentum")->capture_default_str()->check(CLI::Range(0.0, 0.999999));
  tr->add_flag("--nesterov,!--no-nesterov", cfg.nesterov, "Nesterov momentum (SGD)")->capture_default_str();
  tr->add_option("--weight-decay", cfg.weight_decay, "Weight decay (L2 for sgd/adam, decoupled for adamw)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  tr->add_option("--schedule", cfg.schedule, "Learning-rate schedule")
      ->capture_default_str()
      ->check(CLI::IsMember({"constant", "step", "multistep", "cosine", "onecycle"}));
  tr->add_option("--step-size", cfg.step_size, "step schedule: epochs between decays (default epochs/3)")
      ->check(CLI::NonNegativeNumber);
  tr->add_option("--milestones", cfg.milestones, "multistep schedule: epochs at which the rate decays")->delimiter(',');
  tr->add_option("--gamma", cfg.gamma, "step/multistep decay factor")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  tr->add_option("--pct-start", cfg.pct_start, "onecycle: fraction of steps spent increasing the rate")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  tr->add_option("--warmup", cfg.warmup,
                 "Epochs of linear warmup (from 1/3 of the rate) before the schedule, which then runs over the "
                 "remaining epochs")
      ->check(CLI::NonNegativeNumber);
  tr->add_option("--label-smoothing", cfg.label_smoothing, "Label smoothing epsilon of the cross entropy")
      ->check(CLI::Range(0.0, 1.0));
  tr->add_option("--clip-grad-norm", cfg.clip_grad_norm,
                 "Clip the total 2-norm of the gradients to MAX (torch.nn.utils.clip_grad_norm_; 0 = off)")
      ->check(CLI::NonNegativeNumber);
  tr->add_option("--ema", cfg.ema,
                 "Keep an exponential moving average of the weights with this decay (e.g. 0.999); it is what is "
                 "evaluated and saved")
      ->check(CLI::Range(0.0, 0.999999999));
  tr->add_option("--tta", cfg.tta,
                 "Test-time augmentation at evaluation: none | flip (the mean of the softmax probabilities of the "
                 "image and its mirror image)")
      ->capture_default_str()
      ->check(CLI::IsMember({"none", "flip"}));
  tr->add_option("--seed", cfg.seed, "Random seed (initialization, split, shuffling, augmentation, dropout)")
      ->capture_default_str();
  tr->add_option("-j,--threads", cfg.threads, "Threads (0 = all cores)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  tr->add_option("--eval-batch-size", cfg.eval_batch_size, "Batch size of evaluation")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  tr->add_option("-o,--out", cfg.out,
                 "Run directory for checkpoints, metrics.jsonl and plots (default runs/<model>-<time>)")
      ->group("Checkpoints");
  tr->add_option("--resume", cfg.resume,
                 "Continue the run of this checkpoint or run directory (its last.safetensors) with its configuration; "
                 "the result is bit-identical to an uninterrupted run with the same --threads")
      ->group("Checkpoints");
}

Command add_train(CLI::App& app) {
  auto t = std::make_shared<TrainCli>();
  auto* tr = app.add_subcommand(
      "train",
      "Train a model from the zoo (default: LeNet-5 on Fashion-MNIST); checkpoints, metrics and plots go to "
      "a run directory");
  t->app = tr;
  tr->add_option("-m,--model", t->cfg.model, "Model name (see `convnet models`)")->capture_default_str();
  add_training_options(tr, t->cfg);
  return {tr, [t] { return run_training(*t); }};
}

}  // namespace convnet::cli
