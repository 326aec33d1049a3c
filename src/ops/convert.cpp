// Tensor::to(DType) and Tensor::to(Device): conversions through the convert kernel, and
// the device check. Between floating dtypes the conversion is differentiable: the gradient
// is converted back to the source dtype (autocast relies on it).
#include "kernels/convert.h"

#include "convnet/autograd/autograd.h"
#include "convnet/core/error.h"
#include "convnet/core/tensor.h"
#include "core/cuda_backend.h"

namespace convnet {

Tensor Tensor::to(DType dt) const {
  const DType from = dtype();
  if (from == dt) return *this;
  CONVNET_CHECK(device().is_cpu() || cuda_built(), "Tensor::to(", dtype_name(dt), "): the tensor is on ",
                device_name(device()), ", which has no conversion kernel in this build");
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
#ifdef CONVNET_WITH_CUDA
  for (const Device& e : {d, device()}) {
    if (e.is_cpu()) continue;
    const int n = cuda_device_count();
    CONVNET_CHECK(n > 0, "Tensor::to(", device_name(d), "): no CUDA device was found (",
                  cuda_backend::no_device_reason(), ")");
    CONVNET_CHECK(e.index >= 0 && e.index < n, "Tensor::to(", device_name(d), "): no such device; this machine has ", n,
                  " CUDA device(s)");
  }
  // Backend layouts are the CPU kernels' business: raw_ptr() gives the bytes row-major.
  const Tensor x = detach();
  Tensor y = empty(shape(), dtype(), d);
  cuda_backend::copy(y.stored_ptr(), d, x.raw_ptr(), x.device(), static_cast<size_t>(numel()) * dtype_size(dtype()));
  if (is_floating(dtype()))
    autograd::record(y, "to", {*this}, [from = device()](const Tensor& g) { return std::vector<Tensor>{g.to(from)}; });
  return y;
#else
  throw Error("Tensor::to(" + device_name(d) + "): no such device here (devices: cpu)");
#endif
}

}  // namespace convnet
