#pragma once
#pragma GCC visibility push(default)
/// \file
/// The layers of a CNN course as modules (torch.nn's Conv2d, Linear, BatchNorm1d/2d,
/// pooling, Dropout, activations, Flatten, Softmax); each forward() is one op call (see the
/// ops headers for the arithmetic and the dtypes each accepts).
/// Constructors mirror torch.nn's argument order and defaults. Parameters are created as
/// float32 on the CPU and initialized as PyTorch does (nn/init.h).
#include <array>
#include <string>
#include <utility>
#include <vector>

#include "convnet/core/rng.h"
#include "convnet/nn/module.h"
#include "convnet/ops/conv2d.h"
#include "convnet/ops/conv_transpose.h"
#include "convnet/ops/interpolate.h"
#include "convnet/ops/pool2d.h"

namespace convnet::dist {
class ProcessGroup;
}

namespace convnet::nn {

/// Conv2d(in, out, k) with chainable options, like torch::nn::Conv2dOptions:
/// `Conv2d(Conv2dOptions(3, 64, 3).stride(2).padding(1).bias(false))`.
/// Nothing is checked here; the Conv2d constructor and ops::conv2d check the values.
struct Conv2dOptions {
  /// `in` input channels, `out` output channels, a `k` x `k` kernel; stride 1, padding 0,
  /// dilation 1, groups 1, with a bias.
  Conv2dOptions(int64_t in, int64_t out, int64_t k) : in_channels(in), out_channels(out), kernel{k, k} {}
  /// As above, with a (KH, KW) kernel.
  Conv2dOptions(int64_t in, int64_t out, std::array<int64_t, 2> k) : in_channels(in), out_channels(out), kernel(k) {}
  /// Stride `s` in both directions.
  Conv2dOptions& stride(int64_t s) { args.stride = {s, s}; return *this; }
  /// Stride (SH, SW).
  Conv2dOptions& stride(std::array<int64_t, 2> s) { args.stride = s; return *this; }
  /// Padding: an int, an (h, w) Padding, "same" or "valid".
  Conv2dOptions& padding(Padding p) { args.padding = p; return *this; }
  /// Dilation `d` in both directions.
  Conv2dOptions& dilation(int64_t d) { args.dilation = {d, d}; return *this; }
  /// Dilation (DH, DW).
  Conv2dOptions& dilation(std::array<int64_t, 2> d) { args.dilation = d; return *this; }
  /// Groups (1: a full convolution; in_channels: depthwise).
  Conv2dOptions& groups(int64_t g) { args.groups = g; return *this; }
  /// With (true) or without a bias.
  Conv2dOptions& bias(bool b) { with_bias = b; return *this; }
  /// in_channels: input channels C.
  int64_t in_channels, out_channels;  ///< out_channels: output channels OC
  std::array<int64_t, 2> kernel;  ///< (KH, KW)
  Conv2dArgs args;  ///< stride, padding, dilation and groups
  bool with_bias = true;  ///< whether the layer has a bias
};

/// 2-D convolution layer (torch.nn.Conv2d): parameters `weight` (OC, C/groups, KH, KW) and,
/// with a bias, `bias` (OC); forward() is ops::conv2d.
class Conv2d : public Module {
 public:
  /// A convolution with options `o`, initialized as PyTorch does (init::default_weight_init_
  /// from the default generator).
  /// \pre  in_channels and out_channels > 0; groups > 0, dividing both.
  /// \post parameters "weight" (OC, C/groups, KH, KW) and, with a bias, "bias" (OC): float32
  ///       on the CPU, requiring gradients.
  /// \throws convnet::Error naming the channel counts and groups when they are not positive
  ///       or groups does not divide them.
  explicit Conv2d(const Conv2dOptions& o);
  /// The same layer from torch.nn.Conv2d's arguments, in its order:
  /// `Conv2d(Conv2dOptions(in, out, k).stride(stride).padding(padding).dilation(dilation).groups(groups).bias(bias))`.
  /// \pre  as above.
  /// \throws convnet::Error as above.
  Conv2d(int64_t in, int64_t out, int64_t k, int64_t stride = 1, Padding padding = Padding(int64_t{0}),
         int64_t dilation = 1, int64_t groups = 1, bool bias = true);
  /// ops::conv2d(x, weight, bias, options().args, label()).
  /// \pre  `x` (N, C, H, W) as ops::conv2d accepts (float32, or bfloat16 / float16 for mixed
  ///       precision, on the CPU).
  /// \post y (N, OC, OH, OW). Backward gives dx, dweight and dbias.
  /// \throws convnet::Error naming label() and the shapes, as ops::conv2d.
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Conv2d"; }
  std::string extra_repr() const override;
  /// Re-initializes weight and bias in place as PyTorch does, drawing from `gen`.
  /// \pre  weight and bias are float32 on the CPU.
  /// \throws convnet::Error when they are not.
  void reset_parameters(Generator& gen = default_generator());
  /// Becomes a freshly initialized layer with `out_channels` outputs (a new classifier head
  /// for fine-tuning). The new weight and bias require gradients.
  /// \pre  `out_channels` > 0; groups == 1.
  /// \post new float32 CPU tensors "weight" (out_channels, C, KH, KW) and "bias" (if the layer
  ///       has one) replace the old ones under the same names, initialized from `gen`;
  ///       options().out_channels is `out_channels`.
  /// \throws convnet::Error naming label() when `out_channels` <= 0 or groups != 1.
  void replace_output(int64_t out_channels, Generator& gen = default_generator());
  /// Output channel c becomes scale[c] * (conv(x)[c]) + shift[c]: the weights are scaled in
  /// place and a bias is added where there was none (BatchNorm folding, nn/fuse.h).
  /// \pre  `scale` and `shift` hold out_channels values each; weight (and bias) float32 on
  ///       the CPU.
  /// \post weight and bias hold the folded values (not recorded by autograd); a new "bias"
  ///       parameter requires a gradient when the weight does.
  /// \throws convnet::Error naming label() and the sizes when a size differs from
  ///       out_channels, or when the tensors are not float32 on the CPU.
  void fold_affine(const std::vector<double>& scale, const std::vector<double>& shift);
  /// The options the layer was made with (out_channels and with_bias as changed since by
  /// replace_output or fold_affine).
  const Conv2dOptions& options() const { return opt_; }
  /// weight: parameter "weight", (OC, C/groups, KH, KW).
  Tensor weight, bias;  ///< bias: parameter "bias", (OC); undefined without a bias

