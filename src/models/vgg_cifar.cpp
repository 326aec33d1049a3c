// VGG-11 with BatchNorm in its CIFAR form, exactly the model of the PyTorch peer benchmark
// (shared/bench/pytorch_peer.py, vgg11_bn_cifar): configuration A of Simonyan & Zisserman
// (64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M), each conv 3x3 with padding 1,
// bias, BatchNorm2d and ReLU; after the fifth pooling a 32x32 input is 512x1x1, so the head
// is Flatten + one Linear(512, classes), with PyTorch's default initialization. (The zoo's
// "vgg11_bn" is torchvision's ImageNet form: 7x7 adaptive pooling and a 4096-wide head.)
#include "convnet/models/registry.h"
#include "convnet/nn/layers.h"
#include "convnet/nn/sequential.h"

namespace convnet::models {

namespace {

nn::ModulePtr vgg11_bn_cifar(const ModelArgs& a) {
  auto net = std::make_shared<nn::Sequential>();
  int64_t in = a.in_channels;
  for (int64_t v : {64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0}) {
    if (v == 0) {
      net->add(std::make_shared<nn::MaxPool2d>(2));
      continue;
    }
    net->add(std::make_shared<nn::Conv2d>(in, v, 3, 1, Padding(1)));
    net->add(std::make_shared<nn::BatchNorm2d>(v));
    net->add(std::make_shared<nn::ReLU>());
    in = v;
  }
  net->add(std::make_shared<nn::Flatten>());
  net->add(std::make_shared<nn::Linear>(512, a.num_classes));
  return net;
}

}  // namespace

void add_vgg_cifar_models(std::vector<ModelInfo>& zoo) {
  zoo.push_back({"vgg11_bn_cifar",
                 "VGG-11 with BatchNorm for 32x32 inputs (the PyTorch peer benchmark's): 8 3x3 convs, 5 max pools, "
                 "one Linear(512)",
                 vgg11_bn_cifar, 32, 32, false});
}

}  // namespace convnet::models
