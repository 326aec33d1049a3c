// `convnet visualize` as library calls: pictures into a directory, and its index page.
#include "convnet/viz/commands.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "convnet/core/error.h"
#include "convnet/data/image.h"
#include "convnet/nn/layers.h"
#include "convnet/train/inputs.h"
#include "convnet/viz/visualize.h"

namespace convnet::viz {

namespace fs = std::filesystem;

namespace {

// DIR/index.json (docs/formats.md).
constexpr const char* kIndexFormat = "convnet-viz-index";
constexpr int kIndexVersion = 1;

const char* colormap_name(Colormap cm) {
  switch (cm) {
    case Colormap::Gray:
      return "gray";
    case Colormap::Diverging:
      return "diverging";
    case Colormap::Heat:
      return "heat";
  }
  return "heat";
}
Colormap colormap_from(const std::string& s) {
  if (s == "gray") return Colormap::Gray;
  if (s == "diverging") return Colormap::Diverging;
  return Colormap::Heat;
}

std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.4g", v);
  return b;
}

// A name that is safe as part of a file name: the layer "features.3" stays readable.
std::string file_part(const std::string& s) {
  std::string out;
  for (char c : s) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-') ? c : '_';
  return out.empty() ? "_" : out;
}

std::string stem(const std::string& path) {
  return file_part(fs::path(path).stem().string());
}

std::string class_name(const train::Checkpoint& ck, int64_t k) {
  return k < static_cast<int64_t>(ck.class_names.size()) ? ck.class_names[k] : "class " + std::to_string(k);
}

// The q-quantile of the values (nearest rank): a scale end that a few extreme pixels
// cannot wash out.
float quantile(const Tensor& t, double q) {
  std::vector<float> v = t.to_vector();
  if (v.empty()) return 1.f;
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k] > 0 ? v[k] : std::max(1e-12f, *std::max_element(v.begin(), v.end()));
}

VisualizeResult finish(const std::string& dir, std::vector<IndexEntry> pictures, std::vector<std::string> notes) {
  const std::string warning = add_to_index(dir, pictures);
  if (!warning.empty()) notes.push_back("warning: " + warning);
  return {std::move(pictures), std::move(notes), (fs::path(dir) / "index.html").string()};
}

}  // namespace

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

int64_t auto_zoom(int64_t H, int64_t W, int64_t target) {
  const int64_t side = std::max<int64_t>(1, std::max(H, W));
  return std::max<int64_t>(1, (target + side - 1) / side);
}

// ---- the index page ----------------------------------------------------------------------
std::string index_html(const std::vector<IndexEntry>& entries) {
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>convnet visualize</title>\n"
       "<style>body{font-family:sans-serif;margin:2em;max-width:1100px;color:#222}"
       "figure{margin:0 0 2.5em 0}img.pic{image-rendering:pixelated;border:1px solid #ccc;max-width:100%}"
       "figcaption{margin-top:.4em;line-height:1.4}.legend img{vertical-align:middle;margin:0 .5em;"
       "border:1px solid #ccc}.legend{font-size:90%;color:#444}</style></head><body>\n"
       "<h1>What the network sees</h1>\n<p>Pictures written by <code>convnet visualize</code>. "
       "Every color scale is stated beside its picture.</p>\n";
  for (const auto& e : entries) {
    h << "<figure><a href=\"" << html_escape(e.file) << "\"><img class=\"pic\" src=\"" << html_escape(e.file)
      << "\" alt=\"" << html_escape(e.title) << "\"></a><figcaption><b>" << html_escape(e.title) << "</b><br>"
      << html_escape(e.text);
    if (e.has_legend)
      h << "<div class=\"legend\">color scale: <span class=\"lo\">" << num(e.legend.lo) << "</span><img src=\"colorbar-"
        << colormap_name(e.legend.colormap)
        << ".png\" width=\"256\" height=\"16\" alt=\"color bar\"><span class=\"hi\">" << num(e.legend.hi)
        << "</span></div>";
    h << "</figcaption></figure>\n";
  }
  h << "</body></html>\n";
  return h.str();
}

