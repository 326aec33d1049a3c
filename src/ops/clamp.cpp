// clamp: one elementwise kernel each way; the backward keeps x to know which elements
// were inside [lo, hi].
#include "convnet/ops/clamp.h"

#include "convnet/autograd/autograd.h"
#include "convnet/autograd/trace.h"
#include "convnet/core/error.h"
#include "kernels/clamp.h"
#include "kernels/registry.h"
#include "ops/checks.h"

namespace convnet::ops {

Tensor clamp(const Tensor& x_arg, double lo, double hi, const std::string& layer) {
  const Tensor x = as_fp32(x_arg);  // float32 kernels only (ops/autocast.h)
  CONVNET_CHECK(x.defined(), layer, ": input must be defined");
  CONVNET_CHECK(!(lo > hi), layer, ": min ", lo, " is greater than max ", hi);
  const auto flo = static_cast<float>(lo), fhi = static_cast<float>(hi);
  Tensor y = Tensor::empty(x.shape());
  kernels::keys::clamp_fwd.get()(x.numel(), flo, fhi, x.data(), y.data());
  autograd::record(y, "clamp", {x}, [x, flo, fhi](const Tensor& g) {
    Tensor gx = Tensor::empty(x.shape());
    kernels::keys::clamp_bwd.get()(x.numel(), flo, fhi, x.data(), g.data(), gx.data());
    return std::vector<Tensor>{gx};
  });
  if (trace::active()) trace::record("clamp", {x}, y, {.floats = {{"min", lo}, {"max", hi}}});
  return y;
}

}  // namespace convnet::ops
