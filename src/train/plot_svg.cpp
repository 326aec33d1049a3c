#include "convnet/train/plot_svg.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "convnet/train/checkpoint.h"

namespace convnet::train {

namespace {
constexpr double kW = 640, kH = 400, kLeft = 72, kRight = 150, kTop = 40, kBottom = 52;

std::string esc(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '&')
      o += "&amp;";
    else if (c == '<')
      o += "&lt;";
    else if (c == '>')
      o += "&gt;";
    else if (c == '"')
      o += "&quot;";
    else
      o += c;
  }
  return o;
}

std::string fixed2(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f", v);
  return b;
}

std::string label(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.4g", v);
  return b;
}

// A "nice" tick step (1, 2 or 5 times a power of ten) giving about `n` intervals.
double nice_step(double range, int n) {
  const double raw = range / n;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / p;
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * p;
}
}  // namespace

std::string line_chart_svg(const std::string& title, const std::string& x_label, const std::string& y_label,
                           const std::vector<double>& x, const std::vector<Series>& series, bool log_y) {
  auto ty = [&](double v) { return log_y ? std::log10(v) : v; };
  auto ok = [&](double v) { return std::isfinite(v) && (!log_y || v > 0); };
  double x0 = x.empty() ? 0 : *std::min_element(x.begin(), x.end());
  double x1 = x.empty() ? 1 : *std::max_element(x.begin(), x.end());
  double y0 = INFINITY, y1 = -INFINITY;
  for (const auto& s : series)
    for (size_t i = 0; i < s.y.size() && i < x.size(); ++i)
      if (ok(s.y[i])) y0 = std::min(y0, ty(s.y[i])), y1 = std::max(y1, ty(s.y[i]));
  if (!(y0 <= y1)) y0 = 0, y1 = 1;
  if (x1 - x0 <= 0) x0 -= 0.5, x1 += 0.5;  // one epoch: centre it
  if (y1 - y0 <= 0) {
    const double d = std::abs(y0) > 0 ? std::abs(y0) * 0.1 : 1;
    y0 -= d, y1 += d;
  }
  const double pad = 0.05 * (y1 - y0);
  y0 -= pad, y1 += pad;
  const double pw = kW - kLeft - kRight, ph = kH - kTop - kBottom;
  auto px = [&](double v) { return kLeft + (v - x0) / (x1 - x0) * pw; };
  auto py = [&](double v) { return kTop + (1 - (v - y0) / (y1 - y0)) * ph; };

  std::string o;
  o += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  o += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + fixed2(kW) + "\" height=\"" + fixed2(kH) +
       "\" viewBox=\"0 0 " + fixed2(kW) + " " + fixed2(kH) + "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  o += "<rect x=\"0\" y=\"0\" width=\"" + fixed2(kW) + "\" height=\"" + fixed2(kH) + "\" fill=\"white\"/>\n";
  o += "<text x=\"" + fixed2(kLeft + pw / 2) + "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">" + esc(title) +
       "</text>\n";
  // Grid and tick labels.
  const double ys = nice_step(y1 - y0, 5);
  for (double v = std::ceil(y0 / ys) * ys; v <= y1 + 1e-12 * std::abs(y1); v += ys) {
    o += "<line x1=\"" + fixed2(kLeft) + "\" y1=\"" + fixed2(py(v)) + "\" x2=\"" + fixed2(kLeft + pw) + "\" y2=\"" +
         fixed2(py(v)) + "\" stroke=\"#dddddd\"/>\n";
    o += "<text x=\"" + fixed2(kLeft - 6) + "\" y=\"" + fixed2(py(v) + 4) + "\" text-anchor=\"end\">" +
         esc(label(log_y ? std::pow(10.0, v) : v)) + "</text>\n";
  }
  const double xs = std::max(1.0, nice_step(x1 - x0, 5));  // epochs are integers
  for (double v = std::ceil(x0 / xs) * xs; v <= x1 + 1e-9; v += xs) {
    o += "<line x1=\"" + fixed2(px(v)) + "\" y1=\"" + fixed2(kTop + ph) + "\" x2=\"" + fixed2(px(v)) + "\" y2=\"" +
         fixed2(kTop + ph + 5) + "\" stroke=\"black\"/>\n";
    o += "<text x=\"" + fixed2(px(v)) + "\" y=\"" + fixed2(kTop + ph + 19) + "\" text-anchor=\"middle\">" +
         esc(label(v)) + "</text>\n";
  }
  o += "<rect x=\"" + fixed2(kLeft) + "\" y=\"" + fixed2(kTop) + "\" width=\"" + fixed2(pw) + "\" height=\"" +
       fixed2(ph) + "\" fill=\"none\" stroke=\"black\"/>\n";
  o += "<text x=\"" + fixed2(kLeft + pw / 2) + "\" y=\"" + fixed2(kH - 10) + "\" text-anchor=\"middle\">" +
       esc(x_label) + "</text>\n";
  o += "<text x=\"16\" y=\"" + fixed2(kTop + ph / 2) + "\" text-anchor=\"middle\" transform=\"rotate(-90 16 " +
       fixed2(kTop + ph / 2) + ")\">" + esc(y_label) + (log_y ? " (log scale)" : "") + "</text>\n";
  // One polyline per series, with a marker per point so a single epoch still shows.
  for (size_t si = 0; si < series.size(); ++si) {
    const Series& s = series[si];
    std::string pts, marks;
    for (size_t i = 0; i < s.y.size() && i < x.size(); ++i) {
      if (!ok(s.y[i])) continue;
      const std::string X = fixed2(px(x[i])), Y = fixed2(py(ty(s.y[i])));
      pts += (pts.empty() ? "" : " ") + X + "," + Y;
      marks += "<circle cx=\"" + X + "\" cy=\"" + Y + "\" r=\"2.5\" fill=\"" + esc(s.color) + "\"/>\n";
    }
    o += "<polyline fill=\"none\" stroke=\"" + esc(s.color) + "\" stroke-width=\"2\" points=\"" + pts + "\"/>\n";
    o += marks;
    const double ly = kTop + 10 + 20.0 * static_cast<double>(si);
    o += "<line x1=\"" + fixed2(kW - kRight + 12) + "\" y1=\"" + fixed2(ly) + "\" x2=\"" + fixed2(kW - kRight + 36) +
         "\" y2=\"" + fixed2(ly) + "\" stroke=\"" + esc(s.color) + "\" stroke-width=\"2\"/>\n";
    o += "<text x=\"" + fixed2(kW - kRight + 42) + "\" y=\"" + fixed2(ly + 4) + "\">" + esc(s.name) + "</text>\n";
  }
  o += "</svg>\n";
  return o;
}

