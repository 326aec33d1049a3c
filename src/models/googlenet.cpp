// GoogLeNet as torchvision 0.14's torchvision/models/googlenet.py (see googlenet.h).
#include "convnet/models/googlenet.h"

#include "convnet/core/error.h"
#include "convnet/nn/init.h"
#include "convnet/ops/activation.h"
#include "convnet/ops/concat.h"
#include "convnet/ops/pool2d.h"
#include "models/families.h"  // check_input_size

namespace convnet::models {

BasicConv2d::BasicConv2d(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding) {
  conv = register_module("conv", std::make_shared<nn::Conv2d>(
                                     nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding).bias(false)));
  bn = register_module("bn", std::make_shared<nn::BatchNorm2d>(out, /*eps=*/0.001));
}

Tensor BasicConv2d::forward(const Tensor& x) {
  return ops::relu((*bn)((*conv)(x)));
}

Inception::Inception(int64_t in, int64_t ch1x1, int64_t ch3x3red, int64_t ch3x3, int64_t ch5x5red, int64_t ch5x5,
                     int64_t pool_proj)
    : out_channels_(ch1x1 + ch3x3 + ch5x5 + pool_proj) {
  branch1_ = register_module("branch1", std::make_shared<BasicConv2d>(in, ch1x1, 1));
  branch2_ = register_module("branch2", std::make_shared<nn::Sequential>(std::vector<nn::ModulePtr>{
                                            std::make_shared<BasicConv2d>(in, ch3x3red, 1),
                                            std::make_shared<BasicConv2d>(ch3x3red, ch3x3, 3, 1, 1)}));
  // torchvision uses 3x3 here where the paper has 5x5 (pytorch/vision#906); kept so that
  // torchvision's weights load.
  branch3_ = register_module("branch3", std::make_shared<nn::Sequential>(std::vector<nn::ModulePtr>{
                                            std::make_shared<BasicConv2d>(in, ch5x5red, 1),
                                            std::make_shared<BasicConv2d>(ch5x5red, ch5x5, 3, 1, 1)}));
  branch4_ = register_module("branch4", std::make_shared<nn::Sequential>(std::vector<nn::ModulePtr>{
                                            std::make_shared<nn::MaxPool2d>(3, 1, 1, 1, /*ceil_mode=*/true),
                                            std::make_shared<BasicConv2d>(in, pool_proj, 1)}));
}

Tensor Inception::forward(const Tensor& x) {
  return ops::concat({(*branch1_)(x), (*branch2_)(x), (*branch3_)(x), (*branch4_)(x)}, 1, label());
}

InceptionAux::InceptionAux(int64_t in, int64_t num_classes, double dropout) {
  conv_ = register_module("conv", std::make_shared<BasicConv2d>(in, 128, 1));
  fc1_ = register_module("fc1", std::make_shared<nn::Linear>(2048, 1024));
  fc2_ = register_module("fc2", std::make_shared<nn::Linear>(1024, num_classes));
  dropout_ = register_module("dropout", std::make_shared<nn::Dropout>(dropout));
}

Tensor InceptionAux::forward(const Tensor& x) {
  Tensor y = (*conv_)(ops::adaptive_avg_pool2d(x, {4, 4}, label()));  // (N, 128, 4, 4)
  y = ops::relu((*fc1_)(y.flatten(1)));
  return (*fc2_)((*dropout_)(y));
}

