// convnet: the command-line tool. Argument parsing and printing only; the work is done
// by the library.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>

#include "convnet/core/error.h"
#include "convnet/autograd/autograd.h"
#include "convnet/io/safetensors.h"
#include "convnet/io/weights.h"
#include "convnet/models/registry.h"
#include "convnet/nn/summary.h"
#include "convnet/train/bench.h"
#include "convnet/train/trainer.h"

using namespace convnet;

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

int main(int argc, char** argv) {
  CLI::App app{"convnet: build, train, evaluate and inspect convolutional neural networks (version " CONVNET_VERSION
               ")"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(CONVNET_VERSION));

  train::TrainConfig cfg;
  auto* tr = app.add_subcommand("train", "Train a model from the zoo on an idx dataset (default: LeNet-5 on Fashion-MNIST)");
  std::string model_help = "Model name (see `convnet models`)";
  tr->add_option("-m,--model", cfg.model, model_help)->capture_default_str();
  tr->add_option("-d,--data-dir", cfg.data_dir,
                 "Directory with train-/t10k- images and labels idx files, gzip'd or not (Debian's dataset-fashion-mnist installs them here)")
      ->capture_default_str();
  tr->add_option("-e,--epochs", cfg.epochs, "Number of epochs")->capture_default_str()->check(CLI::PositiveNumber);
  tr->add_option("-b,--batch-size", cfg.batch_size, "Mini-batch size")->capture_default_str()->check(CLI::PositiveNumber);
  tr->add_option("--optimizer", cfg.optimizer, "Optimizer")
      ->capture_default_str()
      ->check(CLI::IsMember({"sgd", "adam", "adamw"}));
  tr->add_option("--lr", cfg.lr, "Learning rate (the peak rate for onecycle)")->capture_default_str()->check(CLI::PositiveNumber);
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
  tr->add_option("--gamma", cfg.gamma, "step/multistep decay factor")->capture_default_str()->check(CLI::PositiveNumber);
  tr->add_option("--pct-start", cfg.pct_start, "onecycle: fraction of steps spent increasing the rate")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  tr->add_option("--seed", cfg.seed, "Random seed (initialization, shuffling, dropout)")->capture_default_str();
  tr->add_option("-j,--threads", cfg.threads, "Threads (0 = all cores)")->capture_default_str()->check(CLI::NonNegativeNumber);
  tr->add_option("--limit-train", cfg.limit_train, "Use only the first N training images (0 = all)")
      ->check(CLI::NonNegativeNumber);

  auto* ls = app.add_subcommand("models", "List the models of the zoo");

  train::BenchConfig bc;
  auto* bn = app.add_subcommand("bench",
                                "Measure training or inference throughput (images/s) of a zoo model on random data; "
                                "prints one JSON line in the format of shared/bench/pytorch_peer.py");
  bn->add_option("-m,--model", bc.model, "Model name")->capture_default_str();
  bn->add_option("-b,--batch", bc.batch, "Batch size")->capture_default_str()->check(CLI::PositiveNumber);
  bn->add_option("-j,--threads", bc.threads, "Threads (0 = all cores)")->capture_default_str()->check(CLI::NonNegativeNumber);
  bn->add_option("--mode", bc.mode, "train or infer")->capture_default_str()->check(CLI::IsMember({"train", "infer"}));
  bn->add_option("--seconds", bc.seconds, "Measuring time per run")->capture_default_str()->check(CLI::PositiveNumber);

  std::string sum_model, sum_input;
  int64_t sum_classes = 0, sum_batch = 1;
  auto* sm = app.add_subcommand("summary", "Print a model's layers with output shapes, parameters and MACs");
  sm->add_option("model", sum_model, "Model name (see `convnet models`)")->required();
  sm->add_option("--input", sum_input, "Input shape C,H,W (default: the model's usual input, e.g. 1,28,28 for lenet5, 3,224,224 for torchvision models)");
  sm->add_option("--num-classes", sum_classes, "Number of classes (default 1000 for torchvision models, else 10)")
      ->check(CLI::PositiveNumber);
  sm->add_option("--batch", sum_batch, "Batch size for the activation-memory estimate")->capture_default_str()->check(CLI::PositiveNumber);

  std::string inf_model, inf_weights, inf_input, inf_output, inf_key;
  int64_t inf_classes = 0;
  bool inf_strict = true;
  auto* inf = app.add_subcommand("infer", "Run a model in eval mode on a batch stored in a safetensors file and write the logits");
  inf->add_option("-m,--model", inf_model, "Model name")->required();
  inf->add_option("--num-classes", inf_classes, "Number of classes (default: taken from the weights file)")->check(CLI::PositiveNumber);
  inf->add_option("--weights", inf_weights, "Weights (safetensors, parameter names as torchvision's state_dict)")->required();
  inf->add_option("--input", inf_input, "Input batch (safetensors with one (N, C, H, W) tensor, or one named by --input-key)")->required();
  inf->add_option("--input-key", inf_key, "Name of the input tensor when the file holds several");
  inf->add_option("--output", inf_output, "Where to write the logits (safetensors, tensor \"logits\")")->required();
  inf->add_option("--strict", inf_strict, "Require every weight name and shape to match (false: load what matches, list the rest)")
      ->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    if (*tr) return run_train(cfg);
    if (*bn) {
      auto r = train::benchmark(bc);
      std::printf("{\"impl\": \"convnet-%s\", \"model\": \"%s\", \"mode\": \"%s\", \"batch\": %lld, \"threads\": %d, "
                  "\"images_per_s\": %.1f}\n",
                  CONVNET_VERSION, bc.model.c_str(), bc.mode.c_str(), (long long)bc.batch, r.threads, r.images_per_s);
      return 0;
    }
    if (*sm) {
      const auto& info = models::info(sum_model);
      models::ModelArgs a;
      a.num_classes = sum_classes > 0 ? sum_classes : (info.torchvision ? 1000 : 10);
      Shape chw{info.default_input_size == 28 ? 1 : 3, info.default_input_size, info.default_input_size};
      if (info.torchvision) chw = {3, 224, 224};
      if (!sum_input.empty()) {
        chw.clear();
        std::stringstream ss(sum_input);
        std::string part;
        while (std::getline(ss, part, ',')) {
          try {
            chw.push_back(std::stoll(part));
          } catch (const std::exception&) {
            throw Error("--input must be C,H,W with positive integers, got '" + sum_input + "'");
          }
        }
        if (chw.size() != 3 || chw[0] < 1 || chw[1] < 1 || chw[2] < 1)
          throw Error("--input must be C,H,W with positive integers, got '" + sum_input + "'");
      }
      a.in_channels = chw[0];
      a.input_size = chw[1];
      auto net = models::create(sum_model, a);
      std::printf("%s (%s)\n", sum_model.c_str(), info.description.c_str());
      std::printf("%s", nn::summarize(*net, chw).table(sum_batch).c_str());
      return 0;
    }
    if (*inf) {
      auto weights = io::load_safetensors(inf_weights);
      auto input = io::load_safetensors(inf_input);
      Tensor x;
      if (!inf_key.empty()) {
        auto it = input.tensors.find(inf_key);
        if (it == input.tensors.end()) throw Error("'" + inf_input + "' has no tensor named '" + inf_key + "'");
        x = it->second;
      } else if (input.tensors.size() == 1) {
        x = input.tensors.begin()->second;
      } else if (input.tensors.count("input")) {
        x = input.tensors.at("input");
      } else {
        throw Error("'" + inf_input + "' holds " + std::to_string(input.tensors.size()) +
                    " tensors; name the input with --input-key");
      }
      if (x.dim() != 4) throw Error("the input in '" + inf_input + "' must be (N, C, H, W), got " + shape_str(x.shape()));
      models::ModelArgs a;
      a.in_channels = x.size(1);
      a.input_size = x.size(2);
      a.num_classes = inf_classes;
      if (a.num_classes == 0) {  // the last 1-D parameter-like tensor: the classifier bias
        a.num_classes = 10;
        auto probe = models::create(inf_model, a);
        auto params = probe->named_parameters();
        for (auto it = params.rbegin(); it != params.rend(); ++it)
          if (weights.tensors.count(it->first)) {
            a.num_classes = weights.tensors.at(it->first).size(0);
            break;
          }
      }
      auto net = models::create(inf_model, a);
      auto report = io::load_state_dict(*net, weights, inf_strict, inf_weights);
      if (!report.complete())
        std::fprintf(stderr, "loaded %zu of %zu tensors from '%s'; not loaded:\n%s", report.loaded.size(),
                     net->state_dict().size(), inf_weights.c_str(), report.describe().c_str());
      net->eval();
      NoGradGuard g;
      Tensor y = (*net)(x);
      io::save_safetensors(inf_output, {{"logits", y}}, {{"model", inf_model}});
      std::printf("wrote logits %s to %s\n", shape_str(y.shape()).c_str(), inf_output.c_str());
      return 0;
    }
    if (*ls) {
      for (const auto& m : models::all()) std::printf("%-16s %s\n", m.name.c_str(), m.description.c_str());
      return 0;
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "\nconvnet: error: %s\n", e.what());
    std::fprintf(stderr, "(run `convnet %s --help` for the options)\n", argv[1]);
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "\nconvnet: internal error: %s\n", e.what());
    return 2;
  }
  return 0;
}