 private:
  Conv2dOptions opt_;
};

/// Fully connected layer (torch.nn.Linear): `y = x W^T + b` with parameters `weight`
/// (out_features, in_features) and, with a bias, `bias` (out_features).
class Linear : public Module {
 public:
  /// A Linear layer initialized as PyTorch does (init::default_weight_init_ from the
  /// default generator).
  /// \pre  `in_features` and `out_features` > 0.
  /// \post parameters "weight" (out_features, in_features) and, with `bias`, "bias"
  ///       (out_features): float32 on the CPU, requiring gradients.
  /// \throws convnet::Error naming both sizes when one is not positive.
  Linear(int64_t in_features, int64_t out_features, bool bias = true);
  /// ops::linear(x, weight, bias, label()).
  /// \pre  `x` (*, in_features) as ops::linear accepts (float32, or bfloat16 / float16 for
  ///       mixed precision, on the CPU).
  /// \post y (*, out_features). Backward gives dx, dweight and dbias.
  /// \throws convnet::Error naming label() and the shapes, as ops::linear.
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Linear"; }
  std::string extra_repr() const override;
  /// Re-initializes weight and bias in place as PyTorch does, drawing from `gen`.
  /// \pre  weight and bias are float32 on the CPU.
  /// \throws convnet::Error when they are not.
  void reset_parameters(Generator& gen = default_generator());
  /// Becomes a freshly initialized Linear(in_features, out_features) (a new classifier
  /// head for fine-tuning); the new weight and bias require gradients.
  /// \pre  `out_features` > 0.
  /// \post new float32 CPU tensors "weight" (out_features, in_features) and "bias" (if the
  ///       layer has one) replace the old ones under the same names, initialized from `gen`.
  /// \throws convnet::Error naming label() when `out_features` <= 0.
  void replace_output(int64_t out_features, Generator& gen = default_generator());
  /// in_features: input features (the last dimension of x).
  int64_t in_features, out_features;  ///< out_features: output features
  /// weight: parameter "weight", (out_features, in_features).
  Tensor weight, bias;  ///< bias: parameter "bias", (out_features); undefined without a bias
};

/// BatchNorm over (N, C) / (N, C, L) [BatchNorm1d] or (N, C, H, W) [BatchNorm2d]:
/// eps 1e-5, momentum 0.1, affine weight=1 bias=0, running_mean 0, running_var 1.
/// forward() is ops::batch_norm, with batch statistics in training mode (or without running
/// statistics) and the running statistics in eval mode.
class BatchNorm : public Module {
 public:
  /// A batch normalization over `num_features` channels; `spatial_dims` is 1 (BatchNorm1d)
  /// or 2 (BatchNorm2d).
  /// \pre  `num_features` > 0.
  /// \post with `affine`: parameters "weight" (ones) and "bias" (zeros), (num_features);
  ///       with `track_running_stats`: buffers "running_mean" (zeros), "running_var" (ones),
  ///       (num_features), and "num_batches_tracked" (a float32 scalar, 0). All float32 on
  ///       the CPU.
  /// \throws convnet::Error naming type_name() when `num_features` <= 0.
  BatchNorm(int64_t num_features, int spatial_dims, double eps = 1e-5, double momentum = 0.1, bool affine = true,
            bool track_running_stats = true);
  /// ops::batch_norm with this layer's parameters and statistics; in training mode also
  /// counts the batch in num_batches_tracked. A folded layer (mark_folded) returns x.
  /// \pre  BatchNorm2d: `x` 4-D (N, C, H, W); BatchNorm1d: 2-D (N, C) or 3-D (N, C, L); C ==
  ///       num_features; dtypes as ops::batch_norm accepts (the buffers float32). A folded
  ///       layer must be in eval mode.
  /// \post y: x's shape and dtype. In training mode with running statistics, these are
  ///       updated in place and num_batches_tracked grows by 1. Backward gives dx, dweight
  ///       and dbias.
  /// \throws convnet::Error naming label() and x's shape when the rank is wrong, when a
  ///       folded layer runs in training mode, or as ops::batch_norm.
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return spatial_dims_ == 2 ? "BatchNorm2d" : "BatchNorm1d"; }
  std::string extra_repr() const override;
  int64_t num_features;  ///< channels C
  /// eps: added to the variance before the square root, default 1e-5.
  double eps, momentum;  ///< momentum: the running-statistics update factor, default 0.1
  /// weight: parameter "weight" (gamma), (C); undefined with affine=false.
  Tensor weight, bias, running_mean, running_var, num_batches_tracked;  ///< num_batches_tracked: scalar buffer, the training batches seen; undefined with track_running_stats=false
  /** \var bias
   *  Parameter "bias" (beta), (C); undefined with affine=false. */
  /** \var running_mean
   *  Buffer "running_mean", (C); undefined with track_running_stats=false. */
  /** \var running_var
   *  Buffer "running_var", (C); undefined with track_running_stats=false. */
  /// Data parallelism with `--sync-bn`: when set, training-mode statistics are those of the
  /// global batch over this group (ops::sync_batch_norm); null (the default): this process's
  /// batch. The group must outlive the layer's use.
  dist::ProcessGroup* sync_group = nullptr;
  /// Folded into the convolution at `conv_path` (nn/fuse.h): an identity from now on, for
  /// inference only (forward() in training mode throws).
  void mark_folded(const std::string& conv_path) { folded_into_ = conv_path; }
  /// Whether mark_folded() was called.
  bool folded() const { return !folded_into_.empty(); }

