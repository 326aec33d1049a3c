#pragma once
#pragma GCC visibility push(default)
/// \file
/// 2-D pooling (max, average, adaptive, global), as torch.nn.functional's max_pool2d,
/// avg_pool2d, adaptive_avg_pool2d and adaptive_max_pool2d, and the arguments of max and
/// average pooling (Pool2dArgs).
/// \code{.unparsed}
///   x: (N, C, H, W) -> y: (N, C, OH, OW), every channel pooled on its own.
/// Max and average pooling:
///   OH = conv_output_size(H, KH, SH, PH, PH, DH, ceil_mode)   (see output_size.h)
///   window of y[n,c,oh,ow]: rows oh*SH - PH + kh*DH, columns ow*SW - PW + kw*DW
///   max: padding counts as -inf; the gradient goes to the first maximum of the window
///        (row-major scan), as PyTorch.
///   avg: the window is clipped to the padded input (H + 2*PH, W + 2*PW) -- with ceil_mode
///        the last window may stick out beyond it; count_include_pad divides by the size of
///        the clipped window, otherwise by the number of its elements inside the input.
/// Adaptive pooling to (OH, OW): window rows floor(oh*H/OH) .. ceil((oh+1)*H/OH) - 1, same
/// for columns; windows may overlap and OH may exceed H.
/// Global pooling: adaptive pooling to (1, 1).
/// \endcode
/// max, avg, adaptive-avg and global-avg pooling compute a bfloat16 / float16 input in its
/// own dtype; adaptive-max and global-max pooling compute in float32 (ops/autocast.h).
#include <array>
#include <string>

#include "convnet/core/tensor.h"

namespace convnet {

/// The window of max and average pooling, as the arguments of torch.nn.MaxPool2d /
/// AvgPool2d: (height, width) pairs.
struct Pool2dArgs {
  std::array<int64_t, 2> kernel{2, 2};    ///< (KH, KW), each >= 1.
  std::array<int64_t, 2> stride{0, 0};    ///< (SH, SW); 0 means "= kernel", as PyTorch's default stride=None
  std::array<int64_t, 2> padding{0, 0};   ///< (PH, PW) on each side; PyTorch rule: 0 <= padding <= kernel/2
  std::array<int64_t, 2> dilation{1, 1};  ///< (DH, DW) >= 1; max pooling only (average pooling requires 1)
  bool ceil_mode = false;  ///< Round the output size up (see conv_output_size).
  bool count_include_pad = true;  ///< avg pooling only: divide by the window size including padding.
};

namespace ops {
/// 2-D max pooling (as torch.nn.functional.max_pool2d). `layer` names the calling layer in
/// error messages (for example "features.2 (MaxPool2d)").
/// \pre  `x` defined, (N, C, H, W) with H, W > 0, float32, bfloat16 or float16, on the CPU.
///       `a`: kernel >= 1, stride >= 0 (0: the kernel), dilation >= 1,
///       `0 <= padding <= kernel / 2`; the output size must be positive.
/// \post y: (N, C, OH, OW) in x's dtype, OH and OW by conv_output_size. Backward gives dx:
///       each output gradient goes to the first maximum of its window.
/// \throws convnet::Error naming `layer` (and x's shape and the arguments) when x is
///       undefined, not 4-D or empty in H or W, an argument is out of range, or the output
///       would be empty; also for a non-floating dtype or a tensor not on the CPU.
Tensor max_pool2d(const Tensor& x, const Pool2dArgs& a, const std::string& layer = "max_pool2d");
/// 2-D average pooling (as torch.nn.functional.avg_pool2d).
/// \pre  as max_pool2d, with dilation 1; `a.count_include_pad` and `a.ceil_mode` as in
///       this file's description.
/// \post y: (N, C, OH, OW) in x's dtype. Backward gives dx: each output gradient spread
///       evenly over its window (divided by the same count as the forward).
/// \throws convnet::Error naming `layer` as max_pool2d does, and when the dilation is not 1.
Tensor avg_pool2d(const Tensor& x, const Pool2dArgs& a, const std::string& layer = "avg_pool2d");
/// Adaptive average pooling to `output_size` = (OH, OW) (as
/// torch.nn.functional.adaptive_avg_pool2d).
/// \pre  `x` defined, (N, C, H, W) with H, W > 0, float32, bfloat16 or float16, on the CPU;
///       OH, OW >= 1 (they may exceed H, W).
/// \post y: (N, C, OH, OW) in x's dtype. Backward gives dx: each output gradient spread
///       evenly over its window.
/// \throws convnet::Error naming `layer` and x's shape when x is undefined, not 4-D or empty
///       in H or W, or `output_size` is not positive; also for a non-floating dtype or a
///       tensor not on the CPU.
Tensor adaptive_avg_pool2d(const Tensor& x, std::array<int64_t, 2> output_size,
                           const std::string& layer = "adaptive_avg_pool2d");
/// Adaptive max pooling to `output_size` = (OH, OW) (as
/// torch.nn.functional.adaptive_max_pool2d, without the indices).
/// \pre  `x` defined, (N, C, H, W) with H, W > 0, float32 (bfloat16 / float16 are converted
///       to float32), on the CPU; OH, OW >= 1.
/// \post y: float32, (N, C, OH, OW). Backward gives dx: each output gradient goes to the
///       maximum of its window.
/// \throws convnet::Error naming `layer` and x's shape when x is undefined, not 4-D or empty
///       in H or W, or `output_size` is not positive; also for a non-floating dtype or a
///       tensor not on the CPU.
Tensor adaptive_max_pool2d(const Tensor& x, std::array<int64_t, 2> output_size,
                           const std::string& layer = "adaptive_max_pool2d");
/// Global average pooling, (N, C, H, W) to (N, C, 1, 1): adaptive_avg_pool2d to (1, 1).
/// \pre  `x` defined, (N, C, H, W) with H, W > 0, float32, bfloat16 or float16, on the CPU.
/// \post y: (N, C, 1, 1) in x's dtype, each the mean of its plane. Backward gives dx:
///       `dy / (H * W)` over each plane.
/// \throws convnet::Error naming `layer` and x's shape when x is undefined, not 4-D or empty
///       in H or W; also for a non-floating dtype or a tensor not on the CPU.
Tensor global_avg_pool2d(const Tensor& x, const std::string& layer = "global_avg_pool2d");  // (N,C,H,W)->(N,C,1,1)
/// Global max pooling, (N, C, H, W) to (N, C, 1, 1): adaptive_max_pool2d to (1, 1).
/// \pre  `x` defined, (N, C, H, W) with H, W > 0, float32 (bfloat16 / float16 are converted
///       to float32), on the CPU.
/// \post y: float32, (N, C, 1, 1), each the maximum of its plane. Backward gives dx: each
///       output gradient goes to the maximum of its plane.
/// \throws convnet::Error naming `layer` and x's shape when x is undefined, not 4-D or empty
///       in H or W; also for a non-floating dtype or a tensor not on the CPU.
Tensor global_max_pool2d(const Tensor& x, const std::string& layer = "global_max_pool2d");
}  // namespace ops

}  // namespace convnet
#pragma GCC visibility pop
