#pragma once
// conv2d: 2-D cross-correlation, as torch.nn.functional.conv2d.
//   x: (N, C, H, W), weight: (OC, C/groups, KH, KW), bias: (OC) or undefined
//   y: (N, OC, OH, OW), OH = floor((H + 2*PH - DH*(KH-1) - 1)/SH) + 1
//   y[n,oc,oh,ow] = b[oc] + sum_{c,kh,kw} x[n, g*C/G + c, oh*SH-PH+kh*DH, ow*SW-PW+kw*DW] * w[oc,c,kh,kw]
// padding "same" (stride 1 only) pads d*(k-1) in total, the extra one on the bottom/right
// for even kernels as PyTorch does; "valid" is no padding.
#include <array>
#include <string>

#include "convnet/core/tensor.h"

namespace convnet {

struct Padding {
  enum class Mode { Explicit, Same, Valid };
  Mode mode = Mode::Explicit;
  int64_t h = 0, w = 0;
  Padding(int64_t p = 0) : h(p), w(p) {}  // NOLINT: implicit like PyTorch's int
  Padding(int64_t ph, int64_t pw) : h(ph), w(pw) {}
  Padding(const char* s);         // NOLINT: "same" or "valid"
  Padding(const std::string& s);  // NOLINT
  std::string str() const;
};

struct Conv2dArgs {
  std::array<int64_t, 2> stride{1, 1};
  Padding padding = Padding(int64_t{0});
  std::array<int64_t, 2> dilation{1, 1};
  int64_t groups = 1;
};

// What an inference graph fuses into a convolution (inference/session.h): the sum with a
// residual of y's shape, then an activation, computed in the convolution's own pass over y:
//   y = act(conv2d(x, weight, bias) + residual)
struct ConvEpilogue {
  enum class Act { none, relu, clip };
  Act act = Act::none;
  float lo = 0.f, hi = 0.f;  // clip's bounds (relu6: 0, 6)
  Tensor residual;           // undefined: no sum
  // The caller hands the residual over: when this is the only handle on its buffer (and it is
  // in the output's layout and dtype), the output is computed in that buffer, in place of a
  // copy (the residual's values are then gone).
  bool residual_reusable = false;
};
namespace ops {
// `layer` names the calling layer in error messages (e.g. "features.0 (Conv2d)").
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dArgs& args = {},
              const std::string& layer = "conv2d");

// For inference only: no autograd record and no trace; refused while gradients are recorded
// for an input that requires one. The result equals act(conv2d(...) + residual) up to the
// rounding of the sum (once, in float32, where the backend fuses it).
Tensor conv2d_fused(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dArgs& args,
                    const ConvEpilogue& epilogue, const std::string& layer = "conv2d");
}  // namespace ops

}  // namespace convnet