 private:
  int spatial_dims_;
  std::string folded_into_;
};
/// BatchNorm over (N, C) or (N, C, L), as torch.nn.BatchNorm1d.
class BatchNorm1d : public BatchNorm {
 public:
  /// BatchNorm(n, 1, eps, momentum, affine, track) (track: track_running_stats).
  /// \pre  `n` > 0.
  /// \throws convnet::Error when `n` <= 0.
  explicit BatchNorm1d(int64_t n, double eps = 1e-5, double momentum = 0.1, bool affine = true, bool track = true)
      : BatchNorm(n, 1, eps, momentum, affine, track) {}
};
/// BatchNorm over (N, C, H, W), as torch.nn.BatchNorm2d.
class BatchNorm2d : public BatchNorm {
 public:
  /// BatchNorm(n, 2, eps, momentum, affine, track) (track: track_running_stats).
  /// \pre  `n` > 0.
  /// \throws convnet::Error when `n` <= 0.
  explicit BatchNorm2d(int64_t n, double eps = 1e-5, double momentum = 0.1, bool affine = true, bool track = true)
      : BatchNorm(n, 2, eps, momentum, affine, track) {}
};

/// 2-D max pooling (torch.nn.MaxPool2d); forward() is ops::max_pool2d.
class MaxPool2d : public Module {
 public:
  /// Square `kernel`, `stride` (0: = kernel, PyTorch's stride=None), `padding` and
  /// `dilation`, in torch.nn.MaxPool2d's order. The values are checked by forward().
  explicit MaxPool2d(int64_t kernel, int64_t stride = 0, int64_t padding = 0, int64_t dilation = 1,
                     bool ceil_mode = false);
  /// Pooling with the (height, width) arguments `a`, checked by forward().
  explicit MaxPool2d(const Pool2dArgs& a) : args(a) {}
  /// ops::max_pool2d(x, args, label()).
  /// \pre  `x` (N, C, H, W), float32, bfloat16 or float16 on the CPU; `args` valid for it
  ///       (see ops::max_pool2d).
  /// \post y (N, C, OH, OW) in x's dtype. Backward gives dx.
  /// \throws convnet::Error naming label(), as ops::max_pool2d.
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "MaxPool2d"; }
  std::string extra_repr() const override;
  Pool2dArgs args;  ///< kernel, stride, padding, dilation, ceil_mode
};

