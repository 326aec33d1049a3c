// Elementwise arithmetic and full reductions. Gradients, for L a scalar loss:
//   add: dL/da = dL/db = g     sub: dL/da = g, dL/db = -g     mul: dL/da = g b, dL/db = g a
//   mul by s: s g              sum: dL/dx_i = g               mean: dL/dx_i = g / n
#include "convnet/ops/elementwise.h"

#include "convnet/autograd/autograd.h"
#include "convnet/autograd/trace.h"
#include "convnet/core/error.h"
#include "ops/checks.h"
#include "kernels/elementwise.h"
#include "kernels/registry.h"

namespace convnet::ops {

namespace {

void check_same_shape(const std::string& op, const Tensor& a, const Tensor& b) {
  CONVNET_CHECK(a.defined() && b.defined(), op, ": both operands must be defined");
  check_operands(op, {{"a", &a}, {"b", &b}});
  CONVNET_CHECK(a.shape() == b.shape(), op, ": expected tensors of the same shape, got ", shape_str(a.shape()), " and ",
                shape_str(b.shape()));
}

// Elementwise, so any layout will do as long as both operands share it (core/layout.h):
// b is read in a's, and y keeps it.
Tensor binary(kernels::Kernel<kernels::BinaryFn<float>>& kernel, const Tensor& a, const Tensor& b) {
  const Tensor pb = b.in_layout(a.layout());
  Tensor y = Tensor::empty_like(a);
  kernel(a.numel(), a.raw_data(), pb.raw_data(), y.raw_data());
  return y;
}

Tensor scaled(const Tensor& x, float s) {
  Tensor y = Tensor::empty_like(x);
  kernels::keys::scale(x.numel(), s, x.raw_data(), y.raw_data());
  return y;
}

}  // namespace

Tensor add(const Tensor& a_arg, const Tensor& b_arg, const std::string& layer) {
  // Two reduced-precision operands of one dtype add in it (residual connections under
  // autocast). Under autocast, floating operands of two dtypes add in float32, as PyTorch
  // promotes them (a shortcut that computed in float32 meets a bfloat16 branch); outside,
  // two dtypes are an error that names both.
  const bool same = a_arg.defined() && b_arg.defined() && a_arg.dtype() == b_arg.dtype();
  const bool promote = !same && autocast_dtype() != DType::float32;
  const Tensor a = promote ? as_fp32(a_arg) : a_arg, b = promote ? as_fp32(b_arg) : b_arg;
  Tensor y;
  if (same && is_reduced(a.dtype())) {
    CONVNET_CHECK(a.shape() == b.shape(), layer, ": expected tensors of the same shape, got ", shape_str(a.shape()),
                  " and ", shape_str(b.shape()));
    CONVNET_CHECK(a.device() == b.device(), layer, ": operands on two devices: a is on ", device_name(a.device()),
                  ", b is on ", device_name(b.device()));
    const Tensor pb = b.in_layout(a.layout());
    y = Tensor::empty_like(a);
    kernels::with_floating(a.dtype(), [&]<class T>() {
      (*kernels::keys::Elementwise<T>::add)(a.numel(), a.stored_as<T>(), pb.stored_as<T>(), y.stored_as<T>());
    });
  } else {
    check_same_shape(layer, a, b);
    y = binary(kernels::keys::add, a, b);
  }
  // The same gradient goes to both inputs; autograd copies before accumulating into it.
  autograd::record(y, "add", {a, b}, [](const Tensor& g) { return std::vector<Tensor>{g, g}; });
  if (trace::active()) trace::record("add", {a, b}, y);
  return y;
}

Tensor sub(const Tensor& a_arg, const Tensor& b_arg) {
  const Tensor a = as_fp32(a_arg);  // float32 kernels only (ops/autocast.h)
  const Tensor b = as_fp32(b_arg);  // float32 kernels only (ops/autocast.h)
  check_same_shape("sub", a, b);
  Tensor y = binary(kernels::keys::sub, a, b);
  autograd::record(y, "sub", {a, b}, [need_b = b.requires_grad()](const Tensor& g) {
    return std::vector<Tensor>{g, need_b ? scaled(g, -1.f) : Tensor()};
  });
  if (trace::active()) trace::record("sub", {a, b}, y);
  return y;
}

Tensor mul(const Tensor& a_arg, const Tensor& b_arg) {
  const Tensor a = as_fp32(a_arg);  // float32 kernels only (ops/autocast.h)
  const Tensor b = as_fp32(b_arg);  // float32 kernels only (ops/autocast.h)
  check_same_shape("mul", a, b);
  Tensor y = binary(kernels::keys::mul, a, b);
  autograd::record(y, "mul", {a, b}, [a, b](const Tensor& g) {
    return std::vector<Tensor>{a.requires_grad() ? binary(kernels::keys::mul, g, b) : Tensor(),
                               b.requires_grad() ? binary(kernels::keys::mul, g, a) : Tensor()};
  });
  if (trace::active()) trace::record("mul", {a, b}, y);
  return y;
}

Tensor mul(const Tensor& a_arg, float s) {
  const Tensor a = as_fp32(a_arg);  // float32 kernels only (ops/autocast.h)
  CONVNET_CHECK(a.defined(), "mul: operand must be defined");
  Tensor y = scaled(a, s);
  autograd::record(y, "mul", {a}, [s](const Tensor& g) { return std::vector<Tensor>{scaled(g, s)}; });
  if (trace::active()) trace::record("mul_scalar", {a}, y, {.floats = {{"scalar", s}}});
  return y;
}

Tensor sum(const Tensor& x_arg) {
  const Tensor x = as_fp32(x_arg);  // float32 kernels only (ops/autocast.h)
  CONVNET_CHECK(x.defined(), "sum: input must be defined");
  Tensor y = Tensor::empty({}, DType::float32, x.device());
  kernels::keys::sum(x.numel(), x.raw_data(), y.raw_data());  // any layout: a sum of all
  autograd::record(y, "sum", {x}, [shape = x.shape()](const Tensor& g) {
    return std::vector<Tensor>{Tensor::full(shape, g.item()).to(g.device())};
  });
  if (trace::active()) trace::record("sum", {x}, y);
  return y;
}

Tensor mean(const Tensor& x_arg) {
  const Tensor x = as_fp32(x_arg);  // float32 kernels only (ops/autocast.h)
  CONVNET_CHECK(x.defined(), "mean: input must be defined");
  const int64_t n = x.numel();
  Tensor s = Tensor::empty({}, DType::float32, x.device());
  kernels::keys::sum(n, x.raw_data(), s.raw_data());  // any layout: a sum of all
  Tensor y = scaled(s, 1.f / static_cast<float>(n));  // n = 0 gives NaN, as torch.mean
  autograd::record(y, "mean", {x}, [shape = x.shape(), n](const Tensor& g) {
    return std::vector<Tensor>{Tensor::full(shape, g.item() / static_cast<float>(n)).to(g.device())};
  });
  if (trace::active()) trace::record("mean", {x}, y);
  return y;
}

}  // namespace convnet::ops