std::string add_to_index(const std::string& dir, const std::vector<IndexEntry>& entries) {
  std::string warning;
  fs::create_directories(dir);
  const fs::path manifest = fs::path(dir) / "index.json";
  std::vector<IndexEntry> all;
  if (fs::exists(manifest)) {
    try {
      std::ifstream in(manifest);
      const nlohmann::json doc = nlohmann::json::parse(in);
      if (doc.value("format", "") != kIndexFormat || doc.value("version", 0) > kIndexVersion)
        throw std::runtime_error("not a convnet-viz-index of version 1 or older");
      for (const auto& j : doc.at("entries")) {
        IndexEntry e;
        e.file = j.at("file"), e.title = j.at("title"), e.text = j.at("text");
        if (j.contains("legend")) {
          e.has_legend = true;
          e.legend = {colormap_from(j["legend"].at("colormap")), j["legend"].at("lo"), j["legend"].at("hi")};
        }
        all.push_back(e);
      }
    } catch (const std::exception& ex) {
      // A damaged manifest only loses the older entries of the page, never the pictures.
      warning =
          detail::cat("ignoring '", manifest.string(), "' (", ex.what(), "); index.html lists only the new pictures");
      all.clear();
    }
  }
  for (const auto& e : entries) {
    auto it = std::find_if(all.begin(), all.end(), [&](const IndexEntry& o) { return o.file == e.file; });
    if (it != all.end())
      *it = e;
    else
      all.push_back(e);
  }
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& e : all) {
    nlohmann::json j = {{"file", e.file}, {"title", e.title}, {"text", e.text}};
    if (e.has_legend) {
      j["legend"] = {{"colormap", colormap_name(e.legend.colormap)}, {"lo", e.legend.lo}, {"hi", e.legend.hi}};
      const fs::path bar = fs::path(dir) / (std::string("colorbar-") + colormap_name(e.legend.colormap) + ".png");
      if (!fs::exists(bar)) write_png(bar.string(), colorbar(e.legend.colormap));
    }
    arr.push_back(j);
  }
  const nlohmann::json doc = {{"format", kIndexFormat}, {"version", kIndexVersion}, {"entries", arr}};
  train::write_file_atomic(manifest.string(), doc.dump(1) + "\n");
  train::write_file_atomic((fs::path(dir) / "index.html").string(), index_html(all));
  return warning;
}

// ---- the subcommands ---------------------------------------------------------------------
VisualizeResult visualize_kernels(const train::Checkpoint& ck, nn::Module& model, const std::string& layer,
                                  const std::string& out_dir) {
  const std::string name = layer.empty() ? first_conv_layer(model) : layer;
  int64_t zoom = 8;  // about 48 pixels per tile
  if (auto* conv = dynamic_cast<nn::Conv2d*>(&find_layer(model, name)))
    zoom = std::clamp<int64_t>(48 / std::max<int64_t>(1, conv->weight.size(2)), 4, 16);
  KernelGrid g = kernel_grid(model, name, zoom);
  fs::create_directories(out_dir);
  IndexEntry e;
  e.file = "kernels-" + file_part(name) + ".png";
  e.title = detail::cat("Kernels of layer ", name, " (weight ", shape_str(g.weight), ") of ", ck.config.model.model);
  e.text = g.caption + ".";
  if (!g.per_filter) {
    e.has_legend = true;
    e.legend = {g.colormap, g.scale.lo, g.scale.hi};
  }
  write_png((fs::path(out_dir) / e.file).string(), g.picture);
  return finish(out_dir, {e}, {});
}

VisualizeResult visualize_features(const train::Checkpoint& ck, nn::Module& model, const std::string& layer,
                                   const std::string& image, const std::string& out_dir) {
  const train::InputImage in = train::load_input_image(ck, image);
  find_layer(model, layer);  // the list of valid names before any work
  const Tensor out = layer_output(model, layer, in.input);
  const int64_t side = out.dim() == 4 ? std::max(out.size(2), out.size(3)) : 1;
  FeatureGrid g = feature_grid(out, std::clamp<int64_t>(64 / side, 1, 8));
  fs::create_directories(out_dir);
  IndexEntry src;
  src.file = stem(image) + "-input.png";
  src.title = detail::cat("Input '", fs::path(image).filename().string(), "' as the model sees it");
  src.text = detail::cat(shape_str(in.pixels.shape()), ", before normalization.");
  write_png((fs::path(out_dir) / src.file).string(),
            image_picture(in.pixels, auto_zoom(in.pixels.size(1), in.pixels.size(2))));
  IndexEntry e;
  e.file = stem(image) + "-features-" + file_part(layer) + ".png";
  e.title = detail::cat("Feature maps of layer ", layer, " (", find_layer(model, layer).type_name(), ") for '",
                        fs::path(image).filename().string(), "'");
  e.text = out.dim() == 4 ? detail::cat(g.maps, " maps of ", out.size(2), "x", out.size(3),
                                        ", one per channel in order, all on one scale from ", num(g.scale.lo), " to ",
                                        num(g.scale.hi), ".")
                          : detail::cat("one cell per feature (", out.size(1), "), on one scale from ", num(g.scale.lo),
                                        " to ", num(g.scale.hi), ".");
  e.has_legend = true;
  e.legend = {Colormap::Heat, g.scale.lo, g.scale.hi};
  write_png((fs::path(out_dir) / e.file).string(), g.picture);
  std::vector<std::string> notes;
  if (!in.conversion.empty()) notes.push_back(in.conversion);
  return finish(out_dir, {src, e}, notes);
}

