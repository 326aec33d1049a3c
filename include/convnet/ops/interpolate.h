#pragma once
#pragma GCC visibility push(default)
/// \file
/// 2-D resizing of (N, C, H, W) images: torch.nn.functional.interpolate's "nearest" and
/// "bilinear" (both align_corners), by size or by scale factor, and ONNX Resize's coordinate
/// transformations and nearest rounding modes. Every output pixel is a weighted sum of at
/// most 2 x 2 input pixels (kernels/interp.h: a reference twin and an OpenMP kernel);
/// the gradient scatters back with the same weights.
/// \code{.unparsed}
///   source coordinate of output index o (input size n, output size m, r = 1 / scale, or n / m):
///     half_pixel          (o + 0.5) r - 0.5
///     pytorch_half_pixel  the same, 0 when m = 1
///     (torch's bilinear align_corners=False is half_pixel: a single output pixel reads the centre)
///     align_corners       o (n - 1) / (m - 1), 0 when m = 1 (with explicit scales, n s for m)
///     asymmetric          o r                           (torch's "nearest")
///   nearest: the source rounded by the nearest mode and clamped into [0, n);
///   linear:  the source clamped into [0, n - 1], blended between floor and floor + 1.
/// \endcode
#include <array>
#include <string>

#include "convnet/core/tensor.h"

namespace convnet::ops {

/// The settings of resize() (ONNX Resize's attributes).
struct ResizeArgs {
  /// "nearest" or "linear" (bilinear).
  std::string mode = "nearest";
  /// "half_pixel", "pytorch_half_pixel", "align_corners" or "asymmetric".
  std::string coordinate_transformation_mode = "half_pixel";
  /// "round_prefer_floor", "round_prefer_ceil", "floor" or "ceil" (nearest only).
  std::string nearest_mode = "round_prefer_floor";
  /// The scales (height, width) the coordinates use; 0 = output size / input size.
  std::array<double, 2> scales{0, 0};
};

/// `x` resized to `size` (OH, OW) as `a` says.
/// \pre  `x` (N, C, H, W) with H, W > 0, float32 (bfloat16 / float16 are converted) on the
///       CPU; `size` positive; `a`'s strings among the values listed; scales 0 or positive.
/// \post y: float32, (N, C, OH, OW). Backward gives dx.
/// \throws convnet::Error naming `layer` for another rank, an empty input, a non-positive
///         size or scale, or an unknown mode.
Tensor resize(const Tensor& x, std::array<int64_t, 2> size, const ResizeArgs& a, const std::string& layer = "resize");

/// torch.nn.functional.interpolate(x, size=size, mode=mode, align_corners=align_corners):
/// mode "nearest" (asymmetric coordinates, floor) or "bilinear" (half_pixel, or
/// align_corners).
/// \pre  as resize(); align_corners only with "bilinear".
/// \post y: float32, (N, C, size[0], size[1]). Backward gives dx.
/// \throws convnet::Error naming `layer` as resize(), or for align_corners with "nearest".
Tensor interpolate(const Tensor& x, std::array<int64_t, 2> size, const std::string& mode = "nearest",
                   bool align_corners = false, const std::string& layer = "interpolate");

/// torch.nn.functional.interpolate(x, scale_factor=scale, mode=mode, align_corners=...): the
/// output size floor(H * scale), and the coordinates computed with 1 / scale, as PyTorch does
/// (recompute_scale_factor unset).
/// \pre  as interpolate(); scales positive with a positive output size.
/// \post y: float32, (N, C, floor(H s0), floor(W s1)). Backward gives dx.
/// \throws convnet::Error naming `layer` as interpolate().
Tensor interpolate_scale(const Tensor& x, std::array<double, 2> scale, const std::string& mode = "nearest",
                         bool align_corners = false, const std::string& layer = "interpolate");

}  // namespace convnet::ops
#pragma GCC visibility pop
