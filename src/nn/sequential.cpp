#include "convnet/nn/sequential.h"

#include "convnet/core/error.h"

namespace convnet::nn {

Sequential::Sequential(std::vector<ModulePtr> layers) {
  for (auto& m : layers) add(std::move(m));
}

Sequential& Sequential::add(ModulePtr m) { return add(std::to_string(layers_.size()), std::move(m)); }

Sequential& Sequential::add(const std::string& name, ModulePtr m) {
  add_child(name, m);
  layers_.push_back(std::move(m));
  return *this;
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor h = x;
  for (auto& m : layers_) h = (*m)(h);
  return h;
}

void Sequential::replace(size_t i, ModulePtr m) {
  CONVNET_CHECK(i < layers_.size(), "Sequential::replace: index ", i, " out of range (", layers_.size(), " layers)");
  replace_child(named_children()[i].first, m);
  layers_[i] = std::move(m);
}

}  // namespace convnet::nn
