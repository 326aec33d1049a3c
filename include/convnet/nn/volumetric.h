#pragma once
#pragma GCC visibility push(default)
/// \file
/// Volumetric layers (torch.nn.Conv3d, MaxPool3d, AvgPool3d) over (N, C, D, H, W) inputs:
/// CNNs for scans and video clips. forward() is the op of ops/volumetric.h.
#include <array>
#include <string>

#include "convnet/core/rng.h"
#include "convnet/nn/module.h"
#include "convnet/ops/volumetric.h"

namespace convnet::nn {

/// 3-D convolution (torch.nn.Conv3d), initialized as PyTorch does.
class Conv3d : public Module {
 public:
  /// `in` -> `out` channels with a (KD, KH, KW) `kernel` and the geometry `args`.
  /// \pre  in and out > 0; kernel sizes > 0; args.groups > 0, dividing in and out.
  /// \post parameters "weight" (out, in/groups, KD, KH, KW) and, with `bias`, "bias" (out),
  ///       float32 on the CPU, requiring gradients, drawn from the default generator.
  /// \throws convnet::Error naming the channel counts, kernel and groups when they are invalid.
  Conv3d(int64_t in, int64_t out, std::array<int64_t, 3> kernel, const Conv3dArgs& args = {}, bool bias = true);
  /// ops::conv3d(x, weight, bias, args, label()).
  /// \pre  `x` (N, in, D, H, W), float32 on the CPU.
  /// \post y (N, out, OD, OH, OW). Backward gives dx, dweight and dbias.
  /// \throws convnet::Error naming label() and the shapes, as ops::conv3d.
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Conv3d"; }
  std::string extra_repr() const override;
  /// Re-initializes weight and bias in place as PyTorch does, drawing from `gen`.
  void reset_parameters(Generator& gen = default_generator());
  Tensor weight;    ///< (out, in/groups, KD, KH, KW)
  Tensor bias;      ///< (out), or undefined
  Conv3dArgs args;  ///< stride, padding, dilation, groups
};

/// 3-D max pooling (torch.nn.MaxPool3d); forward() is ops::max_pool3d.
class MaxPool3d : public Module {
 public:
  /// Pooling with the (depth, height, width) arguments `a`, checked by forward().
  explicit MaxPool3d(const Pool3dArgs& a) : args(a) {}
  /// ops::max_pool3d(x, args, label()).
  /// \pre  `x` (N, C, D, H, W), float32 on the CPU; `args` valid for it.
  /// \post y (N, C, OD, OH, OW). Backward gives dx.
  /// \throws convnet::Error naming label(), as ops::max_pool3d.
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "MaxPool3d"; }
  std::string extra_repr() const override;
  Pool3dArgs args;  ///< kernel, stride, padding, dilation, ceil_mode
};

/// 3-D average pooling (torch.nn.AvgPool3d); forward() is ops::avg_pool3d.
class AvgPool3d : public Module {
 public:
  /// Pooling with the (depth, height, width) arguments `a`, checked by forward().
  explicit AvgPool3d(const Pool3dArgs& a) : args(a) {}
  /// ops::avg_pool3d(x, args, label()).
  /// \pre  `x` (N, C, D, H, W), float32 on the CPU; `args` valid for it (dilation 1).
  /// \post y (N, C, OD, OH, OW). Backward gives dx.
  /// \throws convnet::Error naming label(), as ops::avg_pool3d.
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "AvgPool3d"; }
  std::string extra_repr() const override;
  Pool3dArgs args;  ///< kernel, stride, padding, ceil_mode, count_include_pad
};

}  // namespace convnet::nn
#pragma GCC visibility pop
