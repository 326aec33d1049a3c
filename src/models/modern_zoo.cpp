// The zoo entries of the torchvision families added for issue 18: SqueezeNet,
// ShuffleNetV2, MNASNet, EfficientNet, RegNet and ConvNeXt.
#include "convnet/models/convnext.h"
#include "convnet/models/efficientnet.h"
#include "convnet/models/mnasnet.h"
#include "convnet/models/regnet.h"
#include "convnet/models/shufflenet.h"
#include "convnet/models/squeezenet.h"
#include "models/families.h"

namespace convnet::models {

void add_modern_models(std::vector<ModelInfo>& zoo) {
  using Make = std::function<nn::ModulePtr(const ModelArgs&)>;
  const auto tv = [&zoo](const std::string& name, const std::string& description, Make make, int64_t min_size = 1) {
    zoo.push_back({name, description, std::move(make), min_size, 224, true});
  };
  tv(
      "squeezenet1_0", "SqueezeNet 1.0 (Iandola et al. 2016), torchvision: Fire modules, conv head, 1.2M params",
      [](const ModelArgs& a) -> nn::ModulePtr { return squeezenet1_0(a); }, kSqueezeNet10MinInputSize);
  tv(
      "squeezenet1_1", "SqueezeNet 1.1, torchvision: 2.4x less computation than 1.0, 1.2M params",
      [](const ModelArgs& a) -> nn::ModulePtr { return squeezenet1_1(a); }, kSqueezeNet11MinInputSize);
  tv("shufflenet_v2_x0_5", "ShuffleNetV2 0.5x (Ma et al. 2018), torchvision: channel split and shuffle, 1.4M params",
     [](const ModelArgs& a) -> nn::ModulePtr { return shufflenet_v2_x0_5(a); });
  tv("shufflenet_v2_x1_0", "ShuffleNetV2 1.0x, torchvision: channel split and shuffle, 2.3M params",
     [](const ModelArgs& a) -> nn::ModulePtr { return shufflenet_v2_x1_0(a); });
  tv("shufflenet_v2_x1_5", "ShuffleNetV2 1.5x, torchvision: channel split and shuffle, 3.5M params",
     [](const ModelArgs& a) -> nn::ModulePtr { return shufflenet_v2_x1_5(a); });
  tv("shufflenet_v2_x2_0", "ShuffleNetV2 2.0x, torchvision: channel split and shuffle, 7.4M params",
     [](const ModelArgs& a) -> nn::ModulePtr { return shufflenet_v2_x2_0(a); });
  tv("mnasnet0_5", "MNASNet-B1 0.5 (Tan et al. 2019), torchvision: searched inverted residuals, 2.2M params",
     [](const ModelArgs& a) -> nn::ModulePtr { return mnasnet0_5(a); });
  tv("mnasnet0_75", "MNASNet-B1 0.75, torchvision, 3.2M params",
     [](const ModelArgs& a) -> nn::ModulePtr { return mnasnet0_75(a); });
  tv("mnasnet1_0", "MNASNet-B1 1.0, torchvision, 4.4M params",
     [](const ModelArgs& a) -> nn::ModulePtr { return mnasnet1_0(a); });
  tv("mnasnet1_3", "MNASNet-B1 1.3, torchvision, 6.3M params",
     [](const ModelArgs& a) -> nn::ModulePtr { return mnasnet1_3(a); });
  tv("efficientnet_b0", "EfficientNet-B0 (Tan & Le 2019), torchvision: MBConv, SiLU, SE, stochastic depth, 5.3M params",
     [](const ModelArgs& a) -> nn::ModulePtr { return efficientnet_b0(a); });
  tv("efficientnet_b1", "EfficientNet-B1, torchvision: depth x1.1, 7.8M params",
     [](const ModelArgs& a) -> nn::ModulePtr { return efficientnet_b1(a); });
  tv("efficientnet_b2", "EfficientNet-B2, torchvision: width x1.1, depth x1.2, 9.1M params",
     [](const ModelArgs& a) -> nn::ModulePtr { return efficientnet_b2(a); });
  tv("efficientnet_b3", "EfficientNet-B3, torchvision: width x1.2, depth x1.4, 12.2M params",
     [](const ModelArgs& a) -> nn::ModulePtr { return efficientnet_b3(a); });
  tv(
      "convnext_tiny", "ConvNeXt-T (Liu et al. 2022), torchvision: 7x7 depthwise, LayerNorm, GELU, 28.6M params",
      [](const ModelArgs& a) -> nn::ModulePtr { return convnext_tiny(a); }, kConvNeXtMinInputSize);
  tv(
      "convnext_small", "ConvNeXt-S, torchvision: depths 3, 3, 27, 3, 50.2M params",
      [](const ModelArgs& a) -> nn::ModulePtr { return convnext_small(a); }, kConvNeXtMinInputSize);
  for (const char* n : {"regnet_y_400mf", "regnet_y_800mf", "regnet_y_1_6gf", "regnet_y_3_2gf", "regnet_x_400mf",
                        "regnet_x_800mf", "regnet_x_1_6gf", "regnet_x_3_2gf"}) {
    const std::string name = n;
    const bool y = name[7] == 'y';
    tv(name,
       std::string(y ? "RegNetY" : "RegNetX") + " " + name.substr(9) +
           " (Radosavovic et al. 2020), torchvision: grouped bottlenecks" + (y ? " with SE" : ""),
       [name](const ModelArgs& a) -> nn::ModulePtr { return regnet(name, a); });
  }
}

}  // namespace convnet::models
