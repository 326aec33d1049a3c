// The numbers behind `convnet visualize`: layer lookup, kernel and feature-map grids,
// edge detectors, input gradients (vanilla and guided) and Grad-CAM.
#include "convnet/viz/visualize.h"

#include <algorithm>
#include <cmath>

#include "convnet/autograd/autograd.h"
#include "convnet/core/error.h"
#include "convnet/data/image.h"
#include "convnet/nn/layers.h"
#include "convnet/ops/activation.h"
#include "convnet/ops/conv2d.h"

namespace convnet::viz {

namespace {

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

std::vector<std::string> conv_layers(nn::Module& model) {
  std::vector<std::string> out;
  for (auto& [name, m] : model.named_modules())
    if (!name.empty() && dynamic_cast<nn::Conv2d*>(m)) out.push_back(name);
  return out;
}

// Eval mode for the life of the scope, then the mode the model had.
class EvalScope {
 public:
  explicit EvalScope(nn::Module& m) : m_(m), was_training_(m.is_training()) { m.eval(); }
  ~EvalScope() { m_.train(was_training_); }
  EvalScope(const EvalScope&) = delete;
  EvalScope& operator=(const EvalScope&) = delete;

 private:
  nn::Module& m_;
  bool was_training_;
};

// A forward hook that is removed when the scope ends (also when the forward throws).
class HookScope {
 public:
  HookScope(nn::Module& m, nn::Module::ForwardHook h) : m_(m), id_(m.register_forward_hook(std::move(h))) {}
  ~HookScope() { m_.remove_forward_hook(id_); }
  HookScope(const HookScope&) = delete;
  HookScope& operator=(const HookScope&) = delete;

 private:
  nn::Module& m_;
  int id_;
};

// Parameters stop requiring gradients for the life of the scope, so that a saliency pass
// computes (and leaves behind) no parameter gradients; their flags are then restored.
class FrozenScope {
 public:
  explicit FrozenScope(nn::Module& m) : params_(m.parameters()) {
    for (auto& p : params_) flags_.push_back(p.requires_grad()), p.requires_grad_(false);
  }
  ~FrozenScope() {
    for (size_t i = 0; i < params_.size(); ++i) params_[i].requires_grad_(flags_[i]);
  }
  FrozenScope(const FrozenScope&) = delete;
  FrozenScope& operator=(const FrozenScope&) = delete;

