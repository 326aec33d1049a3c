#pragma once
// The model zoo: every model is created by name with the same arguments.
#include <functional>
#include <string>
#include <vector>

#include "convnet/nn/module.h"

namespace convnet::models {

struct ModelArgs {
  int64_t num_classes = 10;
  int64_t in_channels = 1;
  int64_t input_size = 0;  // H = W of the input; 0 = the model's natural size
};

using Factory = std::function<nn::ModulePtr(const ModelArgs&)>;

struct ModelInfo {
  std::string name;
  std::string description;
  Factory factory;
};

const std::vector<ModelInfo>& all();
std::vector<std::string> names();
// Throws convnet::Error listing the known names when `name` is unknown.
nn::ModulePtr create(const std::string& name, const ModelArgs& args = {});

}  // namespace convnet::models
