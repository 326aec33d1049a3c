#pragma once
#pragma GCC visibility push(default)
/// \file
/// "What a CNN sees": the numbers behind the pictures of `convnet visualize`.
/// - kernels: the weights of a convolution layer, one tile per filter (and input channel);
/// - features: the activations of any layer for one image;
/// - edges: hand-set 3x3 edge detectors run through ops::conv2d;
/// - saliency: d score_k / d input (Simonyan et al. 2014), guided backpropagation
///   (Springenberg et al. 2015) and Grad-CAM (Selvaraju et al. 2017).
///
/// Every function leaves the model in the mode it found it in. Layers are named by their
/// dotted path in the network (named_modules(): "0", "features.3", "layer4.1.conv2").
#include <string>
#include <vector>

#include "convnet/core/tensor.h"
#include "convnet/nn/module.h"
#include "convnet/viz/picture.h"

namespace convnet::viz {

// ---- layers ----------------------------------------------------------------------------
/// "name (Type)" of every layer below the network (not the network itself), in
/// named_modules() order.
/// \post Returns one string per module except the root.
std::vector<std::string> layer_names(nn::Module& model);
/// The layer called `name` (its dotted path).
/// \pre  `name` is not empty (the network itself is not a layer here).
/// \post Returns a reference to the module inside `model`.
/// \throws convnet::Error listing every valid name when there is no such layer.
nn::Module& find_layer(nn::Module& model, const std::string& name);
/// The name of the first Conv2d in named_modules() order.
/// \throws convnet::Error listing the layers when the network has no Conv2d.
std::string first_conv_layer(nn::Module& model);
/// The name of the last Conv2d in named_modules() order.
/// \throws convnet::Error listing the layers when the network has no Conv2d.
std::string last_conv_layer(nn::Module& model);

// ---- kernels ---------------------------------------------------------------------------
/// The picture of a convolution layer's weights (kernel_grid()).
struct KernelGrid {
  Picture picture;          ///< The grid of tiles.
  std::string layer;        ///< The layer's name.
  Shape weight;             ///< The weight's shape, (OC, C/groups, KH, KW).
  Scale scale;              ///< The shared symmetric scale of all weights (used when not per_filter).
  bool per_filter = false;  ///< Every filter scaled to its own [min, max] (RGB first layers).
  Colormap colormap = Colormap::Diverging;  ///< The colormap of the shared scale.
  std::string caption;  ///< How to read the picture: layout and scale, in words.
};
/// The weights of a Conv2d as a grid of tiles, `zoom` pixels per weight.
/// A 3-channel layer (RGB input) with `rgb_if_possible`: each filter in color, scaled to
/// its own [min, max] (the AlexNet picture). Otherwise on one shared symmetric scale
/// [-m, m] through the diverging colormap (0 is white): one input channel, one tile per
/// filter in an about square grid; more, one tile per (filter, input channel) pair, filters
/// in rows, channels in columns (at most 64 of each).
/// \pre  `layer` names a Conv2d of `model` with float32 CPU weights; `zoom` >= 1.
/// \post Returns the picture, its scale and its caption; the model is unchanged.
/// \throws convnet::Error when `layer` is unknown (listing the layers) or not a Conv2d
///         (listing the Conv2d layers).
KernelGrid kernel_grid(nn::Module& model, const std::string& layer, int64_t zoom = 8, bool rgb_if_possible = true);

// ---- activations -----------------------------------------------------------------------
/// The output of `layer` when the model (in eval mode, without a graph) runs on `x`.
/// Taken by a forward hook, which is removed afterwards.
/// \pre  `x` is one image (1, C, H, W) the model accepts.
/// \post Returns a copy of the layer's output (of its last call, if it runs more than once);
///       the model's train/eval mode is what it was.
/// \throws convnet::Error when `x` is not (1, C, H, W), `layer` is unknown (listing the
///         layers), or the layer did not run in the forward pass.
Tensor layer_output(nn::Module& model, const std::string& layer, const Tensor& x);
/// The picture of a layer's output (feature_grid()).
struct FeatureGrid {
  Picture picture;   ///< The tiles (or the strip).
  Scale scale;       ///< One scale for every map: [min, max] over all of them.
  int64_t maps = 0;  ///< Number of maps: C for (1, C, H, W), 1 for (1, F).
  Shape shape;       ///< The shape of the layer's output.
};
/// A layer's output as a picture, through the Heat colormap on one shared scale.
/// (1, C, H, W): one tile per channel, `cols` per row (0: about square), `zoom` pixels per
/// value; (1, F): a strip of F cells, at least 8 pixels each.
/// \pre  `output` is a float32 CPU tensor of shape (1, C, H, W) or (1, F); `zoom` >= 1.
/// \post Returns the picture, its scale, the number of maps and the shape.
/// \throws convnet::Error when `output` has another shape (naming it).
FeatureGrid feature_grid(const Tensor& output, int64_t zoom = 4, int64_t cols = 0);

// ---- edges -----------------------------------------------------------------------------
/// The two edge detectors, (2, 1, 3, 3): [0] the vertical-edge detector, every row
/// [1, 0, -1] (positive where the image gets darker to the right); [1] the horizontal-edge
/// detector, its transpose.
/// \post Returns a new float32 tensor.
Tensor edge_kernels();
/// conv2d(x, edge_kernels(), padding 1) for a gray image `x` (1, 1, H, W), without a graph.
/// Zero padding: the borders see a step to 0.
/// \pre  `x` is a (1, 1, H, W) float32 tensor.
/// \post Returns (1, 2, H, W): channel 0 vertical edges, 1 horizontal.
/// \throws convnet::Error when `x` is undefined or not (1, 1, H, W) (naming its shape).
Tensor edge_responses(const Tensor& x);

// ---- saliency --------------------------------------------------------------------------
/// The class the model predicts for `x`, in eval mode without a graph: the first maximum
/// of the logits.
/// \pre  `x` is one image (1, C, H, W); the model gives logits (1, K).
/// \post Returns a class index in [0, K); the model's train/eval mode is what it was.
/// \throws convnet::Error when `x` is not (1, C, H, W), or the logits are not (1, K).
int64_t predicted_class(nn::Module& model, const Tensor& x);
/// d logits[0, cls] / d x, in eval mode. `guided`: every ReLU passes back only positive
/// gradients where its input was positive (ops::GuidedReluGuard).
/// \pre  `x` is one image (1, C, H, W); the model gives logits (1, K); 0 <= `cls` < K.
/// \post Returns the gradient, (1, C, H, W); the model's mode and its parameters'
///       requires_grad flags are what they were, and no parameter gradient is accumulated.
/// \throws convnet::Error when `x` is not (1, C, H, W), the logits are not (1, K), `cls` is
///         out of range (naming the number of classes), or the score does not depend on
///         the input.
Tensor input_gradient(nn::Module& model, const Tensor& x, int64_t cls, bool guided = false);
/// The result of grad_cam().
struct GradCam {
  std::string layer;  ///< The layer the maps come from.
  Tensor weights;    ///< (K): alpha_k = mean over (i, j) of d score / d A^k_ij.
  Tensor cam;        ///< (h, w): ReLU(sum_k alpha_k A^k), at the layer's resolution.
  Tensor upsampled;  ///< (H, W): cam resized to the input bilinearly (align_corners = False).
};
/// Grad-CAM of class `cls` on the output of `layer` (empty: the last Conv2d), in eval mode.
/// \pre  `x` is one image (1, C, H, W); the layer's output is (1, K, h, w); the model gives
///       logits (1, N) and 0 <= `cls` < N.
/// \post Returns the weights, the map and the map at the input's size; the model's mode and
///       its parameters' requires_grad flags are what they were, and no parameter gradient
///       is accumulated.
/// \throws convnet::Error when `x` is not (1, C, H, W); the model has no Conv2d (with an
///         empty `layer`); `layer` is unknown, did not run, or gives another shape (naming
///         it); `cls` is out of range; or the score does not depend on the layer.
GradCam grad_cam(nn::Module& model, const Tensor& x, int64_t cls, const std::string& layer = "");
/// Per-pixel magnitude of an input gradient: max over channels of |g|.
/// \pre  `grad` is a float32 (1, C, H, W) tensor (e.g. from input_gradient()).
/// \post Returns an (H, W) tensor.
/// \throws convnet::Error when `grad` is not (1, C, H, W) (naming its shape).
Tensor gradient_magnitude(const Tensor& grad);

}  // namespace convnet::viz
#pragma GCC visibility pop
