#include "convnet/models/registry.h"

#include "convnet/core/error.h"
#include "convnet/models/lenet.h"

namespace convnet::models {

const std::vector<ModelInfo>& all() {
  static const std::vector<ModelInfo> zoo = {
      {"lenet5", "LeNet-5, modern form: ReLU + max pooling (28x28 or 32x32 input)",
       [](const ModelArgs& a) -> nn::ModulePtr { return lenet5(a); }},
      {"lenet5_classic", "LeNet-5, classic form: tanh + average pooling (28x28 or 32x32 input)",
       [](const ModelArgs& a) -> nn::ModulePtr { return lenet5_classic(a); }},
  };
  return zoo;
}

std::vector<std::string> names() {
  std::vector<std::string> out;
  for (const auto& m : all()) out.push_back(m.name);
  return out;
}

nn::ModulePtr create(const std::string& name, const ModelArgs& args) {
  for (const auto& m : all())
    if (m.name == name) return m.factory(args);
  std::string known;
  for (const auto& n : names()) known += (known.empty() ? "" : ", ") + n;
  throw Error("unknown model '" + name + "'; known models: " + known);
}

}  // namespace convnet::models
