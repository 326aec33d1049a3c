// convnet eval
#include <cstdio>
#include <filesystem>
#include <memory>
#include <numeric>

#include "commands.h"
#include "convnet/core/error.h"
#include "convnet/core/threads.h"
#include "convnet/data/datasets.h"
#include "convnet/train/checkpoint.h"
#include "convnet/train/metrics.h"

namespace convnet::cli {

namespace {
struct EvalOptions {
  std::string checkpoint, dataset, data_dir, split = "test", tta, png;
  int64_t batch_size = 1000;
  int threads = 0;
};

// The split to evaluate, built as the training run built it (same spec, same held-out
// validation images for "val"), normalized with the checkpoint's statistics.
data::Dataset load_split(const train::Checkpoint& ck, const EvalOptions& o) {
  const train::TrainConfig& c = ck.config;
  data::DatasetSpec spec;
  spec.kind = o.dataset.empty() ? c.dataset : o.dataset;
  spec.dir = o.data_dir.empty() ? c.data_dir : o.data_dir;
  spec.image_size = c.image_size;
  spec.resize_mode = c.resize_mode;
  spec.grayscale = c.grayscale;
  spec.classes = c.classes;
  data::Dataset d;
  if (o.split == "test") {
    d = data::load_dataset(spec, false);
  } else {
    d = data::load_dataset(spec, true);
    if (c.limit_train > 0 && c.limit_train < d.size()) {
      std::vector<int64_t> first(static_cast<size_t>(c.limit_train));
      std::iota(first.begin(), first.end(), int64_t{0});
      d = data::select(d, first);
    }
    if (o.split == "val") {
      CONVNET_CHECK(c.val_split > 0, "checkpoint '", ck.path,
                    "' was trained without --val-split, so it has no validation split; use --split test");
      d = data::train_val_split(d, c.val_split, c.seed).second;
    } else if (c.val_split > 0) {
      d = data::train_val_split(d, c.val_split, c.seed).first;
    }
  }
  const auto& a = ck.model_args;
  CONVNET_CHECK(d.images.size(1) == a.in_channels && d.images.size(2) == a.input_size, "the ", o.split, " split of ",
                spec.kind, " has images of shape ", shape_str(d.images.shape()), " but checkpoint '", ck.path,
                "' expects ", a.in_channels, "x", a.input_size, "x", a.input_size);
  CONVNET_CHECK(static_cast<int64_t>(d.class_names.size()) <= a.num_classes, "the ", o.split, " split of ", spec.kind,
                " has ", d.class_names.size(), " classes but checkpoint '", ck.path, "' was trained on ",
                a.num_classes);
  data::normalize(d, ck.mean, ck.std);
  return d;
}

int run_eval(const EvalOptions& o) {
  if (o.threads > 0) set_num_threads(o.threads);
  const train::Checkpoint ck = train::load_checkpoint(o.checkpoint);
  auto model = train::model_from_checkpoint(ck);
  const data::Dataset d = load_split(ck, o);
  const bool flip = (o.tta.empty() ? ck.config.tta : o.tta) == "flip";
  std::printf("checkpoint %s: %s after epoch %lld, %lld classes\n", ck.path.c_str(), ck.config.model.c_str(),
              (long long)ck.epoch, (long long)ck.model_args.num_classes);
  std::printf("evaluating on the %s split of %s (%lld images)%s\n", o.split.c_str(),
              (o.dataset.empty() ? ck.config.dataset : o.dataset).c_str(), (long long)d.size(),
              flip ? " with flip test-time augmentation" : "");
  const train::EvalResult r = train::evaluate_full(*model, d, o.batch_size, flip);
  std::printf("top-1 accuracy: %.2f%%\ntop-5 accuracy: %.2f%%\nmean cross entropy: %.4f\n", 100 * r.top1, 100 * r.top5,
              r.loss);
  const auto names = ck.class_names.empty() ? d.class_names : ck.class_names;
  std::printf("per-class accuracy:\n");
  const auto acc = r.per_class_accuracy();
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
  std::string png = o.png;
  if (png.empty())
    png = (std::filesystem::path(ck.path).parent_path() /
           ("confusion-" + std::filesystem::path(ck.path).stem().string() + "-" + o.split + ".png"))
              .string();
  train::write_confusion_png(png, r);
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
  ev->add_option("--tta", o->tta, "Test-time augmentation: none | flip (default: as in training)")
      ->check(CLI::IsMember({"none", "flip"}));
  ev->add_option("-b,--batch-size", o->batch_size, "Evaluation batch size")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  ev->add_option("--confusion-png", o->png,
                 "Where to write the confusion matrix picture (default: confusion-<checkpoint>-<split>.png beside "
                 "the checkpoint)");
  ev->add_option("-j,--threads", o->threads, "Threads (0 = all cores)")->check(CLI::NonNegativeNumber);
  return {ev, [o] { return run_eval(*o); }};
}

}  // namespace convnet::cli
