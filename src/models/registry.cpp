#include "convnet/models/registry.h"

#include "convnet/core/error.h"
#include "models/families.h"

namespace convnet::models {

const std::vector<ModelInfo>& all() {
  static const std::vector<ModelInfo> zoo = [] {
    std::vector<ModelInfo> z;
    add_lenet_models(z);
    add_classic_models(z);
    add_resnet_models(z);
    add_inception_models(z);
    add_modern_models(z);
    return z;
  }();
  return zoo;
}

std::vector<std::string> names() {
  std::vector<std::string> out;
  for (const auto& m : all()) out.push_back(m.name);
  return out;
}

const ModelInfo& info(const std::string& name) {
  for (const auto& m : all())
    if (m.name == name) return m;
  std::string known;
  for (const auto& n : names()) known += (known.empty() ? "" : ", ") + n;
  throw Error("unknown model '" + name + "'; known models: " + known);
}

nn::ModulePtr create(const std::string& name, const ModelArgs& args) {
  const ModelInfo& m = info(name);
  CONVNET_CHECK(args.input_size == 0 || args.input_size >= m.min_input_size, name, ": input size ", args.input_size,
                "x", args.input_size, " is too small; the smallest input this model accepts is ", m.min_input_size, "x",
                m.min_input_size);
  return m.factory(args);
}

void check_model_args(const ModelArgs& a, const std::string& model) {
  CONVNET_CHECK(a.num_classes >= 1, model, ": num_classes must be positive, got ", a.num_classes);
  CONVNET_CHECK(a.in_channels >= 1, model, ": in_channels must be positive, got ", a.in_channels);
}

void check_input_size(const Tensor& x, int64_t min_size, const std::string& model) {
  CONVNET_CHECK(x.dim() == 4, model, ": expected a 4-D input (N, C, H, W), got input of shape ", shape_str(x.shape()));
  CONVNET_CHECK(x.size(2) >= min_size && x.size(3) >= min_size, model, ": input of shape ", shape_str(x.shape()),
                " is too small; the smallest input this model accepts is ", min_size, "x", min_size);
}

}  // namespace convnet::models
