#pragma once
#pragma GCC visibility push(default)
/// \file
/// `convnet visualize` as library calls: each writes its PNG pictures into an output
/// directory and adds them to that directory's index.html (a page linking every picture
/// written there, with how to read it and the scale of its colors). The CLI only parses
/// arguments and prints what these return. In the file names below, IMAGE stands for the
/// image file's name without its extension and LAYER for the layer's name (characters other
/// than letters, digits, '.' and '-' become '_').
#include <string>
#include <vector>

#include "convnet/nn/module.h"
#include "convnet/train/checkpoint.h"
#include "convnet/viz/picture.h"

namespace convnet::viz {

/// The color scale of a picture on the index page: a color bar with its end values.
struct Legend {
  Colormap colormap = Colormap::Heat;  ///< The colormap of the picture.
  /// The value at the left end of the color bar.
  float lo = 0, hi = 1;  ///< The value at the right end of the color bar.
};

/// One picture on the index page.
struct IndexEntry {
  std::string file;         ///< File name, relative to the output directory.
  std::string title;        ///< E.g. "Kernels of layer 0 (Conv2d)".
  std::string text;         ///< How to read it: layout, scale, class.
  bool has_legend = false;  ///< Whether the page shows `legend` (a color bar) under it.
  Legend legend;            ///< The color scale (with has_legend).
};

/// Adds (or, by file name, replaces) entries in `dir`/index.json and rewrites
/// `dir`/index.html from it, so pictures of several commands share one page.
/// Writes the color-bar pictures the legends use (colorbar-NAME.png, NAME the colormap's
/// name) where they do not exist yet.
/// \post `dir` exists; index.json (format "convnet-viz-index", version 1) lists the older
///       entries followed by the new ones, an entry with the file name of a new one replaced
///       in place; index.html shows them in that order. Returns a warning, or an empty
///       string: an index.json that cannot be read, is not ours or is of a newer version is
///       replaced, losing only the older entries.
/// \throws convnet::Error when a file cannot be written (naming it);
///         std::filesystem::filesystem_error when `dir` cannot be created.
std::string add_to_index(const std::string& dir, const std::vector<IndexEntry>& entries);
/// The index page itself: one figure per entry, in order, text HTML-escaped, legends
/// showing colorbar-NAME.png between their end values.
/// \post Returns a complete HTML document.
std::string index_html(const std::vector<IndexEntry>& entries);

/// What a visualize_* call wrote.
struct VisualizeResult {
  std::vector<IndexEntry> pictures;  ///< The pictures written, in order.
  std::vector<std::string> notes;    ///< E.g. how an image was converted to fit the model; warnings.
  std::string index;                 ///< Path of index.html.
};

/// Writes the filters of `layer` (empty: the first Conv2d; see kernel_grid()) as
/// kernels-LAYER.png into `out_dir` and adds it to the index.
/// \pre  `model` is the model of `ck` (model_from_checkpoint()); `ck` gives the model's name
///       for the title.
/// \post `out_dir` holds the picture and the updated index; returns what was written.
/// \throws convnet::Error when the model has no Conv2d, `layer` is unknown (listing the
///         layers) or not a Conv2d (listing those), or a file cannot be written.
VisualizeResult visualize_kernels(const train::Checkpoint& ck, nn::Module& model, const std::string& layer,
                                  const std::string& out_dir);
/// Writes the activations of `layer` for the image file, preprocessed as in training
/// (train::load_input_image()): IMAGE-input.png (the input as the model sees it) and
/// IMAGE-features-LAYER.png, added to the index of `out_dir`.
/// \pre  `model` is the model of `ck`; `layer` names one of its layers (layer_names()).
/// \post `out_dir` holds the pictures and the updated index; the notes say how the image
///       was converted, if it was; the model's train/eval mode is what it was.
/// \throws convnet::Error when the image cannot be read or brought to the model's input,
///         `layer` is unknown (listing the layers) or did not run, its output is neither
///         (1, C, H, W) nor (1, F), or a file cannot be written.
VisualizeResult visualize_features(const train::Checkpoint& ck, nn::Module& model, const std::string& layer,
                                   const std::string& image, const std::string& out_dir);
/// Writes the two hand-set edge detectors on the image file (read as gray, at its own
/// size) as IMAGE-edges.png: input and both responses side by side, added to the index.
/// \post `out_dir` holds the picture and the updated index.
/// \throws convnet::Error when the image cannot be read, or a file cannot be written.
VisualizeResult visualize_edges(const std::string& image, const std::string& out_dir);
/// Writes the vanilla gradient, guided backpropagation and Grad-CAM (on `cam_layer`, empty:
/// the last Conv2d) of class `cls` (-1: the predicted class), each overlaid on the image.
/// Five pictures, added to the index: IMAGE-saliency.png (all side by side),
/// IMAGE-vanilla.png, IMAGE-guided.png, IMAGE-guided-raw.png (the signed guided gradient)
/// and IMAGE-gradcam.png.
/// \pre  `model` is the model of `ck`; `cls` is -1 or one of its classes.
/// \post `out_dir` holds the pictures and the updated index; the notes give the predicted
///       class (and how the image was converted, if it was); the model's mode and its
///       parameters' requires_grad flags are what they were.
/// \throws convnet::Error when the image cannot be read or brought to the model's input, the
///         Grad-CAM layer is unknown or missing, `cls` is out of range (naming the number of
///         classes), the layer's output is not (1, K, h, w), or a file cannot be written.
VisualizeResult visualize_saliency(const train::Checkpoint& ck, nn::Module& model, const std::string& image,
                                   int64_t cls, const std::string& cam_layer, const std::string& out_dir);

/// The zoom that brings an H x W picture to at least `target` pixels on its longer side.
/// \post Returns ceil(target / max(H, W)), at least 1 (sizes below 1 count as 1).
int64_t auto_zoom(int64_t H, int64_t W, int64_t target = 160);
/// `s` with the characters `&`, `<`, `>` and `"` replaced by their HTML entities.
std::string html_escape(const std::string& s);

}  // namespace convnet::viz
#pragma GCC visibility pop
