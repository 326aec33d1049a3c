#pragma once
// 2-D pooling, as torch.nn.functional.{max,avg,adaptive_avg,adaptive_max}_pool2d.
//   x: (N, C, H, W) -> y: (N, C, OH, OW), every channel pooled on its own.
// Max and average pooling:
//   OH = conv_output_size(H, KH, SH, PH, PH, DH, ceil_mode)   (see output_size.h)
//   window of y[n,c,oh,ow]: rows oh*SH - PH + kh*DH, columns ow*SW - PW + kw*DW
//   max: padding counts as -inf; the gradient goes to the first maximum of the window
//        (row-major scan), as PyTorch.
//   avg: the window is clipped to the padded input (H + 2*PH, W + 2*PW) -- with ceil_mode
//        the last window may stick out beyond it; count_include_pad divides by the size of
//        the clipped window, otherwise by the number of its elements inside the input.
// Adaptive pooling to (OH, OW): window rows floor(oh*H/OH) .. ceil((oh+1)*H/OH) - 1, same
// for columns; windows may overlap and OH may exceed H.
// Global pooling: adaptive pooling to (1, 1).
#include <array>
#include <string>

#include "convnet/core/tensor.h"

namespace convnet {

struct Pool2dArgs {
  std::array<int64_t, 2> kernel{2, 2};
  std::array<int64_t, 2> stride{0, 0};    // 0 means "= kernel", as PyTorch's default stride=None
  std::array<int64_t, 2> padding{0, 0};   // PyTorch rule: padding <= kernel/2
  std::array<int64_t, 2> dilation{1, 1};  // max pooling only
  bool ceil_mode = false;
  bool count_include_pad = true;  // avg pooling only
};

namespace ops {
// `layer` names the calling layer in error messages (e.g. "features.2 (MaxPool2d)").
Tensor max_pool2d(const Tensor& x, const Pool2dArgs& a, const std::string& layer = "max_pool2d");
Tensor avg_pool2d(const Tensor& x, const Pool2dArgs& a, const std::string& layer = "avg_pool2d");
Tensor adaptive_avg_pool2d(const Tensor& x, std::array<int64_t, 2> output_size,
                           const std::string& layer = "adaptive_avg_pool2d");
Tensor adaptive_max_pool2d(const Tensor& x, std::array<int64_t, 2> output_size,
                           const std::string& layer = "adaptive_max_pool2d");
Tensor global_avg_pool2d(const Tensor& x, const std::string& layer = "global_avg_pool2d");  // (N,C,H,W)->(N,C,1,1)
Tensor global_max_pool2d(const Tensor& x, const std::string& layer = "global_max_pool2d");
}  // namespace ops

}  // namespace convnet
