// concat: checks that all dimensions but `dim` agree, then copies slices. Its gradient is
// the adjoint: each input gets its own slice of the output gradient.
#include "convnet/ops/concat.h"

#include "convnet/autograd/autograd.h"
#include "convnet/autograd/trace.h"
#include "convnet/core/error.h"
#include "ops/checks.h"
#include "kernels/elementwise.h"
#include "kernels/registry.h"

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

  // Channel concatenation of tensors that are all channel-blocked by the same B (see
  // Tensor::block()) stays blocked: in (N, C/B, H, W, B) it is a concatenation of the C/B
  // blocks, the same copy with other sizes. GoogLeNet's and DenseNet's concats between
  // convolutions then cost no layout conversion.
  int32_t B = d == 1 && rank == 4 ? x0.block() : 0;
  for (const Tensor& x : xs) B = x.block() == B ? B : 0;
  int64_t outer = 1, inner = 1, total = 0;
  for (int64_t k = 0; k < d; ++k) outer *= x0.shape()[k];
  for (int64_t k = d + 1; k < rank; ++k) inner *= x0.shape()[k];
  if (B) inner *= B;
  std::vector<int64_t> sizes;
  std::vector<const float*> ptrs;
  for (const Tensor& x : xs) {
    sizes.push_back(x.shape()[d] / (B ? B : 1));
    ptrs.push_back(B ? x.raw_data() : x.data());
    total += x.shape()[d];
  }
  Shape out_shape = x0.shape();
  out_shape[d] = total;
  Tensor y = B ? Tensor::empty_blocked(out_shape, B) : Tensor::empty(out_shape);
  const auto count = static_cast<int64_t>(xs.size());
  kernels::keys::concat_fwd(outer, inner, count, sizes.data(), ptrs.data(),
                                             B ? y.raw_data() : y.data());
  autograd::record(y, "concat", xs, [xs, sizes, outer, inner, count, B](const Tensor& g_in) {
    const Tensor g = B ? g_in.to_block(B) : g_in;
    std::vector<Tensor> grads(xs.size());
    std::vector<float*> gptrs(xs.size(), nullptr);
    for (size_t i = 0; i < xs.size(); ++i)
      if (xs[i].requires_grad()) {
        grads[i] = B ? Tensor::empty_blocked(xs[i].shape(), B) : Tensor::empty(xs[i].shape());
        gptrs[i] = B ? grads[i].raw_data() : grads[i].data();
      }
    kernels::keys::concat_bwd(outer, inner, count, sizes.data(),
                                               B ? g.raw_data() : g.data(), gptrs.data());
    return grads;
  });
  if (trace::active()) trace::record("concat", xs, y, {.ints = {{"dim", {d}}}});
  return y;
}

}  // namespace convnet::ops
