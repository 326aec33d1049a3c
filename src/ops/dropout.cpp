#include "convnet/ops/dropout.h"

#include <vector>

#include "convnet/autograd/autograd.h"
#include "convnet/autograd/trace.h"
#include "convnet/core/error.h"

namespace convnet::ops {

namespace {
void check_p(double p, const char* op) {
  CONVNET_CHECK(p >= 0 && p <= 1, op, ": dropout probability has to be between 0 and 1, but got p = ", p);
}

// y = x * mask, mask holding 0 or 1/(1-p) per element; dy/dx is the same mask.
Tensor apply_mask(const Tensor& x, const Tensor& mask, const char* op) {
  Tensor y = Tensor::empty(x.shape());
  const float* px = x.data();
  const float* pm = mask.data();
  float* py = y.data();
  for (int64_t i = 0; i < x.numel(); ++i) py[i] = px[i] * pm[i];
  autograd::record(y, op, {x}, [mask](const Tensor& gy) {
    Tensor gx = Tensor::empty(gy.shape());
    const float* pg = gy.data();
    const float* pm = mask.data();
    float* po = gx.data();
    for (int64_t i = 0; i < gy.numel(); ++i) po[i] = pg[i] * pm[i];
    return std::vector<Tensor>{gx};
  });
  if (trace::active()) trace::record(op, {x}, y);
  return y;
}

// Survivors are scaled by 1/(1-p) so E[y] = x; with p == 1 nothing survives and the scale is moot
// (0, so no inf * 0 = NaN), as PyTorch returns zeros.
float keep_scale(double p) {
  return p < 1 ? static_cast<float>(1.0 / (1.0 - p)) : 0.f;
}
}  // namespace

Tensor dropout(const Tensor& x, double p, bool training, Generator& gen) {
  check_p(p, "dropout");
  CONVNET_CHECK(x.defined(), "dropout: input must be defined");
  if (!training || p == 0) return x;
  const float scale = keep_scale(p);
  Tensor mask = Tensor::empty(x.shape());
  float* m = mask.data();
  for (int64_t i = 0; i < mask.numel(); ++i) m[i] = gen.bernoulli(static_cast<float>(p)) ? 0.f : scale;
  return apply_mask(x, mask, "dropout");
}

Tensor dropout2d(const Tensor& x, double p, bool training, Generator& gen) {
  check_p(p, "dropout2d");
  CONVNET_CHECK(x.defined(), "dropout2d: input must be defined");
  CONVNET_CHECK(x.dim() == 3 || x.dim() == 4,
                "dropout2d: expected input of shape (N, C, H, W) or (N, C, L), got input of shape ",
                shape_str(x.shape()));
  if (!training || p == 0) return x;
  const float scale = keep_scale(p);
  const int64_t planes = x.size(0) * x.size(1), plane = planes ? x.numel() / planes : 0;
  // Neighbouring pixels of a feature map are correlated, so dropping single ones barely
  // regularizes; dropout2d drops whole (n, c) feature maps (Tompson et al., 2015).
  Tensor mask = Tensor::empty(x.shape());
  float* m = mask.data();
  for (int64_t k = 0; k < planes; ++k) {
    const float v = gen.bernoulli(static_cast<float>(p)) ? 0.f : scale;
    for (int64_t i = 0; i < plane; ++i) m[k * plane + i] = v;
  }
  return apply_mask(x, mask, "dropout2d");
}

}  // namespace convnet::ops
