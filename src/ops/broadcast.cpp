// broadcast_to: a strided copy with stride 0 along the broadcast dimensions; its gradient
// is the adjoint, which sums the output gradient over the copies of each element.
#include "convnet/ops/broadcast.h"

#include "convnet/autograd/autograd.h"
#include "convnet/autograd/trace.h"
#include "convnet/core/error.h"
#include "kernels/registry.h"
#include "kernels/strided.h"
#include "ops/checks.h"

namespace convnet::ops {

Shape broadcast_shapes(const Shape& a, const Shape& b, const std::string& layer) {
  const size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t k = 0; k < rank; ++k) {
    // Aligned at the last dimension; missing leading dimensions count as 1.
    const int64_t da = k < rank - a.size() ? 1 : a[k - (rank - a.size())];
    const int64_t db = k < rank - b.size() ? 1 : b[k - (rank - b.size())];
    CONVNET_CHECK(da == db || da == 1 || db == 1, layer, ": shapes ", shape_str(a), " and ", shape_str(b),
                  " do not broadcast (dimension ", k, " of the result: ", da, " vs ", db,
                  "; sizes must be equal or one of them 1)");
    out[k] = da == 1 ? db : da;
  }
  return out;
}

Tensor broadcast_to(const Tensor& x_arg, const Shape& shape, const std::string& layer) {
  const Tensor x = as_fp32(x_arg);  // float32 kernels only (ops/autocast.h)
  CONVNET_CHECK(x.defined(), layer, ": input must be defined");
  const Shape& in = x.shape();
  if (in == shape) return x;
  const auto rank = static_cast<int64_t>(shape.size());
  const auto lead = rank - x.dim();
  CONVNET_CHECK(lead >= 0, layer, ": cannot broadcast shape ", shape_str(in), " to ", shape_str(shape),
                " (the target has fewer dimensions)");
  // Element strides of x aligned to the target; 0 where x's size 1 is repeated.
  std::vector<int64_t> strides(static_cast<size_t>(rank), 0);
  int64_t stride = 1;
  for (int64_t k = rank - 1; k >= lead; --k) {
    const int64_t d = in[k - lead];
    CONVNET_CHECK(d == shape[k] || d == 1, layer, ": cannot broadcast shape ", shape_str(in), " to ", shape_str(shape),
                  " (dimension ", k, ": ", d, " vs ", shape[k], "; the input size must be equal or 1)");
    strides[k] = d == 1 ? 0 : stride;
    stride *= d;
  }
  Tensor y = Tensor::empty(shape);
  kernels::keys::strided_copy.get()(rank, shape.data(), strides.data(), x.data(), y.data());
  autograd::record(y, "broadcast_to", {x}, [in, shape, strides, rank](const Tensor& g) {
    Tensor gx = Tensor::empty(in);
    kernels::keys::strided_copy_bwd.get()(rank, shape.data(), strides.data(),
                                                                       shape_numel(in), g.data(), gx.data());
    return std::vector<Tensor>{gx};
  });
  if (trace::active()) trace::record("broadcast_to", {x}, y);
  return y;
}

}  // namespace convnet::ops