 private:
  std::vector<Tensor> params_;
  std::vector<bool> flags_;
};

void check_single_image(const Tensor& x, const char* what) {
  CONVNET_CHECK(x.defined() && x.dim() == 4 && x.size(0) == 1, what, ": expected one image (1, C, H, W), got ",
                x.defined() ? shape_str(x.shape()) : std::string("an undefined tensor"));
}

// logits (1, K) of the model on x, checked; the class index checked against K.
void check_logits(const Tensor& logits, int64_t cls, const char* what) {
  CONVNET_CHECK(logits.dim() == 2 && logits.size(0) == 1, what, ": the model should give logits (1, K), got ",
                shape_str(logits.shape()));
  CONVNET_CHECK(cls >= 0 && cls < logits.size(1), what, ": class ", cls, " is out of range; the model has ",
                logits.size(1), " classes (0 to ", logits.size(1) - 1, ")");
}

// The gradient seed that selects logits[0, cls]: d score / d logits is one-hot.
Tensor one_hot(int64_t K, int64_t cls) {
  Tensor g = Tensor::zeros({1, K});
  g.data()[cls] = 1.f;
  return g;
}

}  // namespace

// ---- layers ----------------------------------------------------------------------------
std::vector<std::string> layer_names(nn::Module& model) {
  std::vector<std::string> out;
  for (auto& [name, m] : model.named_modules())
    if (!name.empty()) out.push_back(name + " (" + m->type_name() + ")");
  return out;
}

nn::Module& find_layer(nn::Module& model, const std::string& name) {
  for (auto& [n, m] : model.named_modules())
    if (!n.empty() && n == name) return *m;
  throw Error(detail::cat("unknown layer '", name, "'; the layers of this model are: ", joined(layer_names(model))));
}

std::string first_conv_layer(nn::Module& model) {
  const auto convs = conv_layers(model);
  CONVNET_CHECK(!convs.empty(), "the model has no Conv2d layer; its layers are: ", joined(layer_names(model)));
  return convs.front();
}

std::string last_conv_layer(nn::Module& model) {
  const auto convs = conv_layers(model);
  CONVNET_CHECK(!convs.empty(), "the model has no Conv2d layer; its layers are: ", joined(layer_names(model)));
  return convs.back();
}

// ---- kernels ---------------------------------------------------------------------------
KernelGrid kernel_grid(nn::Module& model, const std::string& layer, int64_t zoom, bool rgb_if_possible) {
  nn::Module& m = find_layer(model, layer);
  auto* conv = dynamic_cast<nn::Conv2d*>(&m);
  CONVNET_CHECK(conv, "layer '", layer, "' is a ", m.type_name(),
                ", not a Conv2d; the convolution layers are: ", joined(conv_layers(model)));
  const Tensor& w = conv->weight;  // (OC, C/groups, KH, KW)
  const int64_t OC = w.size(0), C = w.size(1), KH = w.size(2), KW = w.size(3);
  KernelGrid g;
  g.layer = layer;
  g.weight = w.shape();
  std::vector<Picture> tiles;
  if (C == 3 && rgb_if_possible) {
    // RGB filters: each one's own [min, max] to 0..255, so that every filter shows its
    // pattern even when the filters differ in norm (how AlexNet's conv1 is usually shown).
    g.per_filter = true;
    for (int64_t k = 0; k < OC; ++k) {
      const float* f = w.data() + k * 3 * KH * KW;
      tiles.push_back(rgb_picture(f, KH, KW, value_range(f, 3 * KH * KW), zoom));
    }
    const int64_t cols = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(OC)))));
    g.picture = tile_grid(tiles, cols, std::max<int64_t>(1, zoom / 2));
    g.scale = value_range(w.data(), w.numel(), true);
    g.caption = detail::cat(OC, " filters of ", KH, "x", KW, "x3 in color, ", cols,
                            " per row, each scaled to its own [min, max]");
    return g;
  }
  g.colormap = Colormap::Diverging;
  g.scale = value_range(w.data(), w.numel(), true);
  const int64_t gap = std::max<int64_t>(1, zoom / 2);
  if (C == 1) {
    // One input channel: the filters as an about square grid, like the RGB case.
    for (int64_t k = 0; k < OC; ++k)
      tiles.push_back(plane_picture(w.data() + k * KH * KW, KH, KW, g.scale, g.colormap, zoom));
    const int64_t cols = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(OC)))));
    g.picture = tile_grid(tiles, cols, gap);
    g.caption = detail::cat(OC, " filters of ", KH, "x", KW, ", ", cols, " per row; shared scale blue ", g.scale.lo,
                            " - white 0 - red ", g.scale.hi);
    return g;
  }
  // Per input channel: filters in rows, their channels in columns, one shared scale.
  const int64_t max_filters = 64, max_channels = 64;
  const int64_t rows = std::min(OC, max_filters), cols = std::min(C, max_channels);
  for (int64_t k = 0; k < rows; ++k)
    for (int64_t c = 0; c < cols; ++c)
      tiles.push_back(plane_picture(w.data() + (k * C + c) * KH * KW, KH, KW, g.scale, g.colormap, zoom));
  g.picture = tile_grid(tiles, cols, gap);
  g.caption =
      detail::cat(rows < OC ? detail::cat("the first ", rows, " of ") : std::string(), OC, " filters (rows) x ",
                  cols < C ? detail::cat("the first ", cols, " of ") : std::string(), C, " input channels (columns), ",
                  KH, "x", KW, " each; shared scale blue ", g.scale.lo, " - white 0 - red ", g.scale.hi);
  return g;
}

