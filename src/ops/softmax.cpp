// softmax / log_softmax: resolve `dim`, view the tensor as (outer, D, inner), dispatch.
// Both backward kernels need only the output, kept as a detached view of its data.
#include "convnet/ops/softmax.h"

#include "convnet/autograd/autograd.h"
#include "convnet/autograd/trace.h"
#include "convnet/core/error.h"
#include "kernels/registry.h"
#include "kernels/softmax.h"
#include "ops/checks.h"

namespace convnet::ops {

namespace {

Tensor softmax_like(const char* name, kernels::Kernel<kernels::SoftmaxFwdFn<float>>& fwd,
                    kernels::Kernel<kernels::SoftmaxBwdFn<float>>& bwd, const Tensor& x, int64_t dim) {
  CONVNET_CHECK(x.defined(), name, ": input must be defined");
  // A 0-d tensor behaves as one of shape (1), as in PyTorch (dim 0 or -1).
  const int64_t rank = x.dim(), r = rank == 0 ? 1 : rank;
  CONVNET_CHECK(dim >= -r && dim < r, name, ": dim ", dim, " is out of range for input of shape ", shape_str(x.shape()),
                " (expected in [", -r, ", ", r - 1, "])");
  const int64_t d = dim < 0 ? dim + r : dim;
  kernels::SoftmaxGeom g{1, rank == 0 ? 1 : x.shape()[d], 1};
  for (int64_t k = 0; k < d; ++k) g.outer *= x.shape()[k];
  for (int64_t k = d + 1; k < rank; ++k) g.inner *= x.shape()[k];
  Tensor y = Tensor::empty(x.shape());
  fwd(g, x.data(), y.data());
  autograd::record(y, name, {x}, [&bwd, g, yd = y.detach()](const Tensor& gy) {
    Tensor gx = Tensor::empty(yd.shape());
    bwd(g, yd.data(), gy.data(), gx.data());
    return std::vector<Tensor>{gx};
  });
  if (trace::active()) trace::record(name, {x}, y, {.ints = {{"dim", {d}}}});
  return y;
}

}  // namespace

Tensor softmax(const Tensor& x_arg, int64_t dim) {
  const Tensor x = as_fp32(x_arg);  // float32 kernels only (ops/autocast.h)
  return softmax_like("softmax", kernels::keys::softmax_fwd, kernels::keys::softmax_bwd, x, dim);
}
Tensor log_softmax(const Tensor& x_arg, int64_t dim) {
  const Tensor x = as_fp32(x_arg);  // float32 kernels only (ops/autocast.h)
  return softmax_like("log_softmax", kernels::keys::log_softmax_fwd, kernels::keys::log_softmax_bwd, x, dim);
}

}  // namespace convnet::ops
