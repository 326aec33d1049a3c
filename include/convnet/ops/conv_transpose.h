#pragma once
#pragma GCC visibility push(default)
/// \file
/// 2-D transposed convolution (as torch.nn.functional.conv_transpose2d; ONNX ConvTranspose):
/// the adjoint of conv2d with the same weight, so each input pixel scatters a weighted copy of
/// the kernel into the output. With x (N, Cin, H, W) and weight (Cin, Cout/G, KH, KW):
/// \code{.unparsed}
///   OH = (H - 1) SH - 2 PH + DH (KH - 1) + OPH + 1   (OW alike)
///   y = conv2d_backward_data(x, weight) + b:  the kernels of conv2d's data gradient (a reference
///   twin and the fast ones), with conv2d's forward and weight gradient for the backward.
/// \endcode
#include <array>
#include <string>

#include "convnet/core/tensor.h"

namespace convnet::ops {

/// The arguments of a transposed convolution, as torch's (padding, output_padding per side).
struct ConvTranspose2dArgs {
  std::array<int64_t, 2> stride{1, 1};          ///< (SH, SW), each >= 1.
  std::array<int64_t, 2> padding{0, 0};         ///< (PH, PW) removed from each side, >= 0.
  std::array<int64_t, 2> output_padding{0, 0};  ///< (OPH, OPW) added at the bottom / right; < stride or dilation.
  std::array<int64_t, 2> dilation{1, 1};        ///< (DH, DW), each >= 1.
  int64_t groups = 1;                           ///< G >= 1, dividing Cin and Cout.
};

/// The transposed convolution of `x` with `weight` (and `bias`).
/// \pre  `x` (N, Cin, H, W) and `weight` (Cin, Cout/G, KH, KW) float32 (bfloat16 / float16
///       are converted) on the CPU; `bias` undefined or (Cout); `a` valid (see its fields);
///       the output size positive.
/// \post y: float32, (N, Cout, OH, OW) (see the file comment). Backward gives dx, dweight and
///       dbias.
/// \throws convnet::Error naming `layer` and the shapes for a rank, channel or bias mismatch,
///         a non-positive stride or dilation, negative padding, output padding not below the
///         stride or the dilation, or a non-positive output size.
Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias = {},
                        const ConvTranspose2dArgs& a = {}, const std::string& layer = "conv_transpose2d");

}  // namespace convnet::ops
#pragma GCC visibility pop
