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

Tensor concat(const std::vector<Tensor>& xs_arg, int64_t dim, const std::string& layer) {
  CONVNET_CHECK(!xs_arg.empty(), layer, ": expected at least one tensor to concatenate");
  // Tensors of one reduced precision concatenate in it (ops/autocast.h); under autocast,
  // floating tensors of several dtypes in float32 (outside, two dtypes are an error).
  bool one_reduced = true;
  for (size_t i = 0; i < xs_arg.size(); ++i) {
    CONVNET_CHECK(xs_arg[i].defined(), layer, ": tensor ", i, " is undefined");
    one_reduced = one_reduced && is_reduced(xs_arg[i].dtype()) && xs_arg[i].dtype() == xs_arg[0].dtype();
  }
  const bool promote = !one_reduced && autocast_dtype() != DType::float32;
  std::vector<Tensor> xs;
  for (const Tensor& x : xs_arg) xs.push_back(promote ? as_fp32(x) : x);
  for (size_t i = 0; i < xs.size(); ++i) {
    const std::string name = "tensor " + std::to_string(i);
    if (one_reduced)
      CONVNET_CHECK(xs[i].device() == xs[0].device(), layer, ": operands on two devices: tensor 0 is on ",
                    device_name(xs[0].device()), ", ", name, " is on ", device_name(xs[i].device()));
    else
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
  for (const Tensor& x : xs) {
    in.push_back(x.in_layout(cg.layout));
    total += x.shape()[d];
  }
  Shape out_shape = x0.shape();
  out_shape[d] = total;
  Tensor y = Tensor::empty(out_shape, x0.dtype(), x0.device(), cg.layout);
  const auto count = static_cast<int64_t>(xs.size());
  kernels::with_floating(x0.dtype(), [&]<class T>() {
    std::vector<const T*> ptrs;
    for (const Tensor& x : in) ptrs.push_back(x.stored_as<T>());
    (*kernels::keys::Elementwise<T>::concat_fwd)(cg.outer, cg.inner, count, cg.sizes.data(), ptrs.data(),
                                                 y.stored_as<T>());
  });
  autograd::record(y, "concat", xs, [xs, cg, count](const Tensor& g_in) {
    const Tensor g = g_in.to(xs[0].dtype()).in_layout(cg.layout);
    std::vector<Tensor> grads(xs.size());
    kernels::with_floating(g.dtype(), [&]<class T>() {
      std::vector<T*> gptrs(xs.size(), nullptr);
      for (size_t i = 0; i < xs.size(); ++i)
        if (xs[i].requires_grad()) {
          grads[i] = Tensor::empty(xs[i].shape(), g.dtype(), g.device(), cg.layout);
          gptrs[i] = grads[i].stored_as<T>();
        }
      (*kernels::keys::Elementwise<T>::concat_bwd)(cg.outer, cg.inner, count, cg.sizes.data(), g.stored_as<T>(),
                                                   gptrs.data());
    });
    return grads;
  });
  if (trace::active()) trace::record("concat", xs, y, {.ints = {{"dim", {d}}}});
  return y;
}

}  // namespace convnet::ops
