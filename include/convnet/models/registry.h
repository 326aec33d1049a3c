#pragma once
#pragma GCC visibility push(default)
/// \file
/// The model zoo: every model is created by name with the same arguments (ModelArgs), and
/// each name has a ModelInfo entry (description, smallest and natural input size, whether
/// its parameter names are torchvision's). The families themselves are declared in
/// lenet.h, classic.h, resnet.h, mobilenet.h, googlenet.h, densenet.h, squeezenet.h,
/// shufflenet.h, mnasnet.h, efficientnet.h, regnet.h and convnext.h.
#include <functional>
#include <string>
#include <vector>

#include "convnet/nn/module.h"

namespace convnet::models {

/// The arguments every model factory takes.
struct ModelArgs {
  int64_t num_classes = 10;  ///< Outputs of the classifier (the logits' second dimension); positive.
  int64_t in_channels = 1;   ///< Channels of the input images (C of (N, C, H, W)); positive.
  /// H = W of the input; 0 = the model's natural size. LeNet-5 builds its geometry from it;
  /// create() refuses a size below the model's ModelInfo::min_input_size; the other
  /// factories ignore it.
  int64_t input_size = 0;
  /// Replace the classifier's Linear layers by the equivalent convolutions (a Linear over
  /// a C x k x k map is a k x k Conv2d with the same weights); for the models that have such
  /// a head (alexnet, alexnet_cifar, vgg*: see classic.h). The others ignore it: most heads
  /// are already global pooling + one layer, and lenet5's Linear head is not converted.
  bool fully_conv = false;
};

/// A model factory: builds a new model, with fresh initial weights, from ModelArgs.
using Factory = std::function<nn::ModulePtr(const ModelArgs&)>;

/// One entry of the zoo.
struct ModelInfo {
  std::string name;         ///< The zoo name, e.g. "resnet18".
  std::string description;  ///< One line for listings.
  Factory factory;          ///< Builds the model; create() checks the input size first.
  int64_t min_input_size = 1;      ///< smallest H = W the geometry accepts
  /// The H = W the model is made for (224 for the ImageNet models); `convnet summary` and
  /// `convnet export` use it by default.
  int64_t default_input_size = 32;
  bool torchvision = false;        ///< parameter names equal torchvision's state_dict keys
  int64_t default_in_channels = 3;  ///< the input channels of the data the model is made for
};

/// The zoo entry named `name`.
/// \pre  `name` is one of names().
/// \post a reference to the entry, valid for the life of the program.
/// \throws convnet::Error listing every known name when `name` is unknown, as create().
const ModelInfo& info(const std::string& name);

/// Every zoo entry, in a fixed order (LeNet, classic CNNs, ResNet family, GoogLeNet and DenseNet).
/// \post the same vector on every call (built on the first).
const std::vector<ModelInfo>& all();
/// The names of all(), in the same order.
std::vector<std::string> names();
/// Builds the zoo model `name` for `args` (as torchvision.models.get_model).
/// \pre  `name` is one of names(); `args.input_size` is 0 or at least the entry's
///       min_input_size; `args.num_classes` and `args.in_channels` are positive.
/// \post a new model, in training mode, with its initial weights; its forward() takes
///       (N, args.in_channels, H, W) and returns (N, args.num_classes) logits.
/// \throws convnet::Error listing the known names when `name` is unknown; naming the model
///         and both sizes when `args.input_size` is below the smallest input it accepts; and
///         as the model's factory, for arguments it refuses (a non-positive num_classes or
///         in_channels).
nn::ModulePtr create(const std::string& name, const ModelArgs& args = {});

}  // namespace convnet::models
#pragma GCC visibility pop
