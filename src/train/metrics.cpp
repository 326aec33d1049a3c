#include "convnet/train/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>

#include "convnet/autograd/autograd.h"
#include "convnet/core/error.h"
#include "convnet/ops/softmax.h"
#include "convnet/train/checkpoint.h"
#include "convnet/viz/picture.h"
#include "json_io.h"

namespace convnet::train {

Tensor hflip(const Tensor& x) {
  CONVNET_CHECK(x.dim() == 4, "hflip: expected (N, C, H, W), got ", shape_str(x.shape()));
  const int64_t rows = x.numel() / x.size(3), W = x.size(3);
  Tensor y = Tensor::empty(x.shape());
  const float* s = x.data();
  float* d = y.data();
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t w = 0; w < W; ++w) d[r * W + w] = s[r * W + (W - 1 - w)];
  return y;
}

namespace {
// log p of the prediction, (N, K). With flip TTA, log((p1 + p2) / 2) computed as
// logaddexp(lp1, lp2) - log 2, so tiny probabilities do not underflow to log 0.
Tensor predict_log_proba(nn::Module& model, const Tensor& x, bool tta_flip) {
  NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  // On the model's device (where its first parameter is); the logits come back to the host.
  const auto params = model.parameters();
  const Device dev = params.empty() ? Device::cpu() : params.front().device();
  const auto logits = [&](const Tensor& in) { return model(in.to(dev)).to(Device::cpu()); };
  Tensor lp = ops::log_softmax(logits(x), 1);
  if (tta_flip) {
    Tensor lp2 = ops::log_softmax(logits(hflip(x)), 1);
    float* a = lp.data();
    const float* b = lp2.data();
    for (int64_t i = 0; i < lp.numel(); ++i) {
      const float m = std::max(a[i], b[i]);
      a[i] = m + std::log(std::exp(a[i] - m) + std::exp(b[i] - m)) - static_cast<float>(std::log(2.0));
    }
  }
  model.train(was_training);
  return lp;
}
}  // namespace

Tensor predict_proba(nn::Module& model, const Tensor& x, bool tta_flip) {
  Tensor p = predict_log_proba(model, x, tta_flip);
  float* v = p.data();
  for (int64_t i = 0; i < p.numel(); ++i) v[i] = std::exp(v[i]);
  return p;
}

std::vector<double> EvalResult::per_class_accuracy() const {
  std::vector<double> acc(static_cast<size_t>(num_classes), std::numeric_limits<double>::quiet_NaN());
  for (int64_t t = 0; t < num_classes; ++t) {
    int64_t total = 0;
    for (int64_t p = 0; p < num_classes; ++p) total += confusion[t * num_classes + p];
    if (total > 0) acc[t] = static_cast<double>(confusion[t * num_classes + t]) / static_cast<double>(total);
  }
  return acc;
}

EvalResult evaluate_full(nn::Module& model, const data::Dataset& d, int64_t batch_size, bool tta_flip,
                         const std::function<void(int64_t done, int64_t total)>& on_batch) {
  CONVNET_CHECK(batch_size > 0, "evaluate: batch size must be positive, got ", batch_size);
  EvalResult r;
  r.n = d.size();
  if (r.n == 0) return r;
  const Shape s = d.images.shape();
  const int64_t sample = d.images.numel() / s[0];
  double loss = 0;
  int64_t top1 = 0, top5 = 0;
  for (int64_t b0 = 0; b0 < r.n; b0 += batch_size) {
    const int64_t B = std::min(batch_size, r.n - b0);
    Shape bs = s;
    bs[0] = B;
    Tensor x = Tensor::empty(bs);
    std::memcpy(x.data(), d.images.data() + b0 * sample, sizeof(float) * static_cast<size_t>(B * sample));
    Tensor lp = predict_log_proba(model, x, tta_flip);
    const int64_t K = lp.size(1);
    if (r.num_classes == 0) {
      r.num_classes = K;
      r.confusion.assign(static_cast<size_t>(K * K), 0);
    }
    const float* p = lp.data();
    for (int64_t n = 0; n < B; ++n) {
      const int64_t y = d.labels[b0 + n];
      CONVNET_CHECK(y >= 0 && y < K, "evaluate: label ", y, " of image ", b0 + n, " is outside the model's ", K,
                    " classes");
      const float* row = p + n * K;
      const int64_t pred = std::max_element(row, row + K) - row;  // first maximum, as torch.argmax
      int64_t above = 0;  // classes scored strictly higher than the true one: its rank
      for (int64_t k = 0; k < K; ++k) above += row[k] > row[y];
      top1 += pred == y;
      top5 += above < 5;
      loss -= row[y];
      ++r.confusion[y * K + pred];
    }
    if (on_batch) on_batch(b0 + B, r.n);
  }
  r.loss = loss / static_cast<double>(r.n);
  r.top1 = static_cast<double>(top1) / static_cast<double>(r.n);
  r.top5 = static_cast<double>(top5) / static_cast<double>(r.n);
  return r;
}

