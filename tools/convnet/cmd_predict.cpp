// convnet predict
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <numeric>

#include "commands.h"
#include "convnet/core/error.h"
#include "convnet/core/threads.h"
#include "convnet/ops/autocast.h"
#include "convnet/train/checkpoint.h"
#include "convnet/train/inputs.h"
#include "convnet/train/metrics.h"

namespace convnet::cli {

namespace {
struct PredictOptions {
  std::string checkpoint, tta;
  std::vector<std::string> images;
  int64_t top = 5;
  int threads = 0;
  std::string precision, device = "cpu";
};

int run_predict(const PredictOptions& o) {
  if (o.threads > 0) set_num_threads(o.threads);
  const Device dev = parse_device(o.device);  // before any file: names the devices that exist
  const train::Checkpoint ck = train::load_checkpoint(o.checkpoint);
  auto model = train::model_from_checkpoint(ck);
  if (!dev.is_cpu()) model->to(dev);  // the model on the GPU; predict_proba sends each image there
  const bool flip = (o.tta.empty() ? ck.config.aug.tta : o.tta) == "flip";
  int failures = 0;
  for (const auto& path : o.images) {
    Tensor x;
    try {
      // The deterministic preprocessing of training: channels, size, then normalization.
      x = train::load_input_image(ck, path).input;
    } catch (const Error& e) {
      std::fprintf(stderr, "convnet: error: %s\n", e.what());
      ++failures;
      continue;
    }
    Tensor probs;
    {
      // The precision the run trained in, unless --precision says otherwise.
      autocast guard(parse_precision(o.precision.empty() ? ck.config.compute.precision : o.precision));
      probs = train::predict_proba(*model, x, flip);
    }
    const int64_t K = probs.size(1);
    std::vector<int64_t> order(static_cast<size_t>(K));
    std::iota(order.begin(), order.end(), int64_t{0});
    const float* q = probs.data();
    const int64_t top = std::min(o.top, K);
    std::partial_sort(order.begin(), order.begin() + top, order.end(),
                      [&](int64_t i, int64_t j) { return q[i] > q[j] || (q[i] == q[j] && i < j); });
    std::printf("%s\n", path.c_str());
    for (int64_t r = 0; r < top; ++r) {
      const int64_t k = order[r];
      const std::string name = k < static_cast<int64_t>(ck.class_names.size()) ? ck.class_names[k] : std::to_string(k);
      std::printf("  %lld. %-24s %7.3f%%  (class %lld)\n", (long long)(r + 1), name.c_str(), 100.0 * q[k],
                  (long long)k);
    }
  }
  std::fflush(stdout);
  if (failures) {
    std::fprintf(stderr, "convnet: %d of %zu images could not be read\n", failures, o.images.size());
    return 1;
  }
  return 0;
}
}  // namespace

Command add_predict(CLI::App& app) {
  auto o = std::make_shared<PredictOptions>();
  auto* pr =
      app.add_subcommand("predict",
                         "Classify image files (PNG, JPEG, BMP, ...) with a training checkpoint: the top classes with "
                         "their probabilities");
  pr->add_option("-c,--checkpoint", o->checkpoint, "Checkpoint file, or a run directory (its last.safetensors)")
      ->required();
  pr->add_option("images", o->images, "Image files")->required();
  pr->add_option("-k,--top", o->top, "How many classes to print per image")->capture_default_str()->check(positive());
  pr->add_option("--tta", o->tta,
                 "Test-time augmentation: none | flip (the mean of the softmax probabilities of the image and its "
                 "mirror image; default: as in training)")
      ->check(CLI::IsMember({"none", "flip"}));
  pr->add_option("-j,--threads", o->threads, "Threads (0 = all cores)")->check(non_negative());
  pr->add_option("--device", o->device, "cpu, cuda or cuda:N: predict on a GPU")->capture_default_str();
  pr->add_option("--precision", o->precision,
                 "fp32, bf16 or fp16 (mixed precision); default: the precision the checkpoint was trained in")
      ->check(CLI::IsMember({"fp32", "bf16", "fp16"}));
  return {pr, [o] { return run_predict(*o); }};
}

}  // namespace convnet::cli
