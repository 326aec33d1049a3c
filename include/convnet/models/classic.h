#pragma once
#pragma GCC visibility push(default)
/// \file
/// The classic deep CNNs before residual connections: AlexNet, VGG, Network in Network and
/// the All-Convolutional Net, and ClassifierNet, the features / avgpool / classifier form
/// of AlexNet and VGG.
///
/// AlexNet and VGG follow torchvision 0.14 exactly (alexnet.py, vgg.py): a `features`
/// Sequential, `avgpool` = AdaptiveAvgPool2d((6, 6)) resp. ((7, 7)), flatten, and a
/// `classifier` Sequential, so parameter names equal torchvision's state_dict keys
/// ("features.0.weight", "classifier.6.bias", "features.1.running_mean" for *_bn).
/// \verbatim
///   alexnet        torchvision's single-GPU variant (Krizhevsky 2014, "One weird trick"):
///                  Conv(C,64,11,s4,p2) ReLU MaxPool(3,2) Conv(64,192,5,p2) ReLU MaxPool(3,2)
///                  Conv(192,384,3,p1) ReLU Conv(384,256,3,p1) ReLU Conv(256,256,3,p1) ReLU
///                  MaxPool(3,2) | AdaptiveAvgPool(6,6) | Dropout Linear(9216,4096) ReLU
///                  Dropout Linear(4096,4096) ReLU Linear(4096,K). PyTorch's default init.
///                  Smallest input 63x63 (every max pool needs a 3x3 map).
///   alexnet_cifar  our CIFAR-sized AlexNet (not in torchvision), same layout and names:
///                  features  Conv(C,64,5,p2) ReLU MaxPool(3,2,p1)      32 -> 16 (28 -> 14)
///                            Conv(64,128,5,p2) ReLU MaxPool(3,2,p1)    16 -> 8  (14 -> 7)
///                            Conv(128,256,3,p1) ReLU Conv(256,256,3,p1) ReLU
///                            Conv(256,256,3,p1) ReLU MaxPool(3,2,p1)   8 -> 4   (7 -> 4)
///                  avgpool   AdaptiveAvgPool2d((4, 4))  (the identity at 28x28 and 32x32)
///                  classifier Dropout Linear(4096,512) ReLU Dropout Linear(512,512) ReLU
///                            Linear(512,K)
///                  Overlapping 3x3/2 pooling as AlexNet's, padded by 1 so that 28 and 32
///                  both end at 4x4; 4.05M parameters at K = 10, C = 3. PyTorch's default init.
///                  Any input size from 1x1.
///   vgg11/13/16/19 Simonyan & Zisserman 2015, configurations A, B, D, E: 3x3 convolutions
///   (+ _bn)        (padding 1) [+ BatchNorm2d] + ReLU, MaxPool(2) after each block;
///                  AdaptiveAvgPool(7,7); Linear(25088,4096) ReLU Dropout Linear(4096,4096)
///                  ReLU Dropout Linear(4096,K). torchvision's init: kaiming_normal_
///                  (fan_out, relu) for convolutions, Linear N(0, 0.01), biases 0, BN 1/0.
///                  Smallest input 32x32 (five 2x2 poolings).
///   vgg16c(_bn)    configuration C of the paper (Table 1): VGG-16 whose last convolution
///                  in blocks 3, 4 and 5 is 1x1 (padding 0); 134M parameters (Table 2).
/// \endverbatim
///
/// fully_conv (ModelArgs::fully_conv, or to_fully_convolutional() on an existing model):
/// the classifier's Linear layers become the equivalent convolutions -- the first one,
/// over the C x k x k output of avgpool, a k x k Conv2d whose weight is the Linear weight
/// reshaped to (out, C, k, k); the following ones 1x1 convolutions -- and the (N, K, 1, 1)
/// result is flattened to (N, K): the same function with the same parameter names and
/// counts (only the weight shapes differ, so load torchvision weights before converting).
/// With set_score_map(true) a fully-convolutional model skips avgpool and the final
/// flatten: an input larger than the natural size (224 for alexnet and vgg, 32 for
/// alexnet_cifar) then gives a map of class scores (N, K, OH, OW), one per window, as in
/// Sermanet et al. 2014 (OverFeat) and Long et al. 2015 (FCN).
///
/// nin and allconv are fully convolutional by construction (fully_conv is ignored): see
/// nin() and allconv() below.
///
/// Every forward() here takes (N, C, H, W) float32 on the CPU (bfloat16 / float16 under
/// autocast, see ops/autocast.h); the _bn models' BatchNorm needs more than one value per
/// channel in training mode, as in PyTorch.
#include <memory>
#include <string>

#include "convnet/models/registry.h"
#include "convnet/nn/layers.h"
#include "convnet/nn/sequential.h"

