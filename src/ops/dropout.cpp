#include "convnet/ops/dropout.h"

#include <algorithm>
#include <vector>

#include "convnet/autograd/autograd.h"
#include "convnet/autograd/trace.h"
#include "convnet/core/error.h"
#include "convnet/core/rng.h"
#include "kernels/elementwise.h"
#include "kernels/vector.h"
#include "ops/checks.h"

namespace convnet::ops {

namespace {
void check_p(double p, const char* op) {
  CONVNET_CHECK(p >= 0 && p <= 1, op, ": dropout probability has to be between 0 and 1, but got p = ", p);
}

// y = x * mask, mask holding 0 or 1/(1-p) per element; dy/dx is the same mask.
Tensor apply_mask(const Tensor& x, const Tensor& mask, const char* op) {
  Tensor y = Tensor::empty(x.shape(), DType::float32, x.device());
  kernels::keys::mul(x.numel(), kdata(x), kdata(mask), kdata(y));
  autograd::record(y, op, {x}, [mask](const Tensor& gy) {
    Tensor gx = Tensor::empty(gy.shape(), DType::float32, gy.device());
    kernels::keys::mul(gy.numel(), kdata(gy), kdata(mask), kdata(gx));
    return std::vector<Tensor>{gx};
  });
  if (trace::active()) trace::record(op, {x}, y);
  return y;
}

// The mask of elements (group 1) or of whole planes (group H*W): one 64-bit draw of `gen`
// seeds the counter-based generator of the dropout_mask kernel (kernels/vector.h), so the
// mask does not depend on the thread count or device, and gen advances by one draw.
Tensor make_mask(const Tensor& x, int64_t group, double p, float scale, Generator& gen) {
  Tensor mask = Tensor::empty(x.shape(), DType::float32, x.device());
  kernels::keys::dropout_mask(mask.numel(), std::max<int64_t>(group, 1), static_cast<float>(p), gen.next_u64(), scale,
                              kdata(mask));
  return mask;
}

// Survivors are scaled by 1/(1-p) so E[y] = x; with p == 1 nothing survives and the scale is moot
// (0, so no inf * 0 = NaN), as PyTorch returns zeros.
float keep_scale(double p) {
  return p < 1 ? static_cast<float>(1.0 / (1.0 - p)) : 0.f;
}
}  // namespace

Tensor dropout(const Tensor& x_arg, double p, bool training, Generator& gen) {
  const Tensor x = as_fp32(x_arg);  // float32 kernels only (ops/autocast.h)
  check_p(p, "dropout");
  CONVNET_CHECK(x.defined(), "dropout: input must be defined");
  if (!training || p == 0) return x;
  return apply_mask(x, make_mask(x, 1, p, keep_scale(p), gen), "dropout");
}

Tensor dropout2d(const Tensor& x_arg, double p, bool training, Generator& gen) {
  const Tensor x = as_fp32(x_arg);  // float32 kernels only (ops/autocast.h)
  check_p(p, "dropout2d");
  CONVNET_CHECK(x.defined(), "dropout2d: input must be defined");
  CONVNET_CHECK(x.dim() == 3 || x.dim() == 4,
                "dropout2d: expected input of shape (N, C, H, W) or (N, C, L), got input of shape ",
                shape_str(x.shape()));
  if (!training || p == 0) return x;
  const int64_t planes = x.size(0) * x.size(1), plane = planes ? x.numel() / planes : 0;
  // Neighbouring pixels of a feature map are correlated, so dropping single ones barely
  // regularizes; dropout2d drops whole (n, c) feature maps (Tompson et al., 2015).
  const Tensor mask = make_mask(x, plane, p, keep_scale(p), gen);
  return apply_mask(x, mask, "dropout2d");
}

Tensor stochastic_depth(const Tensor& x_arg, double p, const std::string& mode, bool training, Generator& gen) {
  check_p(p, "stochastic_depth");
  CONVNET_CHECK(mode == "row" || mode == "batch", "stochastic_depth: mode has to be either 'batch' or 'row', but got '",
                mode, "'");
  CONVNET_CHECK(x_arg.defined(), "stochastic_depth: input must be defined");
  CONVNET_CHECK(x_arg.dim() >= 1, "stochastic_depth: expected an input with a batch dimension, got input of shape ",
                shape_str(x_arg.shape()));
  if (!training || p == 0) return x_arg;
  const Tensor x = as_fp32(x_arg);  // float32 kernels only (ops/autocast.h)
  // One draw per sample (row) or one for the whole batch: the dropout mask kernel with a
  // group of a whole sample (or of the whole tensor).
  const int64_t group = mode == "row" ? (x.size(0) ? x.numel() / x.size(0) : 1) : x.numel();
  return apply_mask(x, make_mask(x, group, p, keep_scale(p), gen), "stochastic_depth");
}

}  // namespace convnet::ops
