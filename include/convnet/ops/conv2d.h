#pragma once
#pragma GCC visibility push(default)
/// \file
/// conv2d: 2-D cross-correlation, as torch.nn.functional.conv2d, with its arguments
/// (Padding, Conv2dArgs) and the inference-only fused form (ConvEpilogue, conv2d_fused).
/// \code{.unparsed}
///   x: (N, C, H, W), weight: (OC, C/groups, KH, KW), bias: (OC) or undefined
///   y: (N, OC, OH, OW), OH = floor((H + 2*PH - DH*(KH-1) - 1)/SH) + 1
///   y[n,oc,oh,ow] = b[oc] + sum_{c,kh,kw} x[n, g*C/G + c, oh*SH-PH+kh*DH, ow*SW-PW+kw*DW] * w[oc,c,kh,kw]
/// \endcode
/// padding "same" (stride 1 only) pads `d*(k-1)` in total, the extra one on the bottom/right
/// for even kernels as PyTorch does; "valid" is no padding.
#include <array>
#include <string>

#include "convnet/core/tensor.h"

namespace convnet {

/// The padding of a convolution, as PyTorch's `padding` argument: an int, an (h, w) pair,
/// or the strings "same" and "valid".
struct Padding {
  /// How the padding is given: Explicit (`h` rows on top and bottom, `w` columns left and
  /// right), Same (the output keeps the input's size; stride 1 only) or Valid (no padding).
  enum class Mode { Explicit, /**< `h` and `w` */ Same, /**< "same" */ Valid /**< "valid" */ };
  Mode mode = Mode::Explicit;  ///< Explicit, Same or Valid.
  /// h: rows padded on top and on bottom (Explicit mode).
  int64_t h = 0, w = 0;  ///< w: columns padded left and right (Explicit mode).
  /// `p` rows and columns on every side (implicit, as PyTorch's int).
  /// \post mode Explicit, h = w = `p` (a negative value is refused by conv2d, not here).
  Padding(int64_t p = 0) : h(p), w(p) {}  // NOLINT: implicit like PyTorch's int
  /// `ph` rows on top and bottom, `pw` columns left and right.
  /// \post mode Explicit, h = `ph`, w = `pw`.
  Padding(int64_t ph, int64_t pw) : h(ph), w(pw) {}
  /// "same" or "valid".
  /// \pre  `s` is "same" or "valid".
  /// \post mode Same or Valid.
  /// \throws convnet::Error naming `s` for any other string.
  Padding(const char* s);         // NOLINT: "same" or "valid"
  /// As above, from a std::string.
  /// \pre  `s` is "same" or "valid".
  /// \post mode Same or Valid.
  /// \throws convnet::Error naming `s` for any other string.
  Padding(const std::string& s);  // NOLINT
  /// As PyTorch prints it: `"same"`, `"valid"` (with the quotes), `1`, or `(1, 2)` when h != w.
  std::string str() const;
};

/// The arguments of conv2d besides its tensors, with PyTorch's defaults.
struct Conv2dArgs {
  std::array<int64_t, 2> stride{1, 1};  ///< (SH, SW), each >= 1.
  Padding padding = Padding(int64_t{0});  ///< Padding; explicit values >= 0.
  std::array<int64_t, 2> dilation{1, 1};  ///< (DH, DW), each >= 1.
  int64_t groups = 1;  ///< G >= 1, dividing both the input and the output channels.
};

/// What an inference graph fuses into a convolution (inference/session.h): the sum with a
/// residual of y's shape, then an activation, computed in the convolution's own pass over y:
/// `y = act(conv2d(x, weight, bias) + residual)`.
struct ConvEpilogue {
  /// The activation applied last: none, relu (`max(y, 0)`) or clip (`min(max(y, lo), hi)`).
  enum class Act { none, /**< no activation */ relu, /**< `max(y, 0)` */ clip /**< `min(max(y, lo), hi)` */ };
  Act act = Act::none;  ///< The activation.
  /// lo: clip's lower bound (relu6: 0).
  float lo = 0.f, hi = 0.f;  ///< hi: clip's upper bound (relu6: 6); `lo <= hi`.
  Tensor residual;           ///< Added to the convolution's output before the activation; undefined: no sum.
  /// The caller hands the residual over: when this is the only handle on its buffer (and it is
  /// in the output's layout and dtype), the output is computed in that buffer, in place of a
  /// copy (the residual's values are then gone).
  bool residual_reusable = false;
};
namespace ops {
/// 2-D convolution (cross-correlation) of `x` with `weight`, plus `bias` (as
/// torch.nn.functional.conv2d). `layer` names the calling layer in error messages
/// (for example "features.0 (Conv2d)").
/// \pre  `x` (N, C, H, W) and `weight` (OC, C/groups, KH, KW) defined; `bias` (OC) or
///       undefined; all on the CPU. Dtypes: all float32; or, for mixed precision, `x`
///       bfloat16 / float16 with float32 weight and bias (any floating dtype, used as float32)
///       on x's device. Under an autocast guard a floating `x` is first converted to the
///       guard's dtype. `args`: stride and dilation >= 1, groups >= 1 dividing C and OC,
///       explicit padding >= 0, "same" only with stride 1; the dilated kernel must fit the
///       padded input.
/// \post y: (N, OC, OH, OW) in x's dtype (after autocast), OH and OW as in this file's
///       description (conv_output_size). Backward gives dx (x's dtype), dweight and dbias
///       (float32 for float32 weights).
/// \throws convnet::Error naming `layer` and the shapes of the input and the weight (and the
///       bias, the padding) when an operand is undefined, of another dtype or device, of the
///       wrong rank or channel count, when an argument is out of range, or when the output
///       would be empty.
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dArgs& args = {},
              const std::string& layer = "conv2d");

/// `act(conv2d(x, weight, bias) + residual)` in one pass, for inference only: no autograd
/// record and no trace. The result equals `act(conv2d(...) + residual)` up to the rounding
/// of the sum (once, in float32, where the backend fuses it).
/// \pre  as conv2d; in addition no gradient is being recorded for an input that requires one
///       (run under NoGradGuard, or on tensors that require no gradient); a clip epilogue has
///       `lo <= hi`; a defined `epilogue.residual` has the output's shape (N, OC, OH, OW) and
///       x's device (its dtype is converted to the output's).
/// \post y: as conv2d's, not attached to the autograd graph. With `residual_reusable` and a
///       residual held by nothing else in the output's layout and dtype, y shares the
///       residual's buffer and the residual's values are overwritten.
/// \throws convnet::Error naming `layer` as conv2d does, and when gradients would be needed,
///       the clip bounds are empty, or the residual's shape or device differs from the output's.
Tensor conv2d_fused(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dArgs& args,
                    const ConvEpilogue& epilogue, const std::string& layer = "conv2d");
}  // namespace ops

}  // namespace convnet
#pragma GCC visibility pop