// ---- activations -----------------------------------------------------------------------
Tensor layer_output(nn::Module& model, const std::string& layer, const Tensor& x) {
  check_single_image(x, "layer_output");
  nn::Module& m = find_layer(model, layer);
  Tensor out;
  {
    EvalScope eval(model);
    HookScope hook(m, [&out](nn::Module&, const Tensor&, const Tensor& y) { out = y.clone(); });
    NoGradGuard no_grad;
    model(x);
  }
  CONVNET_CHECK(out.defined(), "layer '", layer, "' (", m.type_name(), ") did not run in the forward pass");
  return out;
}

FeatureGrid feature_grid(const Tensor& output, int64_t zoom, int64_t cols) {
  CONVNET_CHECK((output.dim() == 4 || output.dim() == 2) && output.size(0) == 1,
                "feature_grid: expected the output of one image, (1, C, H, W) or (1, F), got ",
                shape_str(output.shape()));
  FeatureGrid g;
  g.shape = output.shape();
  g.scale = value_range(output.data(), output.numel());
  if (output.dim() == 2) {  // a vector: one strip, one cell per feature
    const int64_t F = output.size(1);
    g.maps = 1;
    g.picture = plane_picture(output.data(), 1, F, g.scale, Colormap::Heat, std::max<int64_t>(zoom, 8));
    return g;
  }
  const int64_t C = output.size(1), H = output.size(2), W = output.size(3);
  g.maps = C;
  if (cols <= 0) cols = static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(C))));
  std::vector<Picture> tiles;
  for (int64_t c = 0; c < C; ++c)
    tiles.push_back(plane_picture(output.data() + c * H * W, H, W, g.scale, Colormap::Heat, zoom));
  g.picture = tile_grid(tiles, cols, 2);
  return g;
}

// ---- edges -----------------------------------------------------------------------------
Tensor edge_kernels() {
  // Vertical edges: left minus right, [1 0 -1] in every row (a Prewitt-like x-derivative,
  // positive where the image gets darker to the right); horizontal: the transpose.
  return Tensor::from_vector({2, 1, 3, 3}, {1, 0, -1, 1, 0, -1, 1, 0, -1,  //
                                            1, 1, 1, 0, 0, 0, -1, -1, -1});
}

Tensor edge_responses(const Tensor& x) {
  CONVNET_CHECK(x.defined() && x.dim() == 4 && x.size(0) == 1 && x.size(1) == 1,
                "edge_responses: expected a gray image (1, 1, H, W), got ",
                x.defined() ? shape_str(x.shape()) : std::string("an undefined tensor"));
  Conv2dArgs args;
  args.padding = Padding(int64_t{1});
  NoGradGuard no_grad;
  return ops::conv2d(x, edge_kernels(), Tensor(), args, "edge detectors");
}

// ---- saliency --------------------------------------------------------------------------
int64_t predicted_class(nn::Module& model, const Tensor& x) {
  check_single_image(x, "predicted_class");
  EvalScope eval(model);
  NoGradGuard no_grad;
  const Tensor logits = model(x);
  check_logits(logits, 0, "predicted_class");
  const float* p = logits.data();
  return std::max_element(p, p + logits.size(1)) - p;
}

Tensor input_gradient(nn::Module& model, const Tensor& x, int64_t cls, bool guided) {
  check_single_image(x, "input_gradient");
  EvalScope eval(model);
  FrozenScope frozen(model);
  Tensor xi = x.clone();
  xi.requires_grad_(true);
  Tensor logits;
  if (guided) {
    ops::GuidedReluGuard guide;  // read while the forward records each ReLU
    logits = model(xi);
  } else {
    logits = model(xi);
  }
  check_logits(logits, cls, "input_gradient");
  logits.backward(one_hot(logits.size(1), cls));
  CONVNET_CHECK(xi.grad().defined(), "input_gradient: the class score does not depend on the input");
  return xi.grad();
}

