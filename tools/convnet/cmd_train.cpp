// convnet train
#include <unistd.h>

#include <cstdio>
#include <memory>

#include "commands.h"
#include "convnet/train/trainer.h"

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

int run_train(const train::TrainConfig& cfg) {
  Progress progress;
  train::Callbacks cb;
  cb.on_step = [&](const train::StepInfo& s) { progress.step(s); };
  cb.on_epoch = [&](const train::EpochStats& e) {
    progress.epoch_done();
    std::printf("epoch %lld/%lld  train loss %.4f  train acc %s  test acc %s  lr %.4g  %.0f img/s  %.1fs\n",
                (long long)e.epoch, (long long)cfg.epochs, e.train_loss, fmt("%.2f%%", 100 * e.train_acc).c_str(),
                fmt("%.2f%%", 100 * e.test_acc).c_str(), e.lr, e.images_per_second, e.seconds);
    std::fflush(stdout);
  };
  std::printf("training %s on %s: %lld epochs, batch %lld, %s lr %.4g, schedule %s, seed %llu\n", cfg.model.c_str(),
              cfg.data_dir.c_str(), (long long)cfg.epochs, (long long)cfg.batch_size, cfg.optimizer.c_str(), cfg.lr,
              cfg.schedule.c_str(), (unsigned long long)cfg.seed);
  std::fflush(stdout);
  auto result = train::train(cfg, cb);
  std::printf("final test accuracy: %.2f%%  (%s, %lld epochs, wall time %.1f s)\n", 100 * result.test_acc,
              cfg.model.c_str(), (long long)cfg.epochs, result.seconds);
  return 0;
}

}  // namespace

Command add_train(CLI::App& app) {
  auto cfg_ptr = std::make_shared<train::TrainConfig>();
  train::TrainConfig& cfg = *cfg_ptr;
  auto* tr =
      app.add_subcommand("train", "Train a model from the zoo on an idx dataset (default: LeNet-5 on Fashion-MNIST)");
  std::string model_help = "Model name (see `convnet models`)";
  tr->add_option("-m,--model", cfg.model, model_help)->capture_default_str();
  tr->add_option("-d,--data-dir", cfg.data_dir,
                 "Directory with train-/t10k- images and labels idx files, gzip'd or not (Debian's "
                 "dataset-fashion-mnist installs them here)")
      ->capture_default_str();
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
  tr->add_option("--seed", cfg.seed, "Random seed (initialization, shuffling, dropout)")->capture_default_str();
  tr->add_option("-j,--threads", cfg.threads, "Threads (0 = all cores)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  tr->add_option("--limit-train", cfg.limit_train, "Use only the first N training images (0 = all)")
      ->check(CLI::NonNegativeNumber);

  return {tr, [cfg_ptr] { return run_train(*cfg_ptr); }};
}

}  // namespace convnet::cli
