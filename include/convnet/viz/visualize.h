#pragma once
// "What a CNN sees": the numbers behind the pictures of `convnet visualize`.
//   kernels    the weights of a convolution layer, one tile per filter (and input channel)
//   features   the activations of any layer for one image
//   edges      hand-set 3x3 edge detectors run through ops::conv2d
//   saliency   d score_k / d input (Simonyan et al. 2014), guided backpropagation
//              (Springenberg et al. 2015) and Grad-CAM (Selvaraju et al. 2017)
// Every function leaves the model in the mode it found it in. Layers are named by their
// dotted path in the network (named_modules(): "0", "features.3", "layer4.1.conv2").
#include <string>
#include <vector>

#include "convnet/core/tensor.h"
#include "convnet/nn/module.h"
#include "convnet/viz/picture.h"

namespace convnet::viz {

// ---- layers ----------------------------------------------------------------------------
// "name (Type)" of every layer below the network (not the network itself), in order.
std::vector<std::string> layer_names(nn::Module& model);
// The layer called `name`; throws convnet::Error listing every valid name when there is none.
nn::Module& find_layer(nn::Module& model, const std::string& name);
// The first / last Conv2d in named_modules() order; throws when the network has none.
std::string first_conv_layer(nn::Module& model);
std::string last_conv_layer(nn::Module& model);

// ---- kernels ---------------------------------------------------------------------------
struct KernelGrid {
  Picture picture;
  std::string layer;
  Shape weight;             // (OC, C/groups, KH, KW)
  Scale scale;              // the shared scale (when not per_filter)
  bool per_filter = false;  // every filter scaled to its own [min, max] (RGB first layers)
  Colormap colormap = Colormap::Diverging;
  std::string caption;  // how to read the picture: layout and scale, in words
};
// One tile per filter, `zoom` pixels per weight. A 3-channel layer (RGB input): each
// filter in color, scaled to its own [min, max] (the AlexNet picture). Otherwise on one
// shared symmetric scale [-m, m] through the diverging colormap (0 is white): one input
// channel, one tile per filter in an about square grid; more, one tile per (filter, input
// channel) pair, filters in rows, channels in columns (at most 64 of each).
KernelGrid kernel_grid(nn::Module& model, const std::string& layer, int64_t zoom = 8, bool rgb_if_possible = true);

// ---- activations -----------------------------------------------------------------------
// The output of `layer` when the model (in eval mode, without a graph) runs on x (1, C, H, W).
Tensor layer_output(nn::Module& model, const std::string& layer, const Tensor& x);
struct FeatureGrid {
  Picture picture;
  Scale scale;  // one scale for every map: [min, max] over all of them
  int64_t maps = 0;
  Shape shape;  // of the layer's output
};
// (1, C, H, W): one tile per channel, `cols` per row (0: about square); (1, F): a strip of
// F cells. All through the Heat colormap on the shared scale.
FeatureGrid feature_grid(const Tensor& output, int64_t zoom = 4, int64_t cols = 0);

// ---- edges -----------------------------------------------------------------------------
// (2, 1, 3, 3): [0] the vertical-edge detector, every row [1, 0, -1];
//               [1] the horizontal-edge detector, its transpose.
Tensor edge_kernels();
// conv2d(x, edge_kernels(), padding 1) for a gray image x (1, 1, H, W): (1, 2, H, W),
// channel 0 vertical, 1 horizontal. Zero padding: the borders see a step to 0.
Tensor edge_responses(const Tensor& x);

// ---- saliency --------------------------------------------------------------------------
// The class the model predicts for x (1, C, H, W), in eval mode.
int64_t predicted_class(nn::Module& model, const Tensor& x);
// d logits[0, cls] / d x, (1, C, H, W), in eval mode. guided: every ReLU passes back only
// positive gradients where its input was positive (ops::GuidedReluGuard).
Tensor input_gradient(nn::Module& model, const Tensor& x, int64_t cls, bool guided = false);
struct GradCam {
  std::string layer;
  Tensor weights;    // (K): alpha_k = mean over (i, j) of d score / d A^k_ij
  Tensor cam;        // (h, w): ReLU(sum_k alpha_k A^k), at the layer's resolution
  Tensor upsampled;  // (H, W): cam resized to the input bilinearly (align_corners = False)
};
// Grad-CAM on the output of `layer` (empty: the last Conv2d), which must be (1, K, h, w).
GradCam grad_cam(nn::Module& model, const Tensor& x, int64_t cls, const std::string& layer = "");
// Per-pixel magnitude of an input gradient: max over channels of |g|, (H, W).
Tensor gradient_magnitude(const Tensor& grad);

}  // namespace convnet::viz
