#pragma once
#pragma GCC visibility push(default)
/// \file
/// GoogLeNet / Inception v1 (Szegedy et al., "Going Deeper with Convolutions", CVPR 2015)
/// exactly as torchvision 0.14 builds it with googlenet(weights=None, aux_logits=False,
/// init_weights=True), so torchvision's state_dict keys load unchanged
/// ("conv1.conv.weight", "inception3a.branch2.0.bn.running_mean", "fc.bias", ...), with its
/// building blocks (BasicConv2d, Inception, InceptionAux):
/// \verbatim
///   conv1 7x7/2 (64) - maxpool1 3/2 ceil - conv2 1x1 (64) - conv3 3x3 (192) - maxpool2 3/2 ceil
///   inception3a, 3b - maxpool3 3/2 ceil - inception4a..4e - maxpool4 2/2 ceil - inception5a, 5b
///   avgpool (adaptive 1x1) - flatten - dropout 0.2 - fc (1024 -> num_classes)
/// \endverbatim
/// Every convolution is a BasicConv2d: Conv2d(bias=False) + BatchNorm2d(eps=0.001) + ReLU
/// (the BatchNorm is torchvision's addition; the 2014 network had none).
/// Differences from the paper, all as torchvision:
///  - branch3 of every Inception block uses a 3x3 convolution where the paper has 5x5
///    (a known torchvision quirk kept for weight compatibility: pytorch/vision issue 906);
///  - no local response normalization; dropout 0.2 instead of 0.4;
///  - transform_input (ImageNet re-normalization of the input) is off.
///
/// Initialization as torchvision's init_weights=True: trunc_normal_(std 0.01, a=-2, b=2)
/// for every Conv2d and Linear weight, BatchNorm weight 1 and bias 0; the fc bias keeps
/// PyTorch's default init.
///
/// The auxiliary classifiers (aux1 after inception4a, aux2 after inception4d) exist only
/// when GoogLeNetOptions::aux_logits is set (off in the zoo, as torchvision's export). Then,
/// in training mode, forward() still returns the main logits and leaves the auxiliary
/// logits in aux_logits1() / aux_logits2() (the paper adds them to the loss with weight
/// 0.3); in eval mode they are not computed.
///
/// Every forward() here takes (N, C, H, W) float32 on the CPU (bfloat16 / float16 under
/// autocast, see ops/autocast.h). In training mode each BatchNorm needs more than one value
/// per channel, as in PyTorch.
#include <memory>

#include "convnet/models/registry.h"
#include "convnet/nn/layers.h"
#include "convnet/nn/sequential.h"

namespace convnet::models {

/// torchvision's BasicConv2d: Conv2d(in, out, k, stride, padding, bias=False) ->
/// BatchNorm2d(out, eps=0.001) -> ReLU. Children "conv" and "bn".
class BasicConv2d : public nn::Module {
 public:
  /// A `kernel` x `kernel` convolution from `in` to `out` channels and its BatchNorm.
  /// \pre  `in`, `out`, `kernel`, `stride` positive; `padding` >= 0.
  /// \post the layers with PyTorch's default init (GoogLeNet re-initializes them).
  /// \throws convnet::Error from the Conv2d / BatchNorm2d constructors for non-positive sizes.
  BasicConv2d(int64_t in, int64_t out, int64_t kernel, int64_t stride = 1, int64_t padding = 0);
  /// relu(bn(conv(x))).
  /// \pre  `x` is (N, in, H, W) with H, W large enough for the kernel.
  /// \post (N, out, H', W') as the convolution's arithmetic gives.
  /// \throws convnet::Error naming the layer for a wrong rank, channel count or a too small input.
  Tensor forward(const Tensor& x) override;
  /// "BasicConv2d".
  std::string type_name() const override { return "BasicConv2d"; }
  std::shared_ptr<nn::Conv2d> conv;     ///< The convolution (no bias).
  std::shared_ptr<nn::BatchNorm2d> bn;  ///< BatchNorm2d(out, eps=0.001).
};

/// torchvision's Inception block: four parallel branches concatenated along channels:
/// \verbatim
///   branch1: 1x1 (ch1x1)
///   branch2: 1x1 (ch3x3red) -> 3x3 (ch3x3)
///   branch3: 1x1 (ch5x5red) -> 3x3 (ch5x5)   [5x5 in the paper; see above]
///   branch4: maxpool 3/1 pad 1 ceil -> 1x1 (pool_proj)
/// \endverbatim
/// out_channels() = ch1x1 + ch3x3 + ch5x5 + pool_proj; the spatial size is unchanged.
class Inception : public nn::Module {
 public:
  /// A block taking `in` channels, with the branch widths of the paper's Table 1.
  /// \pre  every argument positive.
  /// \throws convnet::Error from the layers' constructors for non-positive sizes.
  Inception(int64_t in, int64_t ch1x1, int64_t ch3x3red, int64_t ch3x3, int64_t ch5x5red, int64_t ch5x5,
            int64_t pool_proj);
  /// The four branches on `x`, concatenated in order.
  /// \pre  `x` is (N, in, H, W).
  /// \post (N, out_channels(), H, W).
  /// \throws convnet::Error naming the layer for a wrong rank or channel count.
  Tensor forward(const Tensor& x) override;
  /// "Inception".
  std::string type_name() const override { return "Inception"; }
  /// ch1x1 + ch3x3 + ch5x5 + pool_proj.
  int64_t out_channels() const { return out_channels_; }

