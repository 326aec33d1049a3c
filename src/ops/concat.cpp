// concat: checks that all dimensions but `dim` agree, then copies slices. Its gradient is
// the adjoint: each input gets its own slice of the output gradient.
#include "convnet/ops/concat.h"

#include "convnet/autograd/autograd.h"
#include "convnet/autograd/trace.h"
#include "convnet/core/error.h"
#include "kernels/elementwise.h"
#include "kernels/layout.h"
#include "kernels/registry.h"
#include "ops/checks.h"

namespace convnet::ops {

Tensor concat(const std::vector<Tensor>& xs, int64_t dim, const std::string& layer) {
  CONVNET_CHECK(!xs.empty(), layer, ": expected at least one tensor to concatenate");
  for (size_t i = 0; i < xs.size(); ++i) {
    CONVNET_CHECK(xs[i].defined(), layer, ": tensor ", i, " is undefined");
    const std::string name = "tensor " + std::to_string(i);
    check_operands(layer, {{"tensor 0", &xs[0]}, {name.c_str(), &xs[i]}});
  }
  const Tensor& x0 = xs[0];
  const int64_t rank = x0.dim();
  CONVNET_CHECK(rank >= 1, layer, ": zero-dimensional tensors cannot be concatenated, tensor 0 has shape ",
                shape_str(x0.shape()));
  CONVNET_CHECK(dim >= -rank && dim < rank, layer, ": dim ", dim, " is out of range for tensors of shape ",
                shape_str(x0.shape()), " (expected in [", -rank, ", ", rank - 1, "])");
  const int64_t d = dim < 0 ? dim + rank : dim;
  for (size_t i = 1; i < xs.size(); ++i) {
    const Shape& s = xs[i].shape();
    CONVNET_CHECK(xs[i].dim() == rank, layer, ": tensor ", i, " of shape ", shape_str(s), " has ", xs[i].dim(),
                  " dimensions but tensor 0 of shape ", shape_str(x0.shape()), " has ", rank);
    for (int64_t k = 0; k < rank; ++k)
      CONVNET_CHECK(k == d || s[k] == x0.shape()[k], layer, ": tensor ", i, " of shape ", shape_str(s),
                    " does not match tensor 0 of shape ", shape_str(x0.shape()), " in dimension ", k,
                    " (all dimensions but dim ", d, " must be equal)");
  }

  // The copy's geometry in the inputs' layout where the kernels can concatenate in it (a
  // channel concat of blocked tensors: GoogLeNet's and DenseNet's cost no conversion), else
  // row-major.
  const kernels::ConcatGeom cg = kernels::concat_geom(xs, d);
  int64_t total = 0;
  std::vector<Tensor> in;
  std::vector<const float*> ptrs;
  for (const Tensor& x : xs) {
    in.push_back(x.in_layout(cg.layout));
    ptrs.push_back(in.back().raw_data());
    total += x.shape()[d];
  }
  Shape out_shape = x0.shape();
  out_shape[d] = total;
  Tensor y = Tensor::empty(out_shape, x0.dtype(), x0.device(), cg.layout);
  const auto count = static_cast<int64_t>(xs.size());
  kernels::keys::concat_fwd(cg.outer, cg.inner, count, cg.sizes.data(), ptrs.data(), y.raw_data());
  autograd::record(y, "concat", xs, [xs, cg, count](const Tensor& g_in) {
    const Tensor g = g_in.in_layout(cg.layout);
    std::vector<Tensor> grads(xs.size());
    std::vector<float*> gptrs(xs.size(), nullptr);
    for (size_t i = 0; i < xs.size(); ++i)
      if (xs[i].requires_grad()) {
        grads[i] = Tensor::empty(xs[i].shape(), g.dtype(), g.device(), cg.layout);
        gptrs[i] = grads[i].raw_data();
      }
    kernels::keys::concat_bwd(cg.outer, cg.inner, count, cg.sizes.data(), g.raw_data(), gptrs.data());
    return grads;
  });
  if (trace::active()) trace::record("concat", xs, y, {.ints = {{"dim", {d}}}});
  return y;
}

}  // namespace convnet::ops
