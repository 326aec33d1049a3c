#pragma once
// `convnet report RUN_DIR`: one self-contained HTML page about a training run, readable
// offline (inline SVG, CSS and script; pictures as base64 data URIs; nothing fetched):
// learning curves and learning rate (the charts of train::training_plot_svgs), top-1/top-5,
// the confusion matrix and per-class accuracy of the evaluation split, a grid of test
// images with predicted and true labels (mistakes first), the model summary and the
// first convolution layer's kernels.
// The page's script records any JavaScript error in the element #status
// (data-status="error"), and writes data-status="ok" when it has run to the end.
#include <string>

namespace convnet::viz {

struct ReportOptions {
  std::string checkpoint;  // empty: best.safetensors of the run if present, else last.safetensors
  std::string split = "test";
  std::string data_dir;  // empty: the one the run was trained on
  int64_t images = 48;   // tiles in the image grid
  int64_t batch_size = 1000;
  std::string out;  // empty: RUN_DIR/report.html
};

struct ReportResult {
  std::string path;  // the page written
  std::string checkpoint;
  double top1 = 0, top5 = 0;
  int64_t evaluated = 0, mistakes_shown = 0, images_shown = 0;
};

// Evaluates the run's checkpoint on the split and writes the page. Errors name the run
// directory or the checkpoint and what is missing.
ReportResult write_report(const std::string& run_dir, const ReportOptions& options = {});

}  // namespace convnet::viz