/// 2-D average pooling (torch.nn.AvgPool2d); forward() is ops::avg_pool2d.
class AvgPool2d : public Module {
 public:
  /// Square `kernel`, `stride` (0: = kernel) and `padding`, in torch.nn.AvgPool2d's order.
  /// The values are checked by forward().
  explicit AvgPool2d(int64_t kernel, int64_t stride = 0, int64_t padding = 0, bool ceil_mode = false,
                     bool count_include_pad = true);
  /// Pooling with the (height, width) arguments `a`, checked by forward().
  explicit AvgPool2d(const Pool2dArgs& a) : args(a) {}
  /// ops::avg_pool2d(x, args, label()).
  /// \pre  `x` (N, C, H, W), float32, bfloat16 or float16 on the CPU; `args` valid for it
  ///       (see ops::avg_pool2d; dilation 1).
  /// \post y (N, C, OH, OW) in x's dtype. Backward gives dx.
  /// \throws convnet::Error naming label(), as ops::avg_pool2d.
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "AvgPool2d"; }
  std::string extra_repr() const override;
  Pool2dArgs args;  ///< kernel, stride, padding, ceil_mode, count_include_pad
};

/// Adaptive average pooling to a fixed output size (torch.nn.AdaptiveAvgPool2d).
class AdaptiveAvgPool2d : public Module {
 public:
  /// Pooling to (OH, OW) = `output_size` (checked by forward()).
  explicit AdaptiveAvgPool2d(std::array<int64_t, 2> output_size) : output_size(output_size) {}
  /// Pooling to (s, s).
  explicit AdaptiveAvgPool2d(int64_t s) : output_size{s, s} {}
  /// ops::adaptive_avg_pool2d(x, output_size, label()).
  /// \pre  `x` (N, C, H, W) with H, W > 0, float32, bfloat16 or float16 on the CPU;
  ///       output_size positive.
  /// \post y (N, C, OH, OW) in x's dtype. Backward gives dx.
  /// \throws convnet::Error naming label(), as ops::adaptive_avg_pool2d.
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "AdaptiveAvgPool2d"; }
  std::string extra_repr() const override;
  std::array<int64_t, 2> output_size;  ///< (OH, OW)
};

/// Global average pooling: (N, C, H, W) -> (N, C, 1, 1).
class GlobalAvgPool2d : public Module {
 public:
  /// ops::global_avg_pool2d(x, label()).
  /// \pre  `x` (N, C, H, W) with H, W > 0, float32, bfloat16 or float16 on the CPU.
  /// \post y (N, C, 1, 1) in x's dtype, the mean of each plane. Backward gives dx.
  /// \throws convnet::Error naming label(), as ops::global_avg_pool2d.
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "GlobalAvgPool2d"; }
};
/// Global max pooling: (N, C, H, W) -> (N, C, 1, 1).
class GlobalMaxPool2d : public Module {
 public:
  /// ops::global_max_pool2d(x, label()).
  /// \pre  `x` (N, C, H, W) with H, W > 0, float32 (bfloat16 / float16 are converted to
  ///       float32) on the CPU.
  /// \post y: float32, (N, C, 1, 1), the maximum of each plane. Backward gives dx.
  /// \throws convnet::Error naming label(), as ops::global_max_pool2d.
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "GlobalMaxPool2d"; }
};

/// Dropout (elementwise) and Dropout2d (whole channels); inverted scaling, identity in eval.
/// Dropout is torch.nn.Dropout: forward() is ops::dropout with this module's training mode.
class Dropout : public Module {
 public:
  /// Dropout with probability `p`, drawing masks from `gen` (the default generator when
  /// null).
  /// \pre  `0 <= p <= 1`; a non-null `gen` outlives the module (it is not owned).
  /// \throws convnet::Error naming `p` when it is outside [0, 1].
  explicit Dropout(double p = 0.5, Generator* gen = nullptr);
  /// ops::dropout(x, p, is_training(), generator).
  /// \pre  `x` float32 (bfloat16 / float16 are converted to float32) on the CPU.
  /// \post y: float32, x's shape; in eval mode (or with p == 0) x itself, as float32.
  ///       Backward gives dx.
  /// \throws convnet::Error as ops::dropout.
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Dropout"; }
  std::string extra_repr() const override;
  double p;  ///< the probability of zeroing an element

