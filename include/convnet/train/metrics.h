#pragma once
#pragma GCC visibility push(default)
/// \file
/// Evaluation metrics (top-k accuracy, per-class accuracy, confusion matrix, mean cross
/// entropy), flip test-time augmentation, and the per-epoch metrics log of a run.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "convnet/core/tensor.h"
#include "convnet/data/dataset.h"
#include "convnet/nn/module.h"
#include "convnet/train/trainer.h"

namespace convnet::train {

/// `x` reversed along W (mirror images), as a new tensor.
/// \pre  `x` is a float32 (N, C, H, W) tensor on the CPU.
/// \post Returns a tensor of the same shape; `x` is unchanged; no autograd graph is recorded.
/// \throws convnet::Error when `x` is not 4-dimensional (naming its shape).
Tensor hflip(const Tensor& x);

/// Class probabilities (N, K) of `model` on `x` in eval mode, without recording a graph.
/// With `tta_flip`: the mean of softmax(model(x)) and softmax(model(hflip(x))), averaged
/// in log space so that tiny probabilities do not underflow.
/// \pre  `x` is a batch the model accepts, (N, C, H, W); the model gives logits (N, K).
/// \post Returns the probabilities; the model's train/eval mode is what it was.
/// \throws convnet::Error as the model's forward pass does (e.g. a wrong input shape).
Tensor predict_proba(nn::Module& model, const Tensor& x, bool tta_flip = false);

/// The metrics of one evaluation (evaluate_full()).
struct EvalResult {
  /// Images evaluated.
  int64_t n = 0, num_classes = 0;  ///< K, the model's number of outputs (0 when nothing was evaluated).
  double loss = 0;  ///< Mean cross entropy -log p[label] (of the averaged probabilities with TTA).
  /// Top-1 accuracy, a fraction in [0, 1].
  double top1 = 0, top5 = 0;  ///< Top-5 accuracy: fewer than 5 classes score above the true one.
  /// `confusion[t * K + p]`: images of true class t predicted as p (K x K entries).
  std::vector<int64_t> confusion;
  /// Correct / total per true class.
  /// \post Returns `num_classes` fractions in [0, 1], NaN for a class without images.
  std::vector<double> per_class_accuracy() const;
};

/// Evaluates `model` on an already normalized dataset, in batches.
/// The prediction is the first maximum of the scores, as torch.argmax.
/// \pre  `batch_size` > 0; the labels of `d` are in [0, K) for the model's K outputs.
/// \post Returns the metrics (all zero for an empty dataset); the model's train/eval mode is
///       what it was; no autograd graph is recorded. `on_batch(done, total)`, when given, is
///       called after each batch with the number of images done so far (a progress display).
/// \throws convnet::Error when `batch_size` is not positive, or a label is outside the
///         model's classes (naming the label and the image index).
EvalResult evaluate_full(nn::Module& model, const data::Dataset& d, int64_t batch_size = 1000, bool tta_flip = false,
                         const std::function<void(int64_t done, int64_t total)>& on_batch = {});

/// The confusion matrix as aligned text: rows true classes, columns predictions (by
/// index); each row ends with the class's accuracy (or "-" without images) and its name.
/// \pre  `r` comes from evaluate_full(); `class_names` may be shorter than the classes
///       (rows without a name show none).
/// \post Returns a title line, a header line and one line per class.
std::string confusion_text(const EvalResult& r, const std::vector<std::string>& class_names);

/// Writes a PNG picture of the row-normalized confusion matrix (white = 0, dark blue = 1), one
/// square cell per (true, predicted) pair, a gray grid between cells.
/// \pre  `r` comes from evaluate_full() with at least one image; the directory of `path`
///       exists.
/// \post `path` holds the picture, written atomically (viz::write_png).
/// \throws convnet::Error when nothing was evaluated, or the file cannot be written
///         (naming the file).
void write_confusion_png(const std::string& path, const EvalResult& r);

/// The text of a run's metrics log: one JSON object per epoch, one per line, with the keys
/// "epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "images_per_second",
/// "seconds", "best", and with loss scaling "loss_scale" and "skipped_steps".
/// \post Returns the lines, each ending in a newline (empty for an empty history).
std::string metrics_jsonl(const std::vector<EpochStats>& history);
/// Writes the metrics log of a run directory, "metrics.jsonl" (see metrics_jsonl()).
/// Rewritten whole (atomically) from the history each epoch, so a resumed run never holds
/// lines of epochs that its checkpoint does not know.
/// \pre  `run_dir` exists.
/// \post `run_dir`/metrics.jsonl holds `metrics_jsonl(history)`.
/// \throws convnet::Error when the file cannot be written (naming it).
void write_metrics_log(const std::string& run_dir, const std::vector<EpochStats>& history);

}  // namespace convnet::train
#pragma GCC visibility pop