namespace convnet::models {

/// features -> avgpool -> flatten -> classifier: the form of torchvision's AlexNet and VGG,
/// optionally fully convolutional (see the file comment).
class ClassifierNet : public nn::Module {
 public:
  /// Registers the three parts as children "features", "avgpool", "classifier".
  /// `type` ("AlexNet" or "VGG") is what type_name() prints; `model` (the zoo name) names
  /// the model in error messages; `min_input_size` is the smallest H = W forward() accepts.
  /// \pre  `features`, `avgpool`, `classifier` are not null; `fully_conv` is true exactly
  ///       when the classifier's fully-connected layers are already Conv2d (the flatten
  ///       before the classifier is then left out).
  ClassifierNet(std::string type, std::string model, int64_t min_input_size, std::shared_ptr<nn::Sequential> features,
                std::shared_ptr<nn::AdaptiveAvgPool2d> avgpool, std::shared_ptr<nn::Sequential> classifier,
                bool fully_conv);
  /// (N, C, H, W) images to (N, K) logits, or to an (N, K, OH, OW) score map.
  /// \pre  `x` is 4-D with the channels of the first convolution and H, W >= the model's
  ///       smallest input; with score_map(), H and W at least the natural size.
  /// \post (N, K) logits (float32 outside autocast); with score_map(), (N, K, OH, OW) scores.
  /// \throws convnet::Error naming the model for an input that is not 4-D or is too small;
  ///         naming the layer for a wrong channel count or a map smaller than a kernel.
  Tensor forward(const Tensor& x) override;
  /// "AlexNet" or "VGG", as given to the constructor.
  std::string type_name() const override { return type_; }

  /// Makes the classifier convolutional, keeping its weights (a second call does nothing).
  /// \post every Linear of `classifier` is replaced by the equivalent Conv2d holding the
  ///       same weights (and requires_grad); forward() computes the same function;
  ///       fully_convolutional() is true.
  /// \throws convnet::Error naming the model and the layer when a Linear's input width is not
  ///         a multiple of the map it follows (not the case for the zoo's models).
  void to_fully_convolutional();
  /// Whether the classifier is convolutional.
  bool fully_convolutional() const { return fully_conv_; }
  /// Turns the score-map mode on or off. While on, forward() returns (N, K, OH, OW) scores:
  /// avgpool is skipped, so the input must be at least the natural size.
  /// \pre  fully_convolutional(), to turn it on.
  /// \post score_map() == `on`.
  /// \throws convnet::Error naming the model when `on` and the model is not fully
  ///         convolutional.
  void set_score_map(bool on);
  /// Whether forward() returns a score map.
  bool score_map() const { return score_map_; }

  std::shared_ptr<nn::Sequential> features;         ///< The convolutional trunk.
  std::shared_ptr<nn::AdaptiveAvgPool2d> avgpool;   ///< Pooling to the classifier's fixed k x k map.
  std::shared_ptr<nn::Sequential> classifier;       ///< The head: Dropout, Linear (or Conv2d), ReLU.

