// ConvNeXt, module for module as torchvision 0.14's models/convnext.py.
#include "convnet/models/convnext.h"

#include "convnet/core/error.h"
#include "convnet/models/resnet.h"  // residual_label
#include "convnet/nn/init.h"
#include "convnet/ops/broadcast.h"
#include "convnet/ops/elementwise.h"
#include "convnet/ops/norm.h"
#include "convnet/ops/permute.h"
#include "convnet/ops/pool2d.h"
#include "models/families.h"

namespace convnet::models {

Tensor LayerNorm2d::forward(const Tensor& x) {
  CONVNET_CHECK(x.dim() == 4, label(), ": expected an input (N, C, H, W), got ", shape_str(x.shape()));
  const Tensor y =
      ops::layer_norm(ops::permute(x, {0, 2, 3, 1}, label()), normalized_shape, weight, bias, eps, label());
  return ops::permute(y, {0, 3, 1, 2}, label());
}

CNBlock::CNBlock(int64_t dim, double layer_scale_init, double sd_prob) {
  block = std::make_shared<nn::Sequential>();
  block->add(std::make_shared<nn::Conv2d>(nn::Conv2dOptions(dim, dim, 7).padding(3).groups(dim)));
  block->add(std::make_shared<nn::Permute>(std::vector<int64_t>{0, 2, 3, 1}));
  block->add(std::make_shared<nn::LayerNorm>(Shape{dim}, 1e-6));
  block->add(std::make_shared<nn::Linear>(dim, 4 * dim));
  block->add(std::make_shared<nn::GELU>());
  block->add(std::make_shared<nn::Linear>(4 * dim, dim));
  block->add(std::make_shared<nn::Permute>(std::vector<int64_t>{0, 3, 1, 2}));
  // Registration order = torchvision's attribute order (block, layer_scale, stochastic_depth).
  register_module("block", block);
  layer_scale = register_parameter("layer_scale", Tensor::full({dim, 1, 1}, static_cast<float>(layer_scale_init)));
  stochastic_depth = register_module("stochastic_depth", std::make_shared<nn::StochasticDepth>(sd_prob, "row"));
}

Tensor CNBlock::forward(const Tensor& x) {
  const Tensor y = (*block)(x);
  const Tensor scaled = ops::mul(ops::broadcast_to(layer_scale, y.shape(), label() + " (layer_scale)"), y);
  return ops::add((*stochastic_depth)(scaled), x, residual_label(*this));
}

ConvNeXt::ConvNeXt(const std::string& name, const std::vector<int64_t>& dims, const std::vector<int64_t>& depths,
                   double sd_prob, const ModelArgs& a, double layer_scale)
    : name(name) {
  CONVNET_CHECK(!dims.empty() && dims.size() == depths.size(), name,
                ": dims and depths must have the same, non-zero "
                "length, got ",
                dims.size(), " and ", depths.size());
  check_model_args(a, name);
  features = std::make_shared<nn::Sequential>();
  auto stem = std::make_shared<nn::Sequential>();
  stem->add(std::make_shared<nn::Conv2d>(nn::Conv2dOptions(a.in_channels, dims[0], 4).stride(4)));
  stem->add(std::make_shared<LayerNorm2d>(dims[0]));
  features->add(stem);
  int64_t total = 0;
  for (int64_t d : depths) total += d;
  int64_t id = 0;
  for (size_t s = 0; s < dims.size(); ++s) {
    auto stage = std::make_shared<nn::Sequential>();
    for (int64_t i = 0; i < depths[s]; ++i, ++id)
      stage->add(std::make_shared<CNBlock>(dims[s], layer_scale,
                                           sd_prob * static_cast<double>(id) / (static_cast<double>(total) - 1.0)));
    features->add(stage);
    if (s + 1 < dims.size()) {
      auto down = std::make_shared<nn::Sequential>();
      down->add(std::make_shared<LayerNorm2d>(dims[s]));
      down->add(std::make_shared<nn::Conv2d>(nn::Conv2dOptions(dims[s], dims[s + 1], 2).stride(2)));
      features->add(down);
    }
  }
  register_module("features", features);
  classifier = std::make_shared<nn::Sequential>();
  classifier->add(std::make_shared<LayerNorm2d>(dims.back()));
  classifier->add(std::make_shared<nn::Flatten>(1));
  classifier->add(std::make_shared<nn::Linear>(dims.back(), a.num_classes));
  register_module("classifier", classifier);
  for (auto& [n, m] : named_modules()) {
    if (auto* conv = dynamic_cast<nn::Conv2d*>(m)) {
      nn::init::trunc_normal_(conv->weight, 0, 0.02);
      if (conv->bias.defined()) nn::init::zeros_(conv->bias);
    } else if (auto* fc = dynamic_cast<nn::Linear*>(m)) {
      nn::init::trunc_normal_(fc->weight, 0, 0.02);
      if (fc->bias.defined()) nn::init::zeros_(fc->bias);
    }
  }
}

Tensor ConvNeXt::forward(const Tensor& x) {
  check_input_size(x, kConvNeXtMinInputSize, name);
  return (*classifier)(ops::adaptive_avg_pool2d((*features)(x), {1, 1}, name + " (avgpool)"));
}

std::shared_ptr<ConvNeXt> convnext_tiny(const ModelArgs& a) {
  return std::make_shared<ConvNeXt>("convnext_tiny", std::vector<int64_t>{96, 192, 384, 768},
                                    std::vector<int64_t>{3, 3, 9, 3}, 0.1, a);
}
std::shared_ptr<ConvNeXt> convnext_small(const ModelArgs& a) {
  return std::make_shared<ConvNeXt>("convnext_small", std::vector<int64_t>{96, 192, 384, 768},
                                    std::vector<int64_t>{3, 3, 27, 3}, 0.4, a);
}

}  // namespace convnet::models