 private:
  Generator* gen_;
};
/// Channel dropout (torch.nn.Dropout2d): forward() is ops::dropout2d with this module's
/// training mode.
class Dropout2d : public Module {
 public:
  /// Dropout2d with probability `p`, drawing masks from `gen` (the default generator when
  /// null).
  /// \pre  `0 <= p <= 1`; a non-null `gen` outlives the module (it is not owned).
  /// \throws convnet::Error naming `p` when it is outside [0, 1].
  explicit Dropout2d(double p = 0.5, Generator* gen = nullptr);
  /// ops::dropout2d(x, p, is_training(), generator).
  /// \pre  `x` (N, C, H, W) or (N, C, L), float32 (bfloat16 / float16 are converted to
  ///       float32) on the CPU.
  /// \post y: float32, x's shape; in eval mode (or with p == 0) x itself, as float32.
  ///       Backward gives dx.
  /// \throws convnet::Error as ops::dropout2d.
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Dropout2d"; }
  std::string extra_repr() const override;
  double p;  ///< the probability of zeroing a channel

 private:
  Generator* gen_;
};

/// torch.nn.LayerNorm: ops::layer_norm over the last dimensions, with learnable per-element
/// `weight` (ones) and `bias` (zeros) of shape normalized_shape.
class LayerNorm : public Module {
 public:
  /// Layer norm over trailing dimensions `normalized_shape`.
  /// \pre  `normalized_shape` non-empty with positive sizes; `eps` > 0.
  /// \post with `elementwise_affine`, parameters "weight" (ones) and, with `bias`, "bias"
  ///       (zeros), both of shape normalized_shape.
  /// \throws convnet::Error naming normalized_shape when it is empty or has a size < 1.
  explicit LayerNorm(Shape normalized_shape, double eps = 1e-5, bool elementwise_affine = true, bool bias = true);
  /// ops::layer_norm(x, normalized_shape, weight, bias, eps, label()).
  /// \pre  x's last dimensions equal normalized_shape; float32 (bfloat16 / float16 are
  ///       converted) on the CPU.
  /// \post y: float32, x's shape. Backward gives dx, dweight and dbias.
  /// \throws convnet::Error naming label() and both shapes, as ops::layer_norm.
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "LayerNorm"; }
  std::string extra_repr() const override;
  Shape normalized_shape;  ///< the trailing dimensions normalized together
  double eps;              ///< added to the variance
  Tensor weight;           ///< per-element scale, or undefined without the affine transform
  Tensor bias;             ///< per-element shift, or undefined
};

/// torch.nn.GroupNorm: ops::group_norm with learnable per-channel `weight` (ones) and `bias`
/// (zeros).
class GroupNorm : public Module {
 public:
  /// Group norm of `num_channels` channels in `num_groups` groups.
  /// \pre  `num_groups` positive and divides `num_channels`; `eps` > 0.
  /// \post with `affine`, parameters "weight" (ones) and "bias" (zeros) of shape (C).
  /// \throws convnet::Error naming both counts when the groups do not divide the channels.
  GroupNorm(int64_t num_groups, int64_t num_channels, double eps = 1e-5, bool affine = true);
  /// ops::group_norm(x, num_groups, weight, bias, eps, label()).
  /// \pre  `x` (N, num_channels, *), float32 (bfloat16 / float16 are converted) on the CPU.
  /// \post y: float32, x's shape. Backward gives dx, dweight and dbias.
  /// \throws convnet::Error naming label() and x's shape, as ops::group_norm.
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "GroupNorm"; }
  std::string extra_repr() const override;
  int64_t num_groups;    ///< G
  int64_t num_channels;  ///< C
  double eps;            ///< added to the variance
  Tensor weight;         ///< per-channel scale (C), or undefined without the affine transform
  Tensor bias;           ///< per-channel shift (C), or undefined
};

/// torch.nn.ConvTranspose2d: parameters `weight` (Cin, Cout/groups, KH, KW) and, with a
/// bias, `bias` (Cout); forward() is ops::conv_transpose2d.
class ConvTranspose2d : public Module {
 public:
  /// A transposed convolution from `in` to `out` channels with a `k` x `k` kernel and the
  /// arguments `a`, initialized as PyTorch does (init::default_weight_init_: fan_in is
  /// out/groups * k * k, as torch computes it from this weight's shape).
  /// \pre  `in`, `out`, `k` positive; `a.groups` divides both channel counts.
  /// \throws convnet::Error naming the counts when they are not positive or not divisible.
  ConvTranspose2d(int64_t in, int64_t out, int64_t k, const ops::ConvTranspose2dArgs& a = {}, bool bias = true);
  /// ops::conv_transpose2d(x, weight, bias, args, label()).
  /// \pre  `x` (N, in, H, W) float32 on the CPU.
  /// \post y (N, out, OH, OW). Backward gives dx, dweight and dbias.
  /// \throws convnet::Error naming label() and the shapes, as ops::conv_transpose2d.
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "ConvTranspose2d"; }
  ops::ConvTranspose2dArgs args;  ///< stride, padding, output_padding, dilation, groups
  Tensor weight;                  ///< (in, out/groups, k, k)
  Tensor bias;                    ///< (out), or undefined
};

