// Division, maximum, minimum, power and where (ops/elementwise.h): same-shape operands on the
// kernels of kernels/arith.h; the gradients are the *_bwd kernels (see that header).
#include "kernels/arith.h"

#include "convnet/autograd/autograd.h"
#include "convnet/autograd/trace.h"
#include "convnet/core/error.h"
#include "convnet/ops/elementwise.h"
#include "kernels/registry.h"
#include "ops/checks.h"

namespace convnet::ops {

namespace {

using BinaryKey = kernels::Kernel<kernels::BinaryFn<float>>;
using BinaryBwdKey = kernels::Kernel<kernels::BinaryBwdFn<float>>;

void check_pair(const char* op, const Tensor& a, const Tensor& b) {
  CONVNET_CHECK(a.defined() && b.defined(), op, ": both operands must be defined");
  check_operands(op, {{"a", &a}, {"b", &b}});
  CONVNET_CHECK(a.shape() == b.shape(), op, ": expected tensors of the same shape, got ", shape_str(a.shape()), " and ",
                shape_str(b.shape()));
}

// y = f(a, b) on `fwd`, its gradients on `bwd`; any layout (elementwise): b is read in a's.
Tensor binary_op(const char* name, BinaryKey& fwd, BinaryBwdKey& bwd, const Tensor& a_arg, const Tensor& b_arg) {
  const Tensor a = as_fp32(a_arg), b = as_fp32(b_arg);  // float32 kernels only (ops/autocast.h)
  check_pair(name, a, b);
  const Tensor pb = b.in_layout(a.layout());
  Tensor y = Tensor::empty_like(a);
  fwd(a.numel(), a.raw_data(), pb.raw_data(), y.raw_data());
  autograd::record(y, name, {a, b}, [&bwd, a, b, yd = y.detach()](const Tensor& g_in) {
    const Layout* layout = a.layout();
    const Tensor g = g_in.in_layout(layout), pb = b.in_layout(layout), py = yd.in_layout(layout);
    Tensor ga = a.requires_grad() ? Tensor::empty_like(g) : Tensor();
    Tensor gb = b.requires_grad() ? Tensor::empty_like(g) : Tensor();
    bwd(g.numel(), a.raw_data(), pb.raw_data(), py.raw_data(), g.raw_data(), ga.defined() ? ga.raw_data() : nullptr,
        gb.defined() ? gb.raw_data() : nullptr);
    return std::vector<Tensor>{ga, gb};
  });
  if (trace::active()) trace::record(name, {a, b}, y);
  return y;
}

}  // namespace

Tensor div(const Tensor& a, const Tensor& b) {
  return binary_op("div", kernels::keys::div, kernels::keys::div_bwd, a, b);
}
Tensor maximum(const Tensor& a, const Tensor& b) {
  return binary_op("maximum", kernels::keys::maximum, kernels::keys::maximum_bwd, a, b);
}
Tensor minimum(const Tensor& a, const Tensor& b) {
  return binary_op("minimum", kernels::keys::minimum, kernels::keys::minimum_bwd, a, b);
}
Tensor pow(const Tensor& a, const Tensor& b) {
  return binary_op("pow", kernels::keys::pow, kernels::keys::pow_bwd, a, b);
}
Tensor pow(const Tensor& a, float exponent) {
  CONVNET_CHECK(a.defined(), "pow: input must be defined");
  return pow(a, Tensor::full(a.shape(), exponent));
}

Tensor where(const Tensor& cond_arg, const Tensor& a_arg, const Tensor& b_arg) {
  const Tensor a = as_fp32(a_arg), b = as_fp32(b_arg);
  check_pair("where", a, b);
  CONVNET_CHECK(cond_arg.defined(), "where: the condition must be defined");
  CONVNET_CHECK(cond_arg.shape() == a.shape(), "where: the condition's shape ", shape_str(cond_arg.shape()),
                " differs from the operands' ", shape_str(a.shape()));
  // The condition as float32 0 / 1 in a's layout (a bool, integer or floating mask).
  const Tensor c = cond_arg.detach().to(DType::float32).in_layout(a.layout());
  const Tensor pb = b.in_layout(a.layout());
  Tensor y = Tensor::empty_like(a);
  kernels::keys::where(a.numel(), c.raw_data(), a.raw_data(), pb.raw_data(), y.raw_data());
  autograd::record(y, "where", {a, b}, [c, need_a = a.requires_grad(), need_b = b.requires_grad()](const Tensor& g_in) {
    const Tensor g = g_in.in_layout(c.layout());
    const Tensor zero = Tensor::zeros(g.shape()).in_layout(g.layout());
    Tensor ga = need_a ? Tensor::empty_like(g) : Tensor(), gb = need_b ? Tensor::empty_like(g) : Tensor();
    if (need_a) kernels::keys::where(g.numel(), c.raw_data(), g.raw_data(), zero.raw_data(), ga.raw_data());
    if (need_b) kernels::keys::where(g.numel(), c.raw_data(), zero.raw_data(), g.raw_data(), gb.raw_data());
    return std::vector<Tensor>{ga, gb};
  });
  if (trace::active()) trace::record("where", {cond_arg, a, b}, y);  // the condition as the graph made it
  return y;
}

}  // namespace convnet::ops