VisualizeResult visualize_edges(const std::string& image, const std::string& out_dir) {
  const Tensor gray = data::load_image(image, 1, 0);  // (1, H, W) in [0, 1]
  const int64_t H = gray.size(1), W = gray.size(2);
  const Tensor r = edge_responses(gray.reshape({1, 1, H, W}));
  const Scale s = value_range(r.data(), r.numel(), true);
  const int64_t z = auto_zoom(H, W);
  Picture panel = side_by_side({plane_picture(gray.data(), H, W, {0.f, 1.f}, Colormap::Gray, z),
                                plane_picture(r.data(), H, W, s, Colormap::Diverging, z),
                                plane_picture(r.data() + H * W, H, W, s, Colormap::Diverging, z)},
                               8);
  fs::create_directories(out_dir);
  IndexEntry e;
  e.file = stem(image) + "-edges.png";
  e.title = detail::cat("Edge detectors on '", fs::path(image).filename().string(), "'");
  e.text = detail::cat(
      "Left: the input in gray (", H, "x", W,
      "). Middle: the vertical-edge kernel [[1,0,-1],[1,0,-1],[1,0,-1]]; right: its transpose, the horizontal-edge "
      "kernel; both by conv2d with zero padding 1. Red: bright to dark (left to right, top to bottom), blue: dark "
      "to bright, white: no edge; one scale from ",
      num(s.lo), " to ", num(s.hi), ".");
  e.has_legend = true;
  e.legend = {Colormap::Diverging, s.lo, s.hi};
  write_png((fs::path(out_dir) / e.file).string(), panel);
  return finish(out_dir, {e}, {});
}