 private:
  std::shared_ptr<BasicConv2d> branch1_;
  std::shared_ptr<nn::Sequential> branch2_, branch3_, branch4_;
  int64_t out_channels_;
};

/// torchvision's InceptionAux, an auxiliary head: adaptive avg pool 4x4 -> BasicConv2d 1x1
/// (128) -> flatten (2048) -> fc1 (1024) -> ReLU -> dropout 0.7 -> fc2 (num_classes).
class InceptionAux : public nn::Module {
 public:
  /// A head taking `in` channels; children conv, fc1, fc2, dropout.
  /// \pre  `in`, `num_classes` positive; 0 <= `dropout` <= 1.
  /// \throws convnet::Error from the layers' constructors otherwise.
  InceptionAux(int64_t in, int64_t num_classes, double dropout = 0.7);
  /// Auxiliary logits.
  /// \pre  `x` is (N, in, H, W).
  /// \post (N, num_classes).
  /// \throws convnet::Error naming the layer for a wrong rank or channel count.
  Tensor forward(const Tensor& x) override;
  /// "InceptionAux".
  std::string type_name() const override { return "InceptionAux"; }

 private:
  std::shared_ptr<BasicConv2d> conv_;
  std::shared_ptr<nn::Linear> fc1_, fc2_;
  std::shared_ptr<nn::Dropout> dropout_;
};

/// GoogLeNet's options beyond ModelArgs (torchvision's googlenet() arguments).
struct GoogLeNetOptions {
  bool aux_logits = false;   ///< Build the auxiliary heads aux1 and aux2.
  double dropout = 0.2;      ///< Dropout probability before fc.
  double dropout_aux = 0.7;  ///< Dropout probability in the auxiliary heads.
};

/// torchvision's GoogLeNet (see the file comment).
class GoogLeNet : public nn::Module {
 public:
  /// The smallest H = W the geometry accepts (as torchvision: maxpool3 needs a 2x2 input).
  static constexpr int64_t kMinInputSize = 15;
  /// Builds and initializes the network.
  /// \pre  `args.num_classes`, `args.in_channels` positive; `opt.dropout` and
  ///       `opt.dropout_aux` in [0, 1].
  /// \post conv1 takes args.in_channels channels; fc is Linear(1024, args.num_classes);
  ///       aux1 and aux2 exist only when `opt.aux_logits`; training mode.
  /// \throws convnet::Error naming "googlenet" for a non-positive num_classes or in_channels;
  ///         from the Dropout constructor for a probability outside [0, 1].
  explicit GoogLeNet(const ModelArgs& args = {}, const GoogLeNetOptions& opt = {});
  /// (N, in_channels, H, W) images to (N, num_classes) logits.
  /// \pre  `x` is 4-D with C = args.in_channels and H, W >= kMinInputSize.
  /// \post (N, num_classes) logits (float32 outside autocast); aux_logits1() and
  ///       aux_logits2() hold the auxiliary logits (N, num_classes) when the heads exist and
  ///       the module is in training mode, else they are undefined.
  /// \throws convnet::Error naming "googlenet" for an input that is not 4-D or is too small;
  ///         naming the layer for a wrong channel count.
  Tensor forward(const Tensor& x) override;
  /// "GoogLeNet".
  std::string type_name() const override { return "GoogLeNet"; }
  /// Logits of the auxiliary head aux1 from the last forward(); undefined unless that was
  /// in training mode with GoogLeNetOptions::aux_logits.
  const Tensor& aux_logits1() const { return aux1_out_; }
  /// As aux_logits1(), for aux2.
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

/// GoogLeNet (torchvision.models.googlenet with aux_logits=False by default).
/// \pre  as the GoogLeNet constructor.
/// \post a new GoogLeNet in training mode, initialized as torchvision's; forward() maps
///       (N, args.in_channels, H, W), H, W >= 15, to (N, args.num_classes) logits.
/// \throws convnet::Error as the GoogLeNet constructor.
std::shared_ptr<GoogLeNet> googlenet(const ModelArgs& args = {}, const GoogLeNetOptions& opt = {});

}  // namespace convnet::models
#pragma GCC visibility pop
