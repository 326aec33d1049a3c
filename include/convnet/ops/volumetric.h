#pragma once
#pragma GCC visibility push(default)
/// \file
/// Volumetric (3-D) convolution and pooling, as torch.nn.functional's conv3d, max_pool3d and
/// avg_pool3d: CNNs over scans and video clips.
/// \code{.unparsed}
///   x: (N, C, D, H, W), weight: (OC, C/groups, KD, KH, KW), bias: (OC) or undefined
///   y: (N, OC, OD, OH, OW),  O* = conv_output_size(*, K*, S*, P*, P*, D*[, ceil_mode])
///   window of y[.., od, oh, ow]: depth od*SD - PD + kd*DD, and the same for rows and columns
///   max pooling: padding counts as -inf; the gradient goes to the first maximum (scan order)
///   avg pooling: the window clipped to the padded input (count_include_pad's divisor), then
///                to the input (the divisor otherwise), as avg_pool2d
/// \endcode
/// float32 (bfloat16 / float16 are converted to float32), plain layout, on the CPU.
#include <array>
#include <string>

#include "convnet/core/tensor.h"

namespace convnet {

/// The geometry of a 3-D convolution, as torch.nn.Conv3d's arguments: (depth, height, width).
struct Conv3dArgs {
  std::array<int64_t, 3> stride{1, 1, 1};    ///< each >= 1
  std::array<int64_t, 3> padding{0, 0, 0};   ///< zeros on both sides, each >= 0
  std::array<int64_t, 3> dilation{1, 1, 1};  ///< each >= 1
  int64_t groups = 1;                        ///< divides C and OC
};

/// The window of 3-D max and average pooling, as torch.nn.MaxPool3d / AvgPool3d.
struct Pool3dArgs {
  std::array<int64_t, 3> kernel{2, 2, 2};    ///< each >= 1
  std::array<int64_t, 3> stride{0, 0, 0};    ///< 0 means "= kernel" (PyTorch's stride=None)
  std::array<int64_t, 3> padding{0, 0, 0};   ///< on both sides; 0 <= padding <= kernel / 2
  std::array<int64_t, 3> dilation{1, 1, 1};  ///< max pooling only (average pooling requires 1)
  bool ceil_mode = false;                    ///< round the output size up (see conv_output_size)
  bool count_include_pad = true;             ///< average pooling: divide by the window including padding
};

namespace ops {
/// 3-D convolution (as torch.nn.functional.conv3d). `layer` names the calling layer in errors.
/// \pre  `x` (N, C, D, H, W) and `weight` (OC, C/groups, KD, KH, KW) defined, float32 (reduced
///       precision is converted), on the CPU; bias (OC) or undefined; `a` as Conv3dArgs says;
///       every output size positive.
/// \post y: (N, OC, OD, OH, OW), float32. Backward gives dx, dweight and dbias.
/// \throws convnet::Error naming `layer` and the shapes (input, weight, bias) when a rank,
///       channel count or argument is wrong or the output would be empty.
Tensor conv3d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv3dArgs& a = {},
              const std::string& layer = "conv3d");
/// 3-D max pooling (as torch.nn.functional.max_pool3d).
/// \pre  `x` (N, C, D, H, W) defined, non-empty in D, H and W, float32 (reduced precision is
///       converted), on the CPU; `a` as Pool3dArgs says; every output size positive.
/// \post y: (N, C, OD, OH, OW), float32. Backward sends each output gradient to the first
///       maximum of its window.
/// \throws convnet::Error naming `layer`, x's shape and the arguments when they are invalid.
Tensor max_pool3d(const Tensor& x, const Pool3dArgs& a, const std::string& layer = "max_pool3d");
/// 3-D average pooling (as torch.nn.functional.avg_pool3d).
/// \pre  as max_pool3d, with dilation 1.
/// \post y: (N, C, OD, OH, OW), float32. Backward spreads each output gradient evenly over its
///       window (by the forward's divisor).
/// \throws convnet::Error as max_pool3d, and when a dilation is not 1.
Tensor avg_pool3d(const Tensor& x, const Pool3dArgs& a, const std::string& layer = "avg_pool3d");
}  // namespace ops

}  // namespace convnet
#pragma GCC visibility pop