std::vector<std::pair<std::string, std::string>> training_plot_svgs(const std::vector<EpochStats>& h) {
  std::vector<double> x, tl, vl, ta, va, lr;
  for (const auto& e : h) {
    x.push_back(static_cast<double>(e.epoch));
    tl.push_back(e.train_loss), vl.push_back(e.val_loss);
    ta.push_back(100 * e.train_acc), va.push_back(100 * e.val_acc);
    lr.push_back(e.lr);
  }
  const std::string blue = "#1f77b4", orange = "#ff7f0e", green = "#2ca02c";
  return {{"loss.svg",
           line_chart_svg("Loss", "epoch", "cross entropy", x, {{"train", tl, blue}, {"validation", vl, orange}})},
          {"accuracy.svg",
           line_chart_svg("Accuracy", "epoch", "accuracy (%)", x, {{"train", ta, blue}, {"validation", va, orange}})},
          {"lr.svg", line_chart_svg("Learning rate", "epoch", "learning rate (epoch start)", x, {{"lr", lr, green}})}};
}

void write_training_plots(const std::string& run_dir, const std::vector<EpochStats>& h) {
  for (const auto& [name, svg] : training_plot_svgs(h))
    write_file_atomic((std::filesystem::path(run_dir) / name).string(), svg);
}

}  // namespace convnet::train
