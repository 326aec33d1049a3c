// Zoo entries of the multi-branch / concatenating family: GoogLeNet and DenseNet.
#include "convnet/models/densenet.h"
#include "convnet/models/googlenet.h"
#include "models/families.h"

namespace convnet::models {

namespace {
ModelInfo densenet_entry(const std::string& name, const std::string& description, bool torchvision,
                         int64_t default_size) {
  return {name,
          description,
          [name](const ModelArgs& a) -> nn::ModulePtr { return densenet(name, a); },
          densenet_min_input_size(densenet_config(name)),
          default_size,
          torchvision};
}
}  // namespace

void add_inception_models(std::vector<ModelInfo>& zoo) {
  zoo.push_back({"googlenet",
                 "GoogLeNet / Inception v1 (Szegedy et al. 2015) as torchvision: BatchNorm, 3x3 convs in the '5x5' "
                 "branch, no auxiliary heads",
                 [](const ModelArgs& a) -> nn::ModulePtr { return googlenet(a); }, GoogLeNet::kMinInputSize, 224,
                 true});
  zoo.push_back(densenet_entry("densenet121", "DenseNet-121 (Huang et al. 2017), k=32, blocks 6-12-24-16", true, 224));
  zoo.push_back(densenet_entry("densenet161", "DenseNet-161, k=48, blocks 6-12-36-24, 96 initial features", true, 224));
  zoo.push_back(densenet_entry("densenet169", "DenseNet-169, k=32, blocks 6-12-32-32", true, 224));
  zoo.push_back(densenet_entry("densenet201", "DenseNet-201, k=32, blocks 6-12-48-32", true, 224));
  zoo.push_back(densenet_entry("densenet_bc_100_12",
                               "DenseNet-BC for CIFAR (Huang et al. 2017), L=100, k=12: 3 blocks of 16 bottleneck "
                               "layers, 0.8M parameters",
                               false, 32));
}

}  // namespace convnet::models