std::string confusion_text(const EvalResult& r, const std::vector<std::string>& names) {
  const int64_t K = r.num_classes;
  int64_t biggest = K;
  for (int64_t v : r.confusion) biggest = std::max(biggest, v);
  const int w = static_cast<int>(std::to_string(biggest).size()) + 1;
  auto pad = [](const std::string& s, int width) {
    return std::string(static_cast<size_t>(std::max(0, width - static_cast<int>(s.size()))), ' ') + s;
  };
  std::string out = "confusion matrix (rows: true class, columns: predicted class)\n";
  out += pad("", w + 1);
  for (int64_t p = 0; p < K; ++p) out += pad(std::to_string(p), w);
  out += "  accuracy\n";
  const auto acc = r.per_class_accuracy();
  for (int64_t t = 0; t < K; ++t) {
    out += pad(std::to_string(t), w) + " ";
    for (int64_t p = 0; p < K; ++p) out += pad(std::to_string(r.confusion[t * K + p]), w);
    char buf[32];
    if (std::isnan(acc[t]))
      std::snprintf(buf, sizeof buf, "  %8s", "-");
    else
      std::snprintf(buf, sizeof buf, "  %7.2f%%", 100 * acc[t]);
    out += buf;
    if (t < static_cast<int64_t>(names.size())) out += "  " + names[t];
    out += "\n";
  }
  return out;
}

void write_confusion_png(const std::string& path, const EvalResult& r) {
  const int K = static_cast<int>(r.num_classes);
  CONVNET_CHECK(K > 0, "confusion matrix: nothing was evaluated, no picture for '", path, "'");
  const int cell = std::clamp(640 / K, 4, 40);
  const int side = K * cell + K + 1;  // cells and 1-pixel grid lines
  viz::Picture img(side, side, 160);  // grid gray
  for (int t = 0; t < K; ++t) {
    int64_t total = 0;
    for (int p = 0; p < K; ++p) total += r.confusion[t * K + p];
    for (int p = 0; p < K; ++p) {
      const double v = total ? static_cast<double>(r.confusion[t * K + p]) / static_cast<double>(total) : 0.0;
      // White to dark blue (matplotlib's "Blues" end points).
      const unsigned char rgb[3] = {static_cast<unsigned char>(255 - v * (255 - 8)),
                                    static_cast<unsigned char>(255 - v * (255 - 48)),
                                    static_cast<unsigned char>(255 - v * (255 - 107))};
      for (int y = 0; y < cell; ++y)
        for (int x = 0; x < cell; ++x) std::memcpy(img.at(1 + p * (cell + 1) + x, 1 + t * (cell + 1) + y), rgb, 3);
    }
  }
  viz::write_png(path, img);
}

std::string metrics_jsonl(const std::vector<EpochStats>& history) {
  std::string out;
  for (const auto& e : history) {
    // Keys in reading order (a plain json object would sort them).
    nlohmann::ordered_json j;
    j["epoch"] = e.epoch;
    j["train_loss"] = e.train_loss, j["train_acc"] = e.train_acc;
    j["val_loss"] = e.val_loss, j["val_acc"] = e.val_acc;
    j["lr"] = e.lr, j["images_per_second"] = e.images_per_second, j["seconds"] = e.seconds;
    j["best"] = e.best;
    if (e.loss_scale > 0) j["loss_scale"] = e.loss_scale, j["skipped_steps"] = e.skipped_steps;
    out += j.dump() + "\n";
  }
  return out;
}

void write_metrics_log(const std::string& run_dir, const std::vector<EpochStats>& history) {
  write_file_atomic((std::filesystem::path(run_dir) / "metrics.jsonl").string(), metrics_jsonl(history));
}

}  // namespace convnet::train
