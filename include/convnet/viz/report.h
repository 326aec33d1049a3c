#pragma once
#pragma GCC visibility push(default)
/// \file
/// `convnet report RUN_DIR`: one self-contained HTML page about a training run, readable
/// offline (inline SVG, CSS and script; pictures as base64 data URIs; nothing fetched):
/// learning curves and learning rate (the charts of train::training_plot_svgs), top-1/top-5,
/// the confusion matrix and per-class accuracy of the evaluation split, a grid of test
/// images with predicted and true labels (mistakes first), the model summary and the
/// first convolution layer's kernels.
/// The page's script records any JavaScript error in the element with id "status"
/// (data-status="error"), and writes data-status="ok" when it has run to the end.
#include <string>

namespace convnet::viz {

/// What write_report() evaluates and where it writes.
struct ReportOptions {
  std::string checkpoint;      ///< Empty: best.safetensors of the run if present, else last.safetensors.
  std::string split = "test";  ///< The split to evaluate: "test", "train" or "val" (train::load_checkpoint_split).
  std::string data_dir;        ///< Empty: the one the run was trained on.
  int64_t images = 48;         ///< Tiles in the image grid.
  int64_t batch_size = 1000;   ///< Batch size of the evaluation; positive.
  std::string out;             ///< Path of the page; empty: RUN_DIR/report.html.
};

/// What write_report() wrote and measured.
struct ReportResult {
  std::string path;        ///< The page written.
  std::string checkpoint;  ///< The checkpoint file evaluated.
  /// Top-1 accuracy on the split, a fraction in [0, 1].
  double top1 = 0, top5 = 0;  ///< Top-5 accuracy on the split, a fraction in [0, 1].
  /// Images evaluated.
  int64_t evaluated = 0, mistakes_shown = 0, /**< Mistakes in the image grid. */ images_shown = 0;  ///< Grid tiles.
};

/// Evaluates the run's checkpoint on the split and writes the page.
/// The image grid shows `options.images` of the first max(2000, `options.images`) images of
/// the split with their predictions, mistakes first (at most two thirds of the grid while
/// correct predictions remain). The learning curves come from the run's last.safetensors; the evaluation uses
/// the run's test-time augmentation.
/// \pre  `run_dir` is a run directory (the `--out` of `convnet train`) with last.safetensors;
///       `options.batch_size` > 0.
/// \post `options.out` (default `run_dir`/report.html) holds the page, written atomically;
///       returns its path, the checkpoint, the accuracies and the grid's counts.
/// \throws convnet::Error when `run_dir` is not a directory, or has no last.safetensors
///         (naming it); a checkpoint cannot be read or its model built (naming the file);
///         the split cannot be loaded or does not fit the model; or the page cannot be
///         written.
ReportResult write_report(const std::string& run_dir, const ReportOptions& options = {});

}  // namespace convnet::viz
#pragma GCC visibility pop
