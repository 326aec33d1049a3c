// convnet eval
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "convnet/core/error.h"
#include "convnet/core/threads.h"
#include "convnet/ops/autocast.h"
#include "convnet/train/checkpoint.h"
#include "convnet/train/inputs.h"
#include "convnet/train/metrics.h"
#include "progress.h"

namespace convnet::cli {

namespace {
struct EvalOptions {
  std::string checkpoint, dataset, data_dir, split = "test", tta, png, precision, device = "cpu";
  int64_t batch_size = 1000;
  int threads = 0;
  DisplayOptions display;
};

int run_eval(const EvalOptions& o) {
  if (o.threads > 0) set_num_threads(o.threads);
  const Device dev = parse_device(o.device);  // before any file: names the devices that exist
  const train::Checkpoint ck = train::load_checkpoint(o.checkpoint);
  auto model = train::model_from_checkpoint(ck);
  const data::Dataset d = train::load_checkpoint_split(ck, o.split, o.dataset, o.data_dir);
  const bool flip = (o.tta.empty() ? ck.config.aug.tta : o.tta) == "flip";
  // --quiet: the three result lines only; --log-format json: one JSON line.
  const bool all = !o.display.quiet && !o.display.json();
  if (all) {
    std::printf("checkpoint %s: %s after epoch %lld, %lld classes\n", ck.path.c_str(), ck.config.model.model.c_str(),
                (long long)ck.epoch, (long long)ck.model_args.num_classes);
    std::printf("evaluating on the %s split of %s (%lld images)%s\n", o.split.c_str(),
                (o.dataset.empty() ? ck.config.data.dataset : o.dataset).c_str(), (long long)d.size(),
                flip ? " with flip test-time augmentation" : "");
    std::fflush(stdout);
  }
  // The precision the run trained (and validated) in, unless --precision says otherwise.
  const std::string precision = o.precision.empty() ? ck.config.compute.precision : o.precision;
  if (!dev.is_cpu()) model->to(dev);  // the model on the GPU; evaluate_full sends each batch there
  Progress progress = Progress::for_stdout(o.display);
  const auto start = std::chrono::steady_clock::now();
  const train::EvalResult r = [&] {
    autocast guard(parse_precision(precision));
    return train::evaluate_full(*model, d, o.batch_size, flip, [&](int64_t done, int64_t total) {
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      progress.step("eval", 0, done, total, -1, s > 0 ? static_cast<double>(done) / s : 0);
    });
  }();
  progress.clear();
  const auto names = ck.class_names.empty() ? d.class_names : ck.class_names;
  const auto acc = r.per_class_accuracy();
  std::string png = o.png;
  if (png.empty())
    png = (std::filesystem::path(ck.path).parent_path() /
           ("confusion-" + std::filesystem::path(ck.path).stem().string() + "-" + o.split + ".png"))
              .string();
  train::write_confusion_png(png, r);
  if (o.display.json()) {
    nlohmann::ordered_json j;
    j["checkpoint"] = ck.path, j["split"] = o.split, j["images"] = r.n, j["precision"] = precision;
    j["top1"] = r.top1, j["top5"] = r.top5, j["loss"] = r.loss;
    nlohmann::ordered_json per = nlohmann::ordered_json::array();
    for (int64_t k = 0; k < r.num_classes; ++k)
      per.push_back(std::isnan(acc[k]) ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(acc[k]));
    j["per_class_accuracy"] = per;
    j["confusion_png"] = png;
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  if (all && precision != "fp32") std::printf("computed in %s (--precision fp32 for float32)\n", precision.c_str());
  std::printf("top-1 accuracy: %.2f%%\ntop-5 accuracy: %.2f%%\nmean cross entropy: %.4f\n", 100 * r.top1, 100 * r.top5,
              r.loss);
  if (!all) return 0;
  std::printf("per-class accuracy:\n");
  for (int64_t k = 0; k < r.num_classes; ++k) {
    int64_t total = 0;
    for (int64_t p = 0; p < r.num_classes; ++p) total += r.confusion[k * r.num_classes + p];
    const std::string name = k < static_cast<int64_t>(names.size()) ? names[k] : std::to_string(k);
    if (total == 0)
      std::printf("  %3lld %-20s       -  (no images)\n", (long long)k, name.c_str());
    else
      std::printf("  %3lld %-20s %7.2f%%  (%lld images)\n", (long long)k, name.c_str(), 100 * acc[k], (long long)total);
  }
  std::printf("%s", train::confusion_text(r, names).c_str());
  std::printf("confusion matrix picture: %s\n", png.c_str());
  return 0;
}
}  // namespace

Command add_eval(CLI::App& app) {
  auto o = std::make_shared<EvalOptions>();
  auto* ev = app.add_subcommand(
      "eval", "Evaluate a training checkpoint: top-1/top-5 and per-class accuracy, confusion matrix (text and PNG)");
  ev->add_option("-c,--checkpoint", o->checkpoint, "Checkpoint file, or a run directory (its last.safetensors)")
      ->required();
  ev->add_option("--dataset", o->dataset, "Dataset kind (default: the one the checkpoint was trained on)");
  ev->add_option("-d,--data-dir", o->data_dir, "Dataset directory (default: the one the checkpoint was trained on)");
  ev->add_option("--split", o->split, "test, train, or val (the images --val-split held out in training)")
      ->capture_default_str()
      ->check(CLI::IsMember({"test", "train", "val"}));
  ev->add_option("--tta", o->tta,
                 "Test-time augmentation: none | flip (the mean of the softmax probabilities of the image and its "
                 "mirror image; default: as in training)")
      ->check(CLI::IsMember({"none", "flip"}));
  ev->add_option("-b,--batch-size", o->batch_size, "Evaluation batch size")->capture_default_str()->check(positive());
  ev->add_option("--confusion-png", o->png,
                 "Where to write the confusion matrix picture (default: confusion-<checkpoint>-<split>.png beside "
                 "the checkpoint)");
  ev->add_option("-j,--threads", o->threads, "Threads (0 = all cores)")->check(non_negative());
  ev->add_option("--device", o->device, "cpu, cuda or cuda:N: evaluate on a GPU")->capture_default_str();
  ev->add_option("--precision", o->precision,
                 "fp32, bf16 or fp16 (mixed precision, see `convnet train --help`); default: the precision the "
                 "checkpoint was trained in")
      ->check(CLI::IsMember({"fp32", "bf16", "fp16"}));
  add_display_options(ev, o->display);
  return {ev, [o] { return run_eval(*o); }};
}

}  // namespace convnet::cli
