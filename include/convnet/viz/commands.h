#pragma once
// `convnet visualize` as library calls: each writes its PNG pictures into an output
// directory and adds them to that directory's index.html (a page linking every picture
// written there, with how to read it and the scale of its colors). The CLI only parses
// arguments and prints what these return.
#include <string>
#include <vector>

#include "convnet/nn/module.h"
#include "convnet/train/checkpoint.h"
#include "convnet/viz/picture.h"

namespace convnet::viz {

struct Legend {
  Colormap colormap = Colormap::Heat;
  float lo = 0, hi = 1;  // the values at the two ends of the color bar
};

// One picture on the index page.
struct IndexEntry {
  std::string file;   // relative to the output directory
  std::string title;  // e.g. "Kernels of layer 0 (Conv2d)"
  std::string text;   // how to read it: layout, scale, class
  bool has_legend = false;
  Legend legend;
};

// Adds (or, by file name, replaces) entries in <dir>/index.json and rewrites
// <dir>/index.html from it, so pictures of several commands share one page. Writes the
// color-bar pictures the legends use (colorbar-<name>.png). Returns a warning (empty when
// none): an index.json that is not ours is replaced, losing only the older entries.
std::string add_to_index(const std::string& dir, const std::vector<IndexEntry>& entries);
// The page itself (entries in order).
std::string index_html(const std::vector<IndexEntry>& entries);

struct VisualizeResult {
  std::vector<IndexEntry> pictures;  // written, in order
  std::vector<std::string> notes;    // e.g. how an image was converted to fit the model
  std::string index;                 // path of index.html
};

// The filters of `layer` (empty: the first Conv2d; see kernel_grid).
VisualizeResult visualize_kernels(const train::Checkpoint& ck, nn::Module& model, const std::string& layer,
                                  const std::string& out_dir);
// The activations of `layer` for the image file, preprocessed as in training.
VisualizeResult visualize_features(const train::Checkpoint& ck, nn::Module& model, const std::string& layer,
                                   const std::string& image, const std::string& out_dir);
// The two hand-set edge detectors on the image file (as gray): input and both responses.
VisualizeResult visualize_edges(const std::string& image, const std::string& out_dir);
// Vanilla gradient, guided backpropagation and Grad-CAM (on cam_layer, empty: the last
// Conv2d) of class `cls` (-1: the predicted class), each overlaid on the image.
VisualizeResult visualize_saliency(const train::Checkpoint& ck, nn::Module& model, const std::string& image,
                                   int64_t cls, const std::string& cam_layer, const std::string& out_dir);

// Zoom that brings an H x W picture to at least `target` pixels on its longer side.
int64_t auto_zoom(int64_t H, int64_t W, int64_t target = 160);
std::string html_escape(const std::string& s);

}  // namespace convnet::viz
