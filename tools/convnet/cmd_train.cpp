// convnet train
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <type_traits>
#include <variant>

#include "commands.h"
#include "convnet/data/datasets.h"
#include "convnet/dist/dist.h"
#include "convnet/train/checkpoint.h"
#include "convnet/train/metrics.h"
#include "convnet/train/trainer.h"
#include "progress.h"
#include "train_cli.h"

namespace convnet::cli {

namespace {

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// SIGINT / SIGTERM during training: the first asks the trainer to stop after its current
// step (it then writes a resumable checkpoint); a second SIGINT exits at once. Checkpoints
// are written to a temporary file and renamed, so exiting at any moment leaves the last
// good one intact.
volatile sig_atomic_t g_signals = 0;
volatile sig_atomic_t g_last_signal = 0;
volatile sig_atomic_t g_distributed = 0;  // started by mpirun
extern "C" void on_stop_signal(int sig) {
  g_last_signal = sig;
  const sig_atomic_t before = g_signals;
  g_signals = before + 1;
  if (before > 0) {
    static const char msg[] = "\nconvnet: second interrupt: exiting now (the last checkpoint is intact)\n";
    [[maybe_unused]] auto n = ::write(2, msg, sizeof msg - 1);
    ::_exit(128 + sig);
  }
  train::request_stop();
  static const char msg[] =
      "\nconvnet: stopping after this step and writing a resumable checkpoint (Ctrl-C again to quit at once)\n";
  // Under mpirun the signal comes from the launcher: Ctrl-C, or a rank that failed (then the
  // step cannot finish, and the launcher ends the job; the last checkpoint is intact).
  static const char dmsg[] =
      "\nconvnet: stop requested by the launcher (Ctrl-C, or another rank failed): all ranks stop after the same "
      "step and rank 0 writes a resumable checkpoint, if the other ranks still answer\n";
  [[maybe_unused]] auto n = g_distributed ? ::write(2, dmsg, sizeof dmsg - 1) : ::write(2, msg, sizeof msg - 1);
}

// Installs on_stop_signal for the lifetime of a training run.
struct StopSignals {
  struct sigaction old_int {
  }, old_term{};
  StopSignals() {
    g_signals = 0;
    g_distributed = !dist::rank_prefix().empty();
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
  }
  ~StopSignals() {
    sigaction(SIGINT, &old_int, nullptr);
    sigaction(SIGTERM, &old_term, nullptr);
  }
};

// The options given on the command line, by their keys in the checkpoint's configuration.
std::set<std::string> explicitly_set(const TrainCli& t) {
  std::set<std::string> s;
  for (const auto& [opt, key] : t.keys)
    if (opt->count() > 0) s.insert(key);
  return s;
}

}  // namespace

int run_training(const TrainCli& t) {
  train::TrainConfig cfg = t.cfg;
  if (!cfg.ckpt.resume.empty()) cfg = train::resume_config(cfg.ckpt.resume, cfg, explicitly_set(t));
  // Validation is on the test set unless part of the training set is held out: the
  // per-epoch line says which.
  const char* val_name = cfg.data.val_split > 0 ? "val" : "test";
  // Under mpirun only rank 0 reports (every rank's errors still reach the user, main.cpp).
  DisplayOptions d = t.display;
  const bool lead = dist::env_rank() == 0;
  if (!lead) d.quiet = true;
  Progress progress = Progress::for_stdout(d);
  progress.set_last_epoch(cfg.optim.epochs);
  // With --log-format json stdout carries only the epochs' JSON lines.
  std::FILE* info = d.json() ? stderr : stdout;
  train::Callbacks cb;
  cb.on_step = [&](const train::StepInfo& s) {
    progress.step("epoch", s.epoch, s.step, s.steps_per_epoch, s.loss, s.images_per_second);
  };
  cb.on_info = [&](const std::string& s) {
    progress.clear();
    if (d.quiet) return;
    std::fprintf(info, "%s\n", s.c_str());
    std::fflush(info);
  };
  cb.on_epoch = [&](const train::EpochStats& e) {
    progress.epoch_done(e.seconds);
    if (d.json()) {
      std::fputs(train::metrics_jsonl({e}).c_str(), stdout);
    } else {
      std::printf(
          "epoch %lld/%lld  train loss %.4f  train acc %s  %s loss %.4f  %s acc %s%s  lr %.4g  %.0f img/s  %.1fs\n",
          (long long)e.epoch, (long long)cfg.optim.epochs, e.train_loss, fmt("%.2f%%", 100 * e.train_acc).c_str(),
          val_name, e.val_loss, val_name, fmt("%.2f%%", 100 * e.val_acc).c_str(), e.best ? " (best)" : "", e.lr,
          e.images_per_second, e.seconds);
    }
    std::fflush(stdout);
  };
  const std::string where = cfg.data.dataset + (cfg.data.data_dir.empty() ? "" : " " + cfg.data.data_dir);
  const std::string warmup =
      cfg.sched.warmup > 0 ? " after " + std::to_string(cfg.sched.warmup) + " warmup epochs" : "";
  if (!d.quiet)
    std::fprintf(info, "training %s on %s: %lld epochs, batch %lld, %s lr %.4g, schedule %s%s, seed %llu\n",
                 cfg.model.model.c_str(), where.c_str(), (long long)cfg.optim.epochs, (long long)cfg.optim.batch_size,
                 cfg.optim.optimizer.c_str(), cfg.optim.lr, cfg.sched.schedule.c_str(), warmup.c_str(),
                 (unsigned long long)cfg.compute.seed);
  std::fflush(info);
  train::TrainResult result;
  {
    StopSignals signals;
    result = train::train(cfg, cb);
  }
  progress.clear();
  if (!lead) return result.interrupted ? 128 + static_cast<int>(g_last_signal ? g_last_signal : SIGINT) : 0;
  if (result.interrupted) {
    const std::string last = result.run_dir + "/" + train::kLastCheckpoint;
    if (result.stopped_step > 0)
      std::fprintf(stderr, "convnet: stopped in epoch %lld after step %lld; wrote %s\n",
                   (long long)result.stopped_epoch, (long long)result.stopped_step, last.c_str());
    else
      std::fprintf(stderr, "convnet: stopped before epoch %lld; %s\n", (long long)result.stopped_epoch,
                   result.stopped_epoch > 1
                       ? ("the checkpoint of epoch " + std::to_string(result.stopped_epoch - 1) + " is " + last).c_str()
                       : "no epoch had finished, so there is no checkpoint");
    if (result.stopped_step > 0 || result.stopped_epoch > 1)
      std::fprintf(stderr, "convnet: continue with: convnet %s --resume %s\n", t.app->get_name().c_str(),
                   result.run_dir.c_str());
    return 128 + static_cast<int>(g_last_signal ? g_last_signal : SIGINT);
  }
  if (!d.quiet)
    std::fprintf(info, "checkpoints: %s/%s (last), %s/%s (best validation accuracy %.2f%%, epoch %lld)\n",
                 result.run_dir.c_str(), train::kLastCheckpoint, result.run_dir.c_str(), train::kBestCheckpoint,
                 100 * result.best_val_acc, (long long)result.best_epoch);
  if (!result.has_test)
    std::fprintf(info, "no test split; final validation accuracy: %.2f%%\n", 100 * result.test_acc);
  else
    std::fprintf(info, "final test accuracy: %.2f%%%s  (%s, %lld epochs, wall time %.1f s)\n", 100 * result.test_acc,
                 result.test_images < result.test_total
                     ? (" on the first " + std::to_string(result.test_images) + " of " +
                        std::to_string(result.test_total) + " test images (--limit-test)")
                           .c_str()
                     : "",
                 cfg.model.model.c_str(), (long long)cfg.optim.epochs, result.seconds);
  return 0;
}

namespace {
// The CLI11 form of an option's Check (train::validate checks the same again, for the library).
CLI::Validator validator(const train::Check& k) {
  using train::Check;
  auto num = [](double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%g", v);
    return std::string(b);
  };
  std::string desc;
  switch (k.kind) {
    case Check::at_least:
      desc = ">= " + num(k.lo);
      break;
    case Check::above:
      desc = "> " + num(k.lo);
      break;
    case Check::range:
      desc = "in [" + num(k.lo) + ", " + num(k.hi) + "]";
      break;
    case Check::below_one:
      desc = "in [0, 1)";
      break;
    case Check::one_of:
      desc = k.choices;
      break;
    default:
      break;
  }
  return CLI::Validator(
      [k, desc](std::string& s) -> std::string {
        if (k.kind == Check::one_of) {
          const std::string all = std::string("|") + k.choices + "|";
          if (all.find("|" + s + "|") == std::string::npos) return s + " is not one of " + desc;
          return {};
        }
        double x = 0;
        try {
          size_t used = 0;
          x = std::stod(s, &used);
          if (used != s.size()) throw std::invalid_argument(s);
        } catch (const std::exception&) {
          return s + " is not a number";
        }
        bool ok = true;
        switch (k.kind) {
          case Check::at_least:
            ok = x >= k.lo;
            break;
          case Check::above:
            ok = x > k.lo;
            break;
          case Check::range:
            ok = x >= k.lo && x <= k.hi;
            break;
          case Check::below_one:
            ok = x >= 0 && x < 1;
            break;
          default:
            break;
        }
        return ok ? std::string() : s + " is not " + desc;
      },
      k.kind == Check::one_of ? "{" + desc + "}" : desc);
}
}  // namespace

std::map<std::string, CLI::Option*> add_training_options(TrainCli& t, bool finetune) {
  std::map<std::string, CLI::Option*> made;
  std::string kinds;
  for (const auto& k : data::dataset_kinds()) kinds += (kinds.empty() ? "" : ", ") + k;
  for (const train::OptionInfo& o : train::train_options()) {
    if (o.finetune_only && !finetune) continue;
    if (std::string(o.flags).empty()) continue;
    std::string help = o.help;
    if (std::string(o.key) == "dataset") help = "Dataset kind: " + kinds;
    CLI::Option* opt = std::visit(
        [&](auto ref) -> CLI::Option* {
          auto& field = ref(t.cfg);
          using T = std::decay_t<decltype(field)>;
          if constexpr (std::is_same_v<T, bool>) {
            // No default shown: CLI11 prints a negatable flag's as that of its negation.
            return t.app->add_flag(o.flags, field, help + (field ? " (default: on)" : ""));
          } else {
            CLI::Option* r = t.app->add_option(o.flags, field, help);
            if constexpr (std::is_same_v<T, std::vector<int64_t>>) r->delimiter(',');
            if (o.check.kind != train::Check::none) r->check(validator(o.check));
            return r->capture_default_str();
          }
        },
        o.ref);
    opt->group(finetune && o.finetune_only ? "Fine-tuning" : o.section);
    t.keys[opt] = o.key;
    made[o.key] = opt;
  }
  add_display_options(t.app, t.display);
  return made;
}

Command add_train(CLI::App& app) {
  auto t = std::make_shared<TrainCli>();
  auto* tr = app.add_subcommand(
      "train",
      "Train a model from the zoo (default: LeNet-5 on Fashion-MNIST); checkpoints, metrics and plots go to "
      "a run directory");
  t->app = tr;
  add_training_options(*t, false);
  return {tr, [t] { return run_training(*t); }};
}

}  // namespace convnet::cli