GradCam grad_cam(nn::Module& model, const Tensor& x, int64_t cls, const std::string& layer) {
  check_single_image(x, "grad_cam");
  GradCam r;
  r.layer = layer.empty() ? last_conv_layer(model) : layer;
  nn::Module& m = find_layer(model, r.layer);
  EvalScope eval(model);
  FrozenScope frozen(model);
  Tensor xi = x.clone();
  xi.requires_grad_(true);
  Tensor A, dA;  // the layer's output and the gradient of the score with respect to it
  Tensor logits;
  {
    HookScope hook(m, [&A, &dA](nn::Module&, const Tensor&, const Tensor& y) {
      A = y.detach();
      Tensor handle = y;
      if (handle.requires_grad())
        handle.register_hook([&dA](const Tensor& g) {
          dA = g.clone();
          return Tensor();
        });
    });
    logits = model(xi);
  }
  CONVNET_CHECK(A.defined(), "grad_cam: layer '", r.layer, "' (", m.type_name(), ") did not run in the forward pass");
  CONVNET_CHECK(A.dim() == 4 && A.size(0) == 1, "grad_cam: layer '", r.layer, "' (", m.type_name(),
                ") gives an output of shape ", shape_str(A.shape()),
                "; Grad-CAM needs feature maps (1, K, h, w), e.g. the last Conv2d, ", last_conv_layer(model));
  check_logits(logits, cls, "grad_cam");
  logits.backward(one_hot(logits.size(1), cls));
  CONVNET_CHECK(dA.defined(), "grad_cam: the class score does not depend on layer '", r.layer, "'");
  const int64_t K = A.size(1), h = A.size(2), w = A.size(3), hw = h * w;
  // alpha_k = (1 / hw) sum_ij dScore/dA^k_ij; cam = ReLU(sum_k alpha_k A^k)   (Selvaraju et al., eq. 1-2)
  r.weights = Tensor::zeros({K});
  r.cam = Tensor::zeros({h, w});
  float* alpha = r.weights.data();
  float* cam = r.cam.data();
  for (int64_t k = 0; k < K; ++k) {
    double s = 0;
    for (int64_t i = 0; i < hw; ++i) s += dA.data()[k * hw + i];
    alpha[k] = static_cast<float>(s / static_cast<double>(hw));
  }
  for (int64_t i = 0; i < hw; ++i) {
    double s = 0;
    for (int64_t k = 0; k < K; ++k) s += static_cast<double>(alpha[k]) * A.data()[k * hw + i];
    cam[i] = static_cast<float>(std::max(0.0, s));
  }
  // Up to the input size: PIL's bilinear filter equals bilinear interpolation with
  // align_corners = False when enlarging (F.interpolate's default for "bilinear").
  data::Image small{1, h, w, r.cam.to_vector()};
  const data::Image big = data::resize_bilinear(small, x.size(2), x.size(3));
  r.upsampled = Tensor::from_vector({x.size(2), x.size(3)}, big.data);
  return r;
}

Tensor gradient_magnitude(const Tensor& grad) {
  CONVNET_CHECK(grad.dim() == 4 && grad.size(0) == 1, "gradient_magnitude: expected (1, C, H, W), got ",
                shape_str(grad.shape()));
  const int64_t C = grad.size(1), HW = grad.size(2) * grad.size(3);
  Tensor m = Tensor::zeros({grad.size(2), grad.size(3)});
  for (int64_t c = 0; c < C; ++c)
    for (int64_t i = 0; i < HW; ++i) m.data()[i] = std::max(m.data()[i], std::abs(grad.data()[c * HW + i]));
  return m;
}

}  // namespace convnet::viz
