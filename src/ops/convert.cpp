// Tensor::to(DType) and Tensor::to(Device): conversions through the convert kernel, and
// the device check. Between floating dtypes the conversion is differentiable: the gradient
// is converted back to the source dtype (autocast relies on it).
#include "convnet/autograd/autograd.h"
#include "convnet/core/error.h"
#include "convnet/core/tensor.h"
#include "kernels/convert.h"

namespace convnet {

Tensor Tensor::to(DType dt) const {
  const DType from = dtype();
  if (from == dt) return *this;
  CONVNET_CHECK(device().is_cpu(), "Tensor::to(", dtype_name(dt), "): the tensor is on ", device_name(device()),
                ", which has no conversion kernel in this build");
  // Elementwise, so in this tensor's layout (core/layout.h).
  const Tensor x = detach();  // one (storage, layout) pair, whatever another thread does
  Tensor y = empty(shape(), dt, device(), x.layout());
  kernels::keys::convert(numel(), from, x.stored_ptr(), dt, y.stored_ptr());
  if (is_floating(from) && is_floating(dt))
    autograd::record(y, "to", {*this}, [from](const Tensor& g) { return std::vector<Tensor>{g.to(from)}; });
  return y;
}

Tensor Tensor::to(const Device& d) const {
  if (d == device()) return *this;
  CONVNET_CHECK(cuda_built(), "Tensor::to(", device_name(d), "): this build of convnet has no CUDA support (configure ",
                "with CUDA found)");
  throw Error("Tensor::to(" + device_name(d) + "): no such device here (devices: cpu)");
}

}  // namespace convnet