/// torch.nn.Upsample: forward() is ops::interpolate (by `size`) or ops::interpolate_scale
/// (by `scale_factor`).
class Upsample : public Module {
 public:
  /// Resizing to `size` (when both are positive) or by `scale_factor`, in `mode` "nearest" or
  /// "bilinear".
  /// \pre  a positive size or positive scale factors; align_corners only with "bilinear".
  /// \throws convnet::Error when neither a size nor a scale factor is given.
  Upsample(std::array<int64_t, 2> size, std::array<double, 2> scale_factor, std::string mode = "nearest",
           bool align_corners = false);
  /// The resized input.
  /// \pre  `x` (N, C, H, W) float32 on the CPU.
  /// \post y (N, C, OH, OW). Backward gives dx.
  /// \throws convnet::Error naming label(), as ops::interpolate.
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Upsample"; }
  std::array<int64_t, 2> size;         ///< (OH, OW), or zeros
  std::array<double, 2> scale_factor;  ///< used when size is zero
  std::string mode;                    ///< "nearest" or "bilinear"
  bool align_corners;                  ///< bilinear's corner alignment
};

/// The 2-D padding layers torch.nn.ReflectionPad2d and ReplicationPad2d: forward() is
/// ops::pad of the last two dimensions of (N, C, H, W) or (C, H, W) with this layer's mode.
class Pad2d : public Module {
 public:
  /// Padding (left, right, top, bottom), as torch's 4-tuple, in `mode` ("reflect",
  /// "replicate", "circular" or "constant" with zeros).
  /// \pre  pads >= 0 (checked by forward() against the input's size).
  Pad2d(std::array<int64_t, 4> padding, std::string mode) : padding(padding), mode(std::move(mode)) {}
  /// ops::pad(x, ..., mode, 0, label()).
  /// \pre  `x` 3-D or 4-D, floating point on the CPU; pads in range for the mode.
  /// \post y: float32, H + top + bottom by W + left + right. Backward gives dx.
  /// \throws convnet::Error naming label() and x's shape for another rank or out-of-range pads.
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override;
  std::array<int64_t, 4> padding;  ///< (left, right, top, bottom)
  std::string mode;                ///< the ops::pad mode
};
/// torch.nn.ReflectionPad2d.
class ReflectionPad2d : public Pad2d {
 public:
  /// `p` on every side.
  explicit ReflectionPad2d(int64_t p) : Pad2d({p, p, p, p}, "reflect") {}
  /// (left, right, top, bottom).
  explicit ReflectionPad2d(std::array<int64_t, 4> p) : Pad2d(p, "reflect") {}
};
/// torch.nn.ReplicationPad2d.
class ReplicationPad2d : public Pad2d {
 public:
  /// `p` on every side.
  explicit ReplicationPad2d(int64_t p) : Pad2d({p, p, p, p}, "replicate") {}
  /// (left, right, top, bottom).
  explicit ReplicationPad2d(std::array<int64_t, 4> p) : Pad2d(p, "replicate") {}
};

/// torchvision.ops.Permute: forward() is ops::permute(x, dims) (a contiguous copy).
class Permute : public Module {
 public:
  /// A permutation of the input's dimensions: dimension k of the output is `dims[k]`.
  explicit Permute(std::vector<int64_t> dims) : dims(std::move(dims)) {}
  /// ops::permute(x, dims, label()).
  /// \pre  `dims` a permutation of x's dimensions; x floating point on the CPU.
  /// \post y: float32, the permuted copy. Backward gives dx.
  /// \throws convnet::Error naming label(), dims and x's shape, as ops::permute.
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Permute"; }
  std::vector<int64_t> dims;  ///< the permutation
};

/// torchvision.ops.StochasticDepth: forward() is ops::stochastic_depth with this module's
/// training mode (drop path: a residual branch dropped per sample).
class StochasticDepth : public Module {
 public:
  /// Stochastic depth with probability `p` in `mode` "row" (per sample) or "batch", drawing
  /// from `gen` (the default generator when null).
  /// \pre  `0 <= p <= 1`; `mode` "row" or "batch"; a non-null `gen` outlives the module.
  /// \throws convnet::Error naming `p` or `mode` when either is invalid.
  explicit StochasticDepth(double p, std::string mode = "row", Generator* gen = nullptr);
  /// ops::stochastic_depth(x, p, mode, is_training(), generator).
  /// \pre  as ops::stochastic_depth.
  /// \post x itself in eval mode or with p == 0; otherwise as ops::stochastic_depth.
  /// \throws convnet::Error as ops::stochastic_depth.
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "StochasticDepth"; }
  std::string extra_repr() const override;
  double p;          ///< the probability of dropping a sample's branch
  std::string mode;  ///< "row" or "batch"

 private:
  Generator* gen_;
};