GoogLeNet::GoogLeNet(const ModelArgs& a, const GoogLeNetOptions& opt) {
  check_model_args(a, "googlenet");
  auto maxpool = [](int64_t k) { return std::make_shared<nn::MaxPool2d>(k, 2, 0, 1, /*ceil_mode=*/true); };
  // Registration order is torchvision's, so state_dict() iterates in the same order.
  conv1_ = register_module("conv1", std::make_shared<BasicConv2d>(a.in_channels, 64, 7, 2, 3));
  maxpool1_ = register_module("maxpool1", maxpool(3));
  conv2_ = register_module("conv2", std::make_shared<BasicConv2d>(64, 64, 1));
  conv3_ = register_module("conv3", std::make_shared<BasicConv2d>(64, 192, 3, 1, 1));
  maxpool2_ = register_module("maxpool2", maxpool(3));
  // Inception(in, #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj): Table 1 of the paper.
  inception3a_ = register_module("inception3a", std::make_shared<Inception>(192, 64, 96, 128, 16, 32, 32));
  inception3b_ = register_module("inception3b", std::make_shared<Inception>(256, 128, 128, 192, 32, 96, 64));
  maxpool3_ = register_module("maxpool3", maxpool(3));
  inception4a_ = register_module("inception4a", std::make_shared<Inception>(480, 192, 96, 208, 16, 48, 64));
  inception4b_ = register_module("inception4b", std::make_shared<Inception>(512, 160, 112, 224, 24, 64, 64));
  inception4c_ = register_module("inception4c", std::make_shared<Inception>(512, 128, 128, 256, 24, 64, 64));
  inception4d_ = register_module("inception4d", std::make_shared<Inception>(512, 112, 144, 288, 32, 64, 64));
  inception4e_ = register_module("inception4e", std::make_shared<Inception>(528, 256, 160, 320, 32, 128, 128));
  maxpool4_ = register_module("maxpool4", maxpool(2));
  inception5a_ = register_module("inception5a", std::make_shared<Inception>(832, 256, 160, 320, 32, 128, 128));
  inception5b_ = register_module("inception5b", std::make_shared<Inception>(832, 384, 192, 384, 48, 128, 128));
  if (opt.aux_logits) {
    aux1_ = register_module("aux1", std::make_shared<InceptionAux>(512, a.num_classes, opt.dropout_aux));
    aux2_ = register_module("aux2", std::make_shared<InceptionAux>(528, a.num_classes, opt.dropout_aux));
  }
  avgpool_ = register_module("avgpool", std::make_shared<nn::AdaptiveAvgPool2d>(1));
  dropout_ = register_module("dropout", std::make_shared<nn::Dropout>(opt.dropout));
  fc_ = register_module("fc", std::make_shared<nn::Linear>(1024, a.num_classes));

  // torchvision's init_weights=True (biases of Linear layers keep PyTorch's default).
  for (auto& [name, m] : named_modules()) {
    if (auto* c = dynamic_cast<nn::Conv2d*>(m)) {
      nn::init::trunc_normal_(c->weight, 0.0, 0.01, -2.0, 2.0);
    } else if (auto* l = dynamic_cast<nn::Linear*>(m)) {
      nn::init::trunc_normal_(l->weight, 0.0, 0.01, -2.0, 2.0);
    } else if (auto* bn = dynamic_cast<nn::BatchNorm*>(m)) {
      nn::init::ones_(bn->weight);
      nn::init::zeros_(bn->bias);
    }
  }
}

Tensor GoogLeNet::forward(const Tensor& x) {
  check_input_size(x, kMinInputSize, "googlenet");
  aux1_out_ = Tensor();
  aux2_out_ = Tensor();
  // Sizes for a 224x224 input in the comments, as torchvision's.
  Tensor y = (*maxpool1_)((*conv1_)(x));      // 64 x 56 x 56
  y = (*maxpool2_)((*conv3_)((*conv2_)(y)));  // 192 x 28 x 28
  y = (*inception3b_)((*inception3a_)(y));    // 480 x 28 x 28
  y = (*inception4a_)((*maxpool3_)(y));       // 512 x 14 x 14
  if (aux1_ && is_training()) aux1_out_ = (*aux1_)(y);
  y = (*inception4d_)((*inception4c_)((*inception4b_)(y)));  // 528 x 14 x 14
  if (aux2_ && is_training()) aux2_out_ = (*aux2_)(y);
  y = (*maxpool4_)((*inception4e_)(y));     // 832 x 7 x 7
  y = (*inception5b_)((*inception5a_)(y));  // 1024 x 7 x 7
  y = (*avgpool_)(y).flatten(1);            // 1024
  return (*fc_)((*dropout_)(y));
}

std::shared_ptr<GoogLeNet> googlenet(const ModelArgs& args, const GoogLeNetOptions& opt) {
  return std::make_shared<GoogLeNet>(args, opt);
}

}  // namespace convnet::models
