// permute: a strided copy that walks x with its strides in the permuted order; the
// gradient is the adjoint of that copy (every element is read once, so it is the inverse
// permutation of the output gradient).
#include "convnet/ops/permute.h"

#include "convnet/autograd/autograd.h"
#include "convnet/autograd/trace.h"
#include "convnet/core/error.h"
#include "kernels/registry.h"
#include "kernels/strided.h"
#include "ops/checks.h"

namespace convnet::ops {

namespace {
std::string list_str(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}
}  // namespace

Tensor permute(const Tensor& x_arg, const std::vector<int64_t>& dims, const std::string& layer) {
  const Tensor x = as_fp32(x_arg);  // float32 kernels only (ops/autocast.h)
  CONVNET_CHECK(x.defined(), layer, ": input must be defined");
  const int64_t rank = x.dim();
  CONVNET_CHECK(static_cast<int64_t>(dims.size()) == rank, layer, ": dims ", list_str(dims), " has ", dims.size(),
                " entries but the input of shape ", shape_str(x.shape()), " has ", rank, " dimensions");
  std::vector<int64_t> in_strides(static_cast<size_t>(rank), 1), strides(static_cast<size_t>(rank));
  for (int64_t k = rank - 2; k >= 0; --k) in_strides[k] = in_strides[k + 1] * x.shape()[k + 1];
  std::vector<bool> seen(static_cast<size_t>(rank), false);
  Shape out(static_cast<size_t>(rank));
  for (int64_t k = 0; k < rank; ++k) {
    const int64_t d = dims[k] < 0 ? dims[k] + rank : dims[k];
    CONVNET_CHECK(d >= 0 && d < rank && !seen[d], layer, ": dims ", list_str(dims),
                  " is not a permutation of the dimensions of a tensor of shape ", shape_str(x.shape()));
    seen[d] = true;
    out[k] = x.shape()[d];
    strides[k] = in_strides[d];
  }
  Tensor y = Tensor::empty(out);
  kernels::keys::strided_copy.get()(rank, out.data(), strides.data(), x.data(), y.data());
  autograd::record(y, "permute", {x}, [in = x.shape(), out, strides, rank](const Tensor& g) {
    Tensor gx = Tensor::empty(in);
    kernels::keys::strided_copy_bwd.get()(rank, out.data(), strides.data(),
                                                                       shape_numel(in), g.data(), gx.data());
    return std::vector<Tensor>{gx};
  });
  if (trace::active()) trace::record("permute", {x}, y, {.ints = {{"dims", dims}}});
  return y;
}

Tensor transpose2d(const Tensor& x_arg, const std::string& layer) {
  const Tensor x = as_fp32(x_arg);  // float32 kernels only (ops/autocast.h)
  CONVNET_CHECK(x.defined() && x.dim() == 2, layer, ": expected a 2-D tensor, got ",
                x.defined() ? shape_str(x.shape()) : std::string("an undefined tensor"));
  return permute(x, {1, 0}, layer);
}

Tensor channel_shuffle(const Tensor& x, int64_t groups, const std::string& layer) {
  CONVNET_CHECK(x.defined() && x.dim() >= 2, layer, ": expected a tensor (N, C, ...), got ",
                x.defined() ? shape_str(x.shape()) : std::string("an undefined tensor"));
  CONVNET_CHECK(groups >= 1 && x.size(1) % groups == 0, layer, ": ", groups, " groups do not divide the ", x.size(1),
                " channels of the input of shape ", shape_str(x.shape()));
  Shape split = {x.size(0), groups, x.size(1) / groups};
  for (int64_t d = 2; d < x.dim(); ++d) split.push_back(x.size(d));
  std::vector<int64_t> dims(split.size());
  for (size_t k = 0; k < dims.size(); ++k) dims[k] = static_cast<int64_t>(k);
  std::swap(dims[1], dims[2]);
  return permute(x.reshape(split), dims, layer).reshape(x.shape());
}

}  // namespace convnet::ops
