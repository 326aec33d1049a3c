#pragma once
// Each model family adds its entries to the zoo table (explicit calls: a static
// library drops objects nobody references, so self-registration would not work).
#include <vector>

#include "convnet/models/registry.h"

namespace convnet::models {
void add_lenet_models(std::vector<ModelInfo>& zoo);
void add_classic_models(std::vector<ModelInfo>& zoo);    // alexnet, vgg*, nin, allconv
void add_resnet_models(std::vector<ModelInfo>& zoo);     // resnet*, resnext, wide resnets, cifar resnets, mobilenet_v2
void add_inception_models(std::vector<ModelInfo>& zoo);  // googlenet, densenet*
void add_modern_models(std::vector<ModelInfo>& zoo);  // squeezenet, shufflenet, mnasnet, efficientnet, regnet, convnext

// For a model's forward(): throws "<model>: input of shape (..) is too small; the
// smallest input this model accepts is SxS".
void check_input_size(const Tensor& x, int64_t min_size, const std::string& model);

// For a model's constructor: throws "<model>: num_classes must be positive, got N" (and
// likewise in_channels).
void check_model_args(const ModelArgs& a, const std::string& model);
}  // namespace convnet::models
