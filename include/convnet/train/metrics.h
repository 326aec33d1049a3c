#pragma once
// Evaluation metrics (top-k accuracy, per-class accuracy, confusion matrix, mean cross
// entropy), flip test-time augmentation, and the per-epoch metrics log of a run.
#include <cstdint>
#include <string>
#include <vector>

#include "convnet/core/tensor.h"
#include "convnet/data/dataset.h"
#include "convnet/nn/module.h"
#include "convnet/train/trainer.h"

namespace convnet::train {

// x reversed along W: (N, C, H, W) -> (N, C, H, W).
Tensor hflip(const Tensor& x);

// Class probabilities (N, K) of `model` on x in eval mode, without recording a graph.
// tta_flip: the mean of softmax(model(x)) and softmax(model(hflip(x))).
Tensor predict_proba(nn::Module& model, const Tensor& x, bool tta_flip = false);

struct EvalResult {
  int64_t n = 0, num_classes = 0;
  double loss = 0;  // mean cross entropy -log p[label] (of the averaged probabilities with TTA)
  double top1 = 0, top5 = 0;
  // confusion[t * K + p]: images of true class t predicted as p.
  std::vector<int64_t> confusion;
  // Correct / total per true class (NaN for a class without images).
  std::vector<double> per_class_accuracy() const;
};

// Evaluates `model` (in eval mode; its mode is restored) on an already normalized dataset.
EvalResult evaluate_full(nn::Module& model, const data::Dataset& d, int64_t batch_size = 1000, bool tta_flip = false);

// The confusion matrix as aligned text: rows true classes, columns predictions (indices,
// with a legend of the class names), per-class accuracy at the end of each row.
std::string confusion_text(const EvalResult& r, const std::vector<std::string>& class_names);

// A PNG picture of the row-normalized confusion matrix (white = 0, dark blue = 1), one
// square cell per (true, predicted) pair, a grid between cells. Errors name the file.
void write_confusion_png(const std::string& path, const EvalResult& r);

// The metrics log of a run directory: "metrics.jsonl", one JSON object per epoch
//   {"epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds",
//    "images_per_second", "best"}
// Rewritten whole (atomically) from the history each epoch, so a resumed run never holds
// lines of epochs that its checkpoint does not know.
std::string metrics_jsonl(const std::vector<EpochStats>& history);
void write_metrics_log(const std::string& run_dir, const std::vector<EpochStats>& history);

}  // namespace convnet::train
