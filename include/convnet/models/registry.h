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
  // Replace the classifier's Linear layers by the equivalent convolutions (a Linear over
  // a C x k x k map is a k x k Conv2d with the same weights); for models that have such
  // a head (lenet, alexnet, vgg). Others ignore it (their heads are already global-pool + 1 layer).
  bool fully_conv = false;
};

using Factory = std::function<nn::ModulePtr(const ModelArgs&)>;

struct ModelInfo {
  std::string name;
  std::string description;
  Factory factory;
  int64_t min_input_size = 1;      // smallest H = W the geometry accepts
  int64_t default_input_size = 32; // what `convnet summary` and `bench` use by default
  bool torchvision = false;        // parameter names equal torchvision's state_dict keys
  int64_t default_in_channels = 3;  // the input channels of the data the model is made for
};

const ModelInfo& info(const std::string& name);  // throws like create()

const std::vector<ModelInfo>& all();
std::vector<std::string> names();
// Throws convnet::Error listing the known names when `name` is unknown.
nn::ModulePtr create(const std::string& name, const ModelArgs& args = {});

}  // namespace convnet::models