 private:
  std::string type_, model_;
  int64_t min_input_size_;
  bool fully_conv_ = false;
  bool score_map_ = false;
};

/// The VGG configurations of Simonyan & Zisserman's Table 1.
enum class VGGConfig {
  A,  ///< vgg11
  B,  ///< vgg13
  C,  ///< vgg16c (1x1 convolutions in blocks 3 to 5)
  D,  ///< vgg16
  E   ///< vgg19
};

/// AlexNet (torchvision.models.alexnet).
/// \pre  `args.num_classes`, `args.in_channels` positive.
/// \post a new ClassifierNet "AlexNet" in training mode; forward() maps
///       (N, args.in_channels, H, W), H, W >= 63, to (N, args.num_classes) logits; with
///       `args.fully_conv` its classifier is convolutional.
/// \throws convnet::Error naming "alexnet" for a non-positive num_classes or in_channels.
std::shared_ptr<ClassifierNet> alexnet(const ModelArgs& args = {});
/// The CIFAR-sized AlexNet of the file comment (not in torchvision).
/// \pre  `args.num_classes`, `args.in_channels` positive.
/// \post a new ClassifierNet "AlexNet" in training mode; forward() maps
///       (N, args.in_channels, H, W), H, W >= 1, to (N, args.num_classes) logits; with
///       `args.fully_conv` its classifier is convolutional.
/// \throws convnet::Error naming "alexnet_cifar" for a non-positive num_classes or in_channels.
std::shared_ptr<ClassifierNet> alexnet_cifar(const ModelArgs& args = {});
/// VGG in configuration `config`, with BatchNorm2d after every convolution when
/// `batch_norm` (torchvision.models.vgg11, vgg11_bn, ...).
/// \pre  `args.num_classes`, `args.in_channels` positive.
/// \post a new ClassifierNet "VGG" named vgg11, vgg13, vgg16c, vgg16 or vgg19 (+ "_bn"), in
///       training mode; forward() maps (N, args.in_channels, H, W), H, W >= 32, to
///       (N, args.num_classes) logits; with `args.fully_conv` its classifier is convolutional.
/// \throws convnet::Error naming the model (e.g. "vgg16_bn") for a non-positive num_classes
///         or in_channels.
std::shared_ptr<ClassifierNet> vgg(VGGConfig config, bool batch_norm, const ModelArgs& args = {});

/// Network in Network (Lin, Chen & Yan, ICLR 2014), the CIFAR-10 model the authors
/// released with the paper (Caffe model zoo "NIN-CIFAR10", cifar10_nin.prototxt); layer
/// names are the prototxt's:
/// \verbatim
///   conv1 Conv(C,192,5,p2) ReLU cccp1 Conv(192,160,1) ReLU cccp2 Conv(160,96,1) ReLU
///   pool1 MaxPool(3,2,ceil) drop3 Dropout(0.5)                               32 -> 16
///   conv2 Conv(96,192,5,p2) ReLU cccp3 Conv(192,192,1) ReLU cccp4 Conv(192,192,1) ReLU
///   pool2 AvgPool(3,2,ceil) drop6 Dropout(0.5)                               16 -> 8
///   conv3 Conv(192,192,3,p1) ReLU cccp5 Conv(192,192,1) ReLU cccp6 Conv(192,K,1) ReLU
///   pool3 global average pooling (the prototxt's 8x8 average pool at 32x32), flatten.
/// \endverbatim
/// Caffe rounds pooled sizes up, hence ceil_mode. 966,986 parameters at C = 3, K = 10.
/// Init: kaiming_normal_ (fan_out, relu), biases 0 (the prototxt's fixed-std Gaussians
/// were tuned with its learning-rate schedule). Smallest input 4x4.
/// \pre  `args.num_classes`, `args.in_channels` positive.
/// \post a new Sequential (type name "NIN") in training mode; forward() maps
///       (N, args.in_channels, H, W), H, W >= 4, to (N, args.num_classes) scores, and throws
///       naming "nin" for an input that is not 4-D or is smaller.
/// \throws convnet::Error naming "nin" for a non-positive num_classes or in_channels.
std::shared_ptr<nn::Sequential> nin(const ModelArgs& args = {});

/// All-CNN-C (Springenberg, Dosovitskiy, Brox & Riedmiller, ICLR 2015 workshop, Tables 1
/// and 2): max pooling replaced by stride-2 convolutions.
/// \verbatim
///   drop0 Dropout(0.2) on the input
///   conv1 Conv(C,96,3,p1) ReLU conv2 Conv(96,96,3,p1) ReLU conv3 Conv(96,96,3,s2,p1) ReLU
///   drop3 Dropout(0.5)                                                        32 -> 16
///   conv4 Conv(96,192,3,p1) ReLU conv5 Conv(192,192,3,p1) ReLU
///   conv6 Conv(192,192,3,s2,p1) ReLU drop6 Dropout(0.5)                       16 -> 8
///   conv7 Conv(192,192,3) ReLU (valid: "global averaging over 6x6")            8 -> 6
///   conv8 Conv(192,192,1) ReLU conv9 Conv(192,K,1) ReLU
///   pool global average pooling, flatten.
/// \endverbatim
/// "Dropout ... to the input image as well as after each pooling layer (or after the layer
/// replacing the pooling layer respectively) ... 20% for dropping out inputs and 50%
/// otherwise" (Section 3.2.1). 1,369,738 parameters at C = 3, K = 10 ("1.3 M", Table 3).
/// Init: kaiming_normal_ (fan_out, relu), biases 0. Smallest input 9x9.
/// \pre  `args.num_classes`, `args.in_channels` positive.
/// \post a new Sequential (type name "AllConvNet") in training mode; forward() maps
///       (N, args.in_channels, H, W), H, W >= 9, to (N, args.num_classes) scores, and throws
///       naming "allconv" for an input that is not 4-D or is smaller.
/// \throws convnet::Error naming "allconv" for a non-positive num_classes or in_channels.
std::shared_ptr<nn::Sequential> allconv(const ModelArgs& args = {});

/// Converts the classifier head of `model` (alexnet, alexnet_cifar, vgg*) in place, keeping
/// its weights: see ClassifierNet::to_fully_convolutional().
/// \pre  `model` is a ClassifierNet.
/// \post as ClassifierNet::to_fully_convolutional().
/// \throws convnet::Error naming the model type for a model without such a head, or as
///         ClassifierNet::to_fully_convolutional().
void to_fully_convolutional(nn::Module& model);

}  // namespace convnet::models
#pragma GCC visibility pop
