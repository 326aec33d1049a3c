#pragma once
// GoogLeNet / Inception v1 (Szegedy et al., "Going Deeper with Convolutions", CVPR 2015)
// exactly as torchvision 0.14 builds it with googlenet(weights=None, aux_logits=False,
// init_weights=True), so torchvision's state_dict keys load unchanged
// ("conv1.conv.weight", "inception3a.branch2.0.bn.running_mean", "fc.bias", ...):
//
//   conv1 7x7/2 (64) - maxpool1 3/2 ceil - conv2 1x1 (64) - conv3 3x3 (192) - maxpool2 3/2 ceil
//   inception3a, 3b - maxpool3 3/2 ceil - inception4a..4e - maxpool4 2/2 ceil - inception5a, 5b
//   avgpool (adaptive 1x1) - flatten - dropout 0.2 - fc (1024 -> num_classes)
//
// Every convolution is a BasicConv2d: Conv2d(bias=False) + BatchNorm2d(eps=0.001) + ReLU
// (the BatchNorm is torchvision's addition; the 2014 network had none).
// Differences from the paper, all as torchvision:
//  - branch3 of every Inception block uses a 3x3 convolution where the paper has 5x5
//    (a known torchvision quirk kept for weight compatibility: pytorch/vision#906);
//  - no local response normalization; dropout 0.2 instead of 0.4;
//  - transform_input (ImageNet re-normalization of the input) is off.
// Initialization as torchvision's init_weights=True: trunc_normal_(std 0.01, a=-2, b=2)
// for every Conv2d and Linear weight, BatchNorm weight 1 and bias 0; the fc bias keeps
// PyTorch's default init.
//
// The auxiliary classifiers (aux1 after inception4a, aux2 after inception4d) exist only
// when GoogLeNetOptions::aux_logits is set (off in the zoo, as torchvision's export). Then,
// in training mode, forward() still returns the main logits and leaves the auxiliary
// logits in aux_logits1() / aux_logits2() (the paper adds them to the loss with weight
// 0.3); in eval mode they are not computed.
#include <memory>

#include "convnet/models/registry.h"
#include "convnet/nn/layers.h"
#include "convnet/nn/sequential.h"

namespace convnet::models {

// Conv2d(in, out, k, stride, padding, bias=False) -> BatchNorm2d(out, eps=0.001) -> ReLU.
// Children "conv" and "bn" as torchvision's BasicConv2d.
class BasicConv2d : public nn::Module {
 public:
  BasicConv2d(int64_t in, int64_t out, int64_t kernel, int64_t stride = 1, int64_t padding = 0);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "BasicConv2d"; }
  std::shared_ptr<nn::Conv2d> conv;
  std::shared_ptr<nn::BatchNorm2d> bn;
};

// Four parallel branches concatenated along channels:
//   branch1: 1x1 (ch1x1)
//   branch2: 1x1 (ch3x3red) -> 3x3 (ch3x3)
//   branch3: 1x1 (ch5x5red) -> 3x3 (ch5x5)   [5x5 in the paper; see above]
//   branch4: maxpool 3/1 pad 1 ceil -> 1x1 (pool_proj)
// out_channels() = ch1x1 + ch3x3 + ch5x5 + pool_proj; the spatial size is unchanged.
class Inception : public nn::Module {
 public:
  Inception(int64_t in, int64_t ch1x1, int64_t ch3x3red, int64_t ch3x3, int64_t ch5x5red, int64_t ch5x5,
            int64_t pool_proj);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Inception"; }
  int64_t out_channels() const { return out_channels_; }

 private:
  std::shared_ptr<BasicConv2d> branch1_;
  std::shared_ptr<nn::Sequential> branch2_, branch3_, branch4_;
  int64_t out_channels_;
};

// Auxiliary head: adaptive avg pool 4x4 -> BasicConv2d 1x1 (128) -> flatten (2048) ->
// fc1 (1024) -> ReLU -> dropout 0.7 -> fc2 (num_classes).
class InceptionAux : public nn::Module {
 public:
  InceptionAux(int64_t in, int64_t num_classes, double dropout = 0.7);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "InceptionAux"; }

 private:
  std::shared_ptr<BasicConv2d> conv_;
  std::shared_ptr<nn::Linear> fc1_, fc2_;
  std::shared_ptr<nn::Dropout> dropout_;
};

struct GoogLeNetOptions {
  bool aux_logits = false;
  double dropout = 0.2;
  double dropout_aux = 0.7;
};

class GoogLeNet : public nn::Module {
 public:
  // The smallest H = W the geometry accepts (as torchvision: maxpool3 needs a 2x2 input).
  static constexpr int64_t kMinInputSize = 15;
  explicit GoogLeNet(const ModelArgs& args = {}, const GoogLeNetOptions& opt = {});
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "GoogLeNet"; }
  // Logits of the auxiliary heads from the last training-mode forward (undefined
  // otherwise, or when the net was built without them).
  const Tensor& aux_logits1() const { return aux1_out_; }
  const Tensor& aux_logits2() const { return aux2_out_; }

 private:
  std::shared_ptr<BasicConv2d> conv1_, conv2_, conv3_;
  std::shared_ptr<nn::MaxPool2d> maxpool1_, maxpool2_, maxpool3_, maxpool4_;
  std::shared_ptr<Inception> inception3a_, inception3b_, inception4a_, inception4b_, inception4c_, inception4d_,
      inception4e_, inception5a_, inception5b_;
  std::shared_ptr<InceptionAux> aux1_, aux2_;
  std::shared_ptr<nn::AdaptiveAvgPool2d> avgpool_;
  std::shared_ptr<nn::Dropout> dropout_;
  std::shared_ptr<nn::Linear> fc_;
  Tensor aux1_out_, aux2_out_;
};

std::shared_ptr<GoogLeNet> googlenet(const ModelArgs& args = {}, const GoogLeNetOptions& opt = {});

}  // namespace convnet::models
