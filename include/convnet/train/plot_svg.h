#pragma once
// Standalone SVG line charts (no script, no external style): the learning curves of a run.
#include <string>
#include <utility>
#include <vector>

#include "convnet/train/trainer.h"

namespace convnet::train {

struct Series {
  std::string name;  // legend text
  std::vector<double> y;
  std::string color;  // any SVG color, e.g. "#1f77b4"
};

// One chart: x against every series (one <polyline> per series with one point per finite
// value), axes with 5 ticks, a legend. log_y plots log10(y) (positive values only).
std::string line_chart_svg(const std::string& title, const std::string& x_label, const std::string& y_label,
                           const std::vector<double>& x, const std::vector<Series>& series, bool log_y = false);

// Writes loss.svg (train and validation loss), accuracy.svg (train and validation
// accuracy, %) and lr.svg (learning rate at the start of each epoch) into run_dir.
// The same charts as {file name, SVG text} pairs (for pages that inline them).
std::vector<std::pair<std::string, std::string>> training_plot_svgs(const std::vector<EpochStats>& history);
void write_training_plots(const std::string& run_dir, const std::vector<EpochStats>& history);

}  // namespace convnet::train
