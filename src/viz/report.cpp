// `convnet report`: one self-contained HTML page about a training run.
#include "convnet/viz/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <sstream>

#include "convnet/core/error.h"
#include "convnet/nn/summary.h"
#include "convnet/train/checkpoint.h"
#include "convnet/train/inputs.h"
#include "convnet/train/metrics.h"
#include "convnet/train/plot_svg.h"
#include "convnet/viz/commands.h"
#include "convnet/viz/visualize.h"

namespace convnet::viz {

namespace fs = std::filesystem;

namespace {

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

std::string name_of(const std::vector<std::string>& names, int64_t k) {
  return k < static_cast<int64_t>(names.size()) ? names[k] : std::to_string(k);
}

// Inline SVG: drop the XML declaration a standalone file needs.
std::string inline_svg(const std::string& svg) {
  const auto at = svg.find("<svg");
  return at == std::string::npos ? svg : svg.substr(at);
}

// Horizontal bars, one per class: accuracy in percent.
std::string per_class_svg(const std::vector<double>& acc, const std::vector<std::string>& names) {
  const double row = 22, left = 150, width = 360, top = 10;
  const double H = top * 2 + row * static_cast<double>(acc.size()) + 20;
  std::ostringstream s;
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"" << left + width + 70 << "\" height=\"" << H
    << "\" font-family=\"sans-serif\" font-size=\"12\">";
  for (size_t k = 0; k < acc.size(); ++k) {
    const double y = top + row * static_cast<double>(k);
    const double a = std::isnan(acc[k]) ? 0 : acc[k];
    s << "<text x=\"" << left - 6 << "\" y=\"" << y + 15 << "\" text-anchor=\"end\">"
      << html_escape(name_of(names, static_cast<int64_t>(k))) << "</text>";
    s << "<rect x=\"" << left << "\" y=\"" << y + 3 << "\" width=\"" << width << "\" height=\"" << row - 6
      << "\" fill=\"#eee\"/>";
    s << "<rect class=\"bar\" x=\"" << left << "\" y=\"" << y + 3 << "\" width=\"" << width * a << "\" height=\""
      << row - 6 << "\" fill=\"#1f77b4\"><title>" << html_escape(name_of(names, static_cast<int64_t>(k))) << ": "
      << (std::isnan(acc[k]) ? std::string("no images") : fmt("%.2f%%", 100 * a)) << "</title></rect>";
    s << "<text x=\"" << left + width + 6 << "\" y=\"" << y + 15 << "\">"
      << (std::isnan(acc[k]) ? std::string("-") : fmt("%.1f%%", 100 * a)) << "</text>";
  }
  const double y = top + row * static_cast<double>(acc.size()) + 14;
  for (int t = 0; t <= 4; ++t)
    s << "<text x=\"" << left + width * t / 4 << "\" y=\"" << y << "\" text-anchor=\"middle\" fill=\"#666\">" << 25 * t
      << "%</text>";
  s << "</svg>";
  return s.str();
}

// Rows: true classes; columns: predictions; cells colored by the row fraction.
std::string confusion_table(const train::EvalResult& r, const std::vector<std::string>& names) {
  const int64_t K = r.num_classes;
  const bool small = K <= 30;
  std::ostringstream s;
  s << "<table class=\"confusion\"><tr><th class=\"corner\">true \\ predicted</th>";
  for (int64_t p = 0; p < K; ++p) s << "<th title=\"" << html_escape(name_of(names, p)) << "\">" << p << "</th>";
  s << "</tr>";
  for (int64_t t = 0; t < K; ++t) {
    int64_t total = 0;
    for (int64_t p = 0; p < K; ++p) total += r.confusion[t * K + p];
    s << "<tr><th class=\"rowname\">" << t << " " << html_escape(name_of(names, t)) << "</th>";
    for (int64_t p = 0; p < K; ++p) {
      const int64_t n = r.confusion[t * K + p];
      const double v = total ? static_cast<double>(n) / static_cast<double>(total) : 0.0;
      // White to dark blue, as train::write_confusion_png.
      const int R = static_cast<int>(255 - v * (255 - 8)), G = static_cast<int>(255 - v * (255 - 48)),
                B = static_cast<int>(255 - v * (255 - 107));
      s << "<td data-true=\"" << t << "\" data-pred=\"" << p << "\" data-n=\"" << n << "\" data-total=\"" << total
        << "\" style=\"background:rgb(" << R << "," << G << "," << B << ");color:" << (v > 0.5 ? "#fff" : "#222")
        << "\">" << (small ? std::to_string(n) : std::string()) << "</td>";
    }
    s << "</tr>";
  }
  s << "</table>";
  return s.str();
}

// The script: errors go to #status; tooltips for the confusion cells; a filter for the
// image grid. It ends by marking the page "ok", which tests read from the DOM.
const char* kScript = R"JS(
(function () {
  var names = JSON.parse(document.getElementById('class-names').textContent);
  var cells = document.querySelectorAll('table.confusion td');
  for (var i = 0; i < cells.length; i++) {
    var c = cells[i], n = +c.dataset.n, total = +c.dataset.total;
    c.title = 'true ' + names[+c.dataset.true] + ', predicted ' + names[+c.dataset.pred] + ': ' + n +
              (total ? ' (' + (100 * n / total).toFixed(1) + '% of the row)' : '');
  }
  var tiles = document.querySelectorAll('#grid .tile');
  function show(which) {
    var shown = 0;
    for (var i = 0; i < tiles.length; i++) {
      var wrong = tiles[i].classList.contains('wrong');
      var on = which === 'all' || (which === 'wrong') === wrong;
      tiles[i].style.display = on ? '' : 'none';
      if (on) shown++;
    }
    document.getElementById('grid-count').textContent = shown + ' of ' + tiles.length + ' images shown';
  }
  var buttons = document.querySelectorAll('button[data-show]');
  for (var b = 0; b < buttons.length; b++)
    buttons[b].addEventListener('click', function (e) { show(e.target.dataset.show); });
  show('all');
  var st = document.getElementById('status');
  if (st.dataset.status !== 'error') {
    st.dataset.status = 'ok';
    st.textContent = 'report-ok: ' + document.querySelectorAll('svg').length + ' charts, ' + tiles.length + ' images';
  }
})();
)JS";

const char* kStyle =
    "body{font-family:sans-serif;margin:2em auto;max-width:1150px;color:#222;padding:0 1em}"
    "h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}"
    ".charts{display:flex;flex-wrap:wrap;gap:10px}.charts svg{max-width:100%;height:auto;border:1px solid #eee}"
    ".curves svg{width:32%}"
    "table.confusion{border-collapse:collapse;font-size:12px}table.confusion td,table.confusion th{border:1px solid "
    "#ccc;padding:3px 6px;text-align:right}th.rowname{text-align:left;white-space:nowrap}"
    "#grid{display:flex;flex-wrap:wrap;gap:6px}.tile{width:92px;font-size:11px;text-align:center;border:3px solid "
    "#2ca02c;padding:2px}.tile.wrong{border-color:#d62728}.tile img{width:84px;height:84px;image-rendering:pixelated}"
    "pre{background:#f6f6f6;padding:1em;overflow-x:auto;font-size:12px}"
    "img.kernels{image-rendering:pixelated;border:1px solid #ccc}#status{font-size:11px;color:#888}"
    "#status[data-status=error]{color:#d62728;font-size:16px;font-weight:bold}"
    ".stats td{padding:2px 12px 2px 0}";

}  // namespace

