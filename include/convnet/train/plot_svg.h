#pragma once
#pragma GCC visibility push(default)
/// \file
/// Standalone SVG line charts (no script, no external style): the learning curves of a run.
#include <string>
#include <utility>
#include <vector>

#include "convnet/train/trainer.h"

namespace convnet::train {

/// One line of a chart.
struct Series {
  std::string name;       ///< Legend text.
  std::vector<double> y;  ///< One value per x value; values that are not finite are left out.
  std::string color;      ///< Any SVG color, e.g. "#1f77b4".
};

/// One chart, 640 x 400 pixels: x against every series (one `polyline` per series with a
/// marker per point), a grid of about 5 steps of 1, 2 or 5 times a power of ten, axis
/// labels, a title and a legend. Text is escaped for XML.
/// log_y plots log10(y) (positive values only) and says "(log scale)" on the y axis.
/// \pre  The series' values pair with `x` by index (points beyond `x.size()` are left out).
/// \post Returns a standalone SVG document (with its XML declaration); a value that is not
///       finite, or not positive with `log_y`, gets no point.
std::string line_chart_svg(const std::string& title, const std::string& x_label, const std::string& y_label,
                           const std::vector<double>& x, const std::vector<Series>& series, bool log_y = false);

/// The learning curves of a run as {file name, SVG text} pairs (for pages that inline them):
/// loss.svg (train and validation loss), accuracy.svg (train and validation accuracy, in
/// percent) and lr.svg (learning rate at the start of each epoch), against the epoch.
/// \post Returns the three pairs, in that order.
std::vector<std::pair<std::string, std::string>> training_plot_svgs(const std::vector<EpochStats>& history);
/// Writes the charts of training_plot_svgs() into `run_dir`: loss.svg, accuracy.svg and
/// lr.svg, each atomically.
/// \pre  `run_dir` exists.
/// \post The three files hold the charts of `history`.
/// \throws convnet::Error when a file cannot be written (naming it).
void write_training_plots(const std::string& run_dir, const std::vector<EpochStats>& history);

}  // namespace convnet::train
#pragma GCC visibility pop