VisualizeResult visualize_saliency(const train::Checkpoint& ck, nn::Module& model, const std::string& image,
                                   int64_t cls, const std::string& cam_layer, const std::string& out_dir) {
  const train::InputImage in = train::load_input_image(ck, image);
  const std::string cam_name = cam_layer.empty() ? last_conv_layer(model) : cam_layer;
  find_layer(model, cam_name);
  const int64_t predicted = predicted_class(model, in.input);
  const int64_t k = cls < 0 ? predicted : cls;
  const Tensor vanilla = input_gradient(model, in.input, k, false);
  const Tensor guided = input_gradient(model, in.input, k, true);
  const GradCam cam = grad_cam(model, in.input, k, cam_name);

  const int64_t C = in.pixels.size(0), H = in.pixels.size(1), W = in.pixels.size(2);
  const int64_t z = auto_zoom(H, W);
  // Overlays are drawn on the gray version of the image, so the heat colors stand out.
  Tensor gray = Tensor::zeros({1, H, W});
  for (int64_t c = 0; c < C; ++c)
    for (int64_t i = 0; i < H * W; ++i) gray.data()[i] += in.pixels.data()[c * H * W + i] / static_cast<float>(C);
  const Picture base = image_picture(gray, z);
  auto enlarge = [&](const Tensor& m) {  // (H, W) -> (H z, W z), nearest neighbour
    std::vector<float> v(static_cast<size_t>(H * z * W * z));
    for (int64_t y = 0; y < H * z; ++y)
      for (int64_t x = 0; x < W * z; ++x) v[y * W * z + x] = m.data()[(y / z) * W + x / z];
    return v;
  };
  const Tensor vmag = gradient_magnitude(vanilla), gmag = gradient_magnitude(guided);
  // Gradient magnitudes are heavy-tailed: scale them to their 99th percentile (brighter
  // pixels saturate), as saliency pictures usually are, so the structure shows.
  const Scale vs{0.f, quantile(vmag, 0.99)};
  const Scale gs{0.f, quantile(gmag, 0.99)};
  const Scale cs{0.f, value_range(cam.upsampled.data(), cam.upsampled.numel()).hi};
  // Grad-CAM is smooth: enlarge it bilinearly rather than in blocks.
  const data::Image cam_big = data::resize_bilinear({1, H, W, cam.upsampled.to_vector()}, H * z, W * z);
  const Picture pv = overlay(base, enlarge(vmag).data(), vs, Colormap::Heat, 0.9f);
  const Picture pg = overlay(base, enlarge(gmag).data(), gs, Colormap::Heat, 0.9f);
  const Picture pc = overlay(base, cam_big.data.data(), cs);
  // The guided gradient itself, the picture of Springenberg et al.: signed, 0 in the middle.
  const Scale graw = value_range(guided.data(), guided.numel(), true);
  const Picture pgr = C == 3 ? rgb_picture(guided.data(), H, W, graw, z)
                             : plane_picture(guided.data(), H, W, graw, Colormap::Diverging, z);

  const std::string s = stem(image), what = detail::cat(class_name(ck, k), " (class ", k, ")");
  const std::string pred = detail::cat("the model predicts ", class_name(ck, predicted), " (class ", predicted, ")");
  fs::create_directories(out_dir);
  auto put = [&](const std::string& file, const Picture& p) { write_png((fs::path(out_dir) / file).string(), p); };
  std::vector<IndexEntry> es(5);
  es[0].file = s + "-saliency.png";
  es[0].title = detail::cat("Saliency for ", what, " on '", fs::path(image).filename().string(), "'");
  es[0].text = detail::cat(
      "Left to right: the input; vanilla gradient; guided backpropagation; the guided gradient "
      "itself (signed); Grad-CAM on layer ",
      cam_name, ". Score: the logit of ", what, "; ", pred, ".");
  put(es[0].file, side_by_side({image_picture(in.pixels, z), pv, pg, pgr, pc}, 8));
  es[1].file = s + "-vanilla.png";
  es[1].title = detail::cat("Vanilla gradient |d score / d pixel| for ", what);
  es[1].text = detail::cat("max over channels of |gradient| of the logit, overlaid on the image; scale 0 to ",
                           num(vs.hi), " (the 99th percentile; larger values saturate); ", pred, ".");
  es[1].has_legend = true, es[1].legend = {Colormap::Heat, vs.lo, vs.hi};
  put(es[1].file, pv);
  es[2].file = s + "-guided.png";
  es[2].title = detail::cat("Guided backpropagation for ", what);
  es[2].text = detail::cat(
      "every ReLU passes back only positive gradients where its input was positive; max over "
      "channels of |gradient|, overlaid on the image; scale 0 to ",
      num(gs.hi), " (the 99th percentile; larger values saturate).");
  es[2].has_legend = true, es[2].legend = {Colormap::Heat, gs.lo, gs.hi};
  put(es[2].file, pg);
  es[3].file = s + "-guided-raw.png";
  es[3].title = detail::cat("Guided gradient (signed) for ", what);
  es[3].text =
      C == 3 ? detail::cat("each channel from ", num(graw.lo), " (0) to ", num(graw.hi), " (255).")
             : detail::cat("blue negative, white 0, red positive; scale ", num(graw.lo), " to ", num(graw.hi), ".");
  if (C != 3) es[3].has_legend = true, es[3].legend = {Colormap::Diverging, graw.lo, graw.hi};
  put(es[3].file, pgr);
  es[4].file = s + "-gradcam.png";
  es[4].title = detail::cat("Grad-CAM on layer ", cam_name, " for ", what);
  es[4].text = detail::cat("ReLU(sum_k alpha_k A^k) of the ", cam.weights.numel(), " maps of ", cam.cam.size(0), "x",
                           cam.cam.size(1), " of layer ", cam_name,
                           ", alpha_k the mean gradient of the score over map k; upsampled bilinearly to ", H, "x", W,
                           "; scale 0 to ", num(cs.hi), ".");
  es[4].has_legend = true, es[4].legend = {Colormap::Heat, cs.lo, cs.hi};
  put(es[4].file, pc);
  std::vector<std::string> notes;
  if (!in.conversion.empty()) notes.push_back(in.conversion);
  notes.push_back(pred + (cls >= 0 ? detail::cat("; explaining class ", k, " as asked") : std::string()));
  return finish(out_dir, es, notes);
}

}  // namespace convnet::viz