ReportResult write_report(const std::string& run_dir, const ReportOptions& o) {
  CONVNET_CHECK(fs::is_directory(run_dir), "report: '", run_dir,
                "' is not a run directory (the --out of `convnet train`)");
  ReportResult res;
  // History from last.safetensors (the whole run); the model from best.safetensors when the
  // run has one, as `convnet eval` would be pointed at it.
  const train::Checkpoint last = train::load_checkpoint(run_dir);
  std::string ck_path = o.checkpoint;
  if (ck_path.empty())
    ck_path = fs::exists(fs::path(run_dir) / train::kBestCheckpoint)
                  ? (fs::path(run_dir) / train::kBestCheckpoint).string()
                  : last.path;
  const train::Checkpoint ck = ck_path == last.path ? last : train::load_checkpoint(ck_path);
  res.checkpoint = ck.path;
  auto model = train::model_from_checkpoint(ck);
  const data::Dataset d = train::load_checkpoint_split(ck, o.split, "", o.data_dir);
  const auto names = ck.class_names.empty() ? d.class_names : ck.class_names;
  const bool flip = ck.config.aug.tta == "flip";
  const train::EvalResult ev = train::evaluate_full(*model, d, o.batch_size, flip);
  res.top1 = ev.top1, res.top5 = ev.top5, res.evaluated = ev.n;

  // The image grid: predictions for the first images of the split, mistakes first.
  const int64_t pool = std::min<int64_t>(d.size(), std::max<int64_t>(2000, o.images));
  std::vector<int64_t> pred(static_cast<size_t>(pool));
  std::vector<float> conf(static_cast<size_t>(pool));
  for (int64_t b = 0; b < pool; b += o.batch_size) {
    std::vector<int64_t> idx(static_cast<size_t>(std::min(o.batch_size, pool - b)));
    std::iota(idx.begin(), idx.end(), b);
    const Tensor p = train::predict_proba(*model, data::select(d, idx).images, flip);
    const int64_t K = p.size(1);
    for (size_t i = 0; i < idx.size(); ++i) {
      const float* row = p.data() + i * K;
      const int64_t k = std::max_element(row, row + K) - row;
      pred[idx[i]] = k, conf[idx[i]] = row[k];
    }
  }
  std::vector<int64_t> order(static_cast<size_t>(pool));
  std::iota(order.begin(), order.end(), int64_t{0});
  // Mistakes first, but at most two thirds of the grid, so that correct predictions show too.
  const auto first_right =
      std::stable_partition(order.begin(), order.end(), [&](int64_t i) { return pred[i] != d.labels[i]; });
  const int64_t wrong = first_right - order.begin(), right = pool - wrong;
  const int64_t shown = std::min<int64_t>(pool, o.images);
  const int64_t take_wrong = std::min(wrong, std::max(shown - shown / 3, shown - right));
  std::vector<int64_t> picked(order.begin(), order.begin() + take_wrong);
  picked.insert(picked.end(), first_right, first_right + (shown - take_wrong));
  order = picked;
  const int64_t C = d.images.size(1), H = d.images.size(2), W = d.images.size(3);
  std::ostringstream grid;
  for (int64_t i : order) {
    // Back to [0, 1] pixels: x * std + mean.
    Tensor px = Tensor::empty({C, H, W});
    for (int64_t c = 0; c < C; ++c)
      for (int64_t j = 0; j < H * W; ++j)
        px.data()[c * H * W + j] =
            std::clamp(d.images.data()[(i * C + c) * H * W + j] * ck.std[c] + ck.mean[c], 0.f, 1.f);
    const bool wrong = pred[i] != d.labels[i];
    res.mistakes_shown += wrong;
    grid << "<div class=\"tile" << (wrong ? " wrong" : "") << "\"><img src=\"" << png_data_uri(image_picture(px, 1))
         << "\" alt=\"image " << i << "\"><br>#" << i << "<br>pred: <b>" << html_escape(name_of(names, pred[i]))
         << "</b> " << fmt("%.0f%%", 100 * conf[i]) << "<br>true: " << html_escape(name_of(names, d.labels[i]))
         << "</div>";
  }
  res.images_shown = static_cast<int64_t>(order.size());

  const nn::Summary summary = nn::summarize(*model, {C, H, W});
  std::string kernels_html = "<p>The model has no convolution layer.</p>";
  try {
    const std::string first = first_conv_layer(*model);
    const KernelGrid g = kernel_grid(*model, first, 12);
    kernels_html = "<img class=\"kernels\" src=\"" + png_data_uri(g.picture) + "\" alt=\"kernels of layer " +
                   html_escape(first) + "\"><p>Layer " + html_escape(first) + ", weight " + shape_str(g.weight) + ": " +
                   html_escape(g.caption) + ".</p>";
  } catch (const Error&) {
  }

  std::string names_json = "[";
  for (int64_t k = 0; k < ev.num_classes; ++k) {
    std::string n = name_of(names, k), e;
    for (char c : n)
      e += (c == '"' || c == '\\') ? std::string("\\") + c : (c == '<' ? std::string("\\u003c") : std::string(1, c));
    names_json += (k ? ",\"" : "\"") + e + "\"";
  }
  names_json += "]";

  const std::string run_name = fs::path(run_dir).lexically_normal().filename().string();
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>convnet report: "
    << html_escape(run_name) << "</title>\n<style>" << kStyle << "</style>\n"
    << "<script>window.onerror = function (msg, src, line) { var s = document.getElementById('status');"
       " if (s) { s.dataset.status = 'error'; s.textContent = 'report-error: ' + msg + ' (line ' + line + ')'; }"
       " return false; };</script>\n</head><body>\n"
    << "<div id=\"status\" data-status=\"loading\">report-loading</div>\n"
    << "<h1>Training run " << html_escape(run_name) << "</h1>\n<table class=\"stats\">"
    << "<tr><td>model</td><td><b>" << html_escape(ck.config.model.model) << "</b> (" << ck.model_args.in_channels << "x"
    << H << "x" << W << " in, " << ck.model_args.num_classes << " classes, " << summary.total_params
    << " parameters)</td></tr>"
    << "<tr><td>data</td><td>" << html_escape(ck.config.data.dataset) << ", " << o.split << " split, " << ev.n
    << " images</td></tr><tr><td>checkpoint</td><td>" << html_escape(fs::path(ck.path).filename().string())
    << " after epoch " << ck.epoch << " of " << last.epoch << "</td></tr>"
    << "<tr><td>top-1 accuracy</td><td><b>" << fmt("%.2f%%", 100 * ev.top1) << "</b></td></tr>"
    << "<tr><td>top-5 accuracy</td><td>" << fmt("%.2f%%", 100 * ev.top5) << "</td></tr>"
    << "<tr><td>mean cross entropy</td><td>" << fmt("%.4f", ev.loss) << "</td></tr>"
    << "<tr><td>recipe</td><td>" << html_escape(ck.config.optim.optimizer) << ", lr " << ck.config.optim.lr << ", "
    << html_escape(ck.config.sched.schedule) << " schedule, batch " << ck.config.optim.batch_size << ", " << last.epoch
    << " epochs</td></tr></table>\n";
  h << "<h2>Learning curves</h2>\n<div class=\"charts curves\">";
  for (const auto& [file, svg] : train::training_plot_svgs(last.history)) h << inline_svg(svg);
  h << "</div>\n<h2>Confusion matrix (" << o.split << ")</h2>\n"
    << "<p>Rows: true class; columns: predicted class; color: fraction of the row.</p>\n"
    << confusion_table(ev, names) << "\n<h2>Per-class accuracy</h2>\n<div class=\"charts\">"
    << per_class_svg(ev.per_class_accuracy(), names) << "</div>\n";
  h << "<h2>Test images</h2>\n<p>The first " << pool << " images of the " << o.split << " split: " << wrong
    << " mistakes; " << res.mistakes_shown << " of them (red) shown first, then correct predictions (green); "
    << "the percentage is the predicted class's probability.</p>\n"
    << "<p><button data-show=\"all\">all</button> <button data-show=\"wrong\">mistakes</button> "
       "<button data-show=\"right\">correct</button> <span id=\"grid-count\"></span></p>\n"
    << "<div id=\"grid\">" << grid.str() << "</div>\n";
  h << "<h2>First-layer kernels</h2>\n" << kernels_html << "\n";
  h << "<h2>Model summary</h2>\n<pre>" << html_escape(summary.table()) << "</pre>\n";
  h << "<script type=\"application/json\" id=\"class-names\">" << names_json << "</script>\n";
  h << "<script>" << kScript << "</script>\n</body></html>\n";

  res.path = o.out.empty() ? (fs::path(run_dir) / "report.html").string() : o.out;
  train::write_file_atomic(res.path, h.str());
  return res;
}

}  // namespace convnet::viz