/// torch.nn.ReLU: forward() is ops::relu.
class ReLU : public Module {
 public:
  /// ops::relu(x).
  /// \pre  `x` float32, bfloat16 or float16 on the CPU.
  /// \post y: x's shape and dtype. Backward gives dx (see ops::relu, and GuidedReluGuard).
  /// \throws convnet::Error as ops::relu.
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "ReLU"; }
};
/// ReLU6: min(max(x, 0), 6), MobileNetV2's activation (torch.nn.ReLU6).
class ReLU6 : public Module {
 public:
  /// ops::relu6(x).
  /// \pre  `x` float32 (bfloat16 / float16 are converted to float32) on the CPU.
  /// \post y: float32, x's shape. Backward gives dx.
  /// \throws convnet::Error as ops::relu6.
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "ReLU6"; }
};
/// torch.nn.LeakyReLU: forward() is ops::leaky_relu.
class LeakyReLU : public Module {
 public:
  /// Leaky ReLU with slope `negative_slope` for x < 0 (not checked).
  explicit LeakyReLU(double negative_slope = 0.01) : negative_slope(negative_slope) {}
  /// ops::leaky_relu(x, negative_slope).
  /// \pre  `x` float32 (bfloat16 / float16 are converted to float32) on the CPU.
  /// \post y: float32, x's shape. Backward gives dx.
  /// \throws convnet::Error as ops::leaky_relu.
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "LeakyReLU"; }
  std::string extra_repr() const override;
  double negative_slope;  ///< the slope for negative inputs
};
/// torch.nn.Tanh: forward() is ops::tanh.
class Tanh : public Module {
 public:
  /// ops::tanh(x).
  /// \pre  `x` float32 (bfloat16 / float16 are converted to float32) on the CPU.
  /// \post y: float32, x's shape. Backward gives dx.
  /// \throws convnet::Error as ops::tanh.
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Tanh"; }
};
/// torch.nn.Sigmoid: forward() is ops::sigmoid.
class Sigmoid : public Module {
 public:
  /// ops::sigmoid(x).
  /// \pre  `x` float32 (bfloat16 / float16 are converted to float32) on the CPU.
  /// \post y: float32, x's shape. Backward gives dx.
  /// \throws convnet::Error as ops::sigmoid.
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Sigmoid"; }
};
/// torch.nn.Hardsigmoid: forward() is ops::hardsigmoid (MobileNetV3's gate).
class Hardsigmoid : public Module {
 public:
  /// ops::hardsigmoid(x).
  /// \pre  `x` float32 (bfloat16 / float16 are converted to float32) on the CPU.
  /// \post y: float32, x's shape. Backward gives dx.
  /// \throws convnet::Error as ops::hardsigmoid.
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Hardsigmoid"; }
};
/// torch.nn.Hardswish: forward() is ops::hardswish (MobileNetV3's activation).
class Hardswish : public Module {
 public:
  /// ops::hardswish(x).
  /// \pre  `x` float32 (bfloat16 / float16 are converted to float32) on the CPU.
  /// \post y: float32, x's shape. Backward gives dx.
  /// \throws convnet::Error as ops::hardswish.
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Hardswish"; }
};
/// torch.nn.SiLU: forward() is ops::silu (swish; EfficientNet's activation).
class SiLU : public Module {
 public:
  /// ops::silu(x).
  /// \pre  `x` float32 (bfloat16 / float16 are converted to float32) on the CPU.
  /// \post y: float32, x's shape. Backward gives dx.
  /// \throws convnet::Error as ops::silu.
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "SiLU"; }
};
/// torch.nn.SELU: forward() is ops::selu.
class SELU : public Module {
 public:
  /// ops::selu(x).
  /// \pre  `x` float32 (bfloat16 / float16 are converted to float32) on the CPU.
  /// \post y: float32, x's shape. Backward gives dx.
  /// \throws convnet::Error as ops::selu.
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "SELU"; }
};
/// torch.nn.Softsign: forward() is ops::softsign.
class Softsign : public Module {
 public:
  /// ops::softsign(x).
  /// \pre  `x` float32 (bfloat16 / float16 are converted to float32) on the CPU.
  /// \post y: float32, x's shape. Backward gives dx.
  /// \throws convnet::Error as ops::softsign.
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Softsign"; }
};
/// torch.nn.GELU: forward() is ops::gelu (ConvNeXt's activation).
class GELU : public Module {
 public:
  /// GELU with `approximate` "none" (erf) or "tanh" (checked at forward).
  explicit GELU(std::string approximate = "none") : approximate(std::move(approximate)) {}
  /// ops::gelu(x, approximate).
  /// \pre  `x` float32 (bfloat16 / float16 are converted to float32) on the CPU.
  /// \post y: float32, x's shape. Backward gives dx.
  /// \throws convnet::Error as ops::gelu.
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "GELU"; }
  std::string extra_repr() const override;
  std::string approximate;  ///< "none" or "tanh"
};
/// torch.nn.ELU: forward() is ops::elu.
class ELU : public Module {
 public:
  /// ELU with `alpha` for x <= 0 (not checked).
  explicit ELU(double alpha = 1.0) : alpha(alpha) {}
  /// ops::elu(x, alpha).
  /// \pre  `x` float32 (bfloat16 / float16 are converted to float32) on the CPU.
  /// \post y: float32, x's shape. Backward gives dx.
  /// \throws convnet::Error as ops::elu.
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "ELU"; }
  std::string extra_repr() const override;
  double alpha;  ///< the scale of the negative branch
};
/// torch.nn.Softplus (threshold 20): forward() is ops::softplus.
class Softplus : public Module {
 public:
  /// Softplus with `beta` (checked at forward: > 0).
  explicit Softplus(double beta = 1.0) : beta(beta) {}
  /// ops::softplus(x, beta).
  /// \pre  `x` float32 (bfloat16 / float16 are converted to float32) on the CPU.
  /// \post y: float32, x's shape. Backward gives dx.
  /// \throws convnet::Error as ops::softplus.
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Softplus"; }
  std::string extra_repr() const override;
  double beta;  ///< the sharpness
};
/// torch.nn.PReLU: a learnable slope for x <= 0, one for all channels or one per channel.
class PReLU : public Module {
 public:
  /// `num_parameters` slopes (1, or the channel count of the inputs), each `init`.
  /// \pre  `num_parameters` >= 1.
  /// \post weight: (num_parameters), filled with `init`, requiring grad.
  /// \throws convnet::Error for num_parameters < 1.
  explicit PReLU(int64_t num_parameters = 1, double init = 0.25);
  /// ops::prelu(x, weight).
  /// \pre  `x` float32 (bfloat16 / float16 are converted to float32) on the CPU, with
  ///       x.size(1) == num_parameters unless it is 1.
  /// \post y: float32, x's shape. Backward gives dx and the slopes' gradient.
  /// \throws convnet::Error as ops::prelu.
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "PReLU"; }
  std::string extra_repr() const override;
  Tensor weight;  ///< the slopes, (num_parameters)
};
/// torch.nn.Identity: forward() returns its input.
class Identity : public Module {
 public:
  /// Returns `x` itself (the same handle, no copy).
  Tensor forward(const Tensor& x) override { return x; }
  std::string type_name() const override { return "Identity"; }
};
/// Flatten(start_dim = 1): (N, C, H, W) -> (N, C*H*W).
/// As torch.nn.Flatten with end_dim = -1.
class Flatten : public Module {
 public:
  /// Flattens the dimensions from `start_dim` (negative counts from the end) to the last.
  explicit Flatten(int64_t start_dim = 1) : start_dim(start_dim) {}
  /// `x.flatten(start_dim)`: a reshape that shares x's data.
  /// \pre  `start_dim` in [-x.dim(), x.dim()].
  /// \post y: x's dtype, the sizes before start_dim, then the product of the others.
  ///       Backward gives dx (the gradient reshaped back).
  /// \throws convnet::Error naming start_dim and x's shape when start_dim is out of range.
  Tensor forward(const Tensor& x) override { return x.flatten(start_dim); }
  std::string type_name() const override { return "Flatten"; }
  int64_t start_dim;  ///< the first dimension flattened
};
/// torch.nn.Softmax: forward() is ops::softmax along `dim`.
class Softmax : public Module {
 public:
  /// Softmax along `dim` (default 1, the class dimension of (N, K) logits).
  explicit Softmax(int64_t dim = 1) : dim(dim) {}
  /// ops::softmax(x, dim).
  /// \pre  `x` float32 (bfloat16 / float16 are converted to float32) on the CPU; dim in range.
  /// \post y: float32, x's shape. Backward gives dx.
  /// \throws convnet::Error as ops::softmax.
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Softmax"; }
  int64_t dim;  ///< the dimension normalized
};
/// torch.nn.LogSoftmax: forward() is ops::log_softmax along `dim`.
class LogSoftmax : public Module {
 public:
  /// Log-softmax along `dim` (default 1, the class dimension of (N, K) logits).
  explicit LogSoftmax(int64_t dim = 1) : dim(dim) {}
  /// ops::log_softmax(x, dim).
  /// \pre  `x` float32 (bfloat16 / float16 are converted to float32) on the CPU; dim in range.
  /// \post y: float32, x's shape. Backward gives dx.
  /// \throws convnet::Error as ops::log_softmax.
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "LogSoftmax"; }
  int64_t dim;  ///< the dimension normalized
};

}  // namespace convnet::nn
#pragma GCC visibility pop
