// Activations: elementwise, any shape; one dispatch helper for all of them.
#include "convnet/ops/activation.h"

#include "convnet/autograd/autograd.h"
#include "convnet/autograd/trace.h"
#include "convnet/core/error.h"
#include "kernels/activation.h"
#include "kernels/registry.h"

namespace convnet::ops {

namespace {

// y = f(x) through the kernels "<name>_fwd" / "<name>_bwd". The backward keeps x (an
// input of the node anyway) and y's data (detached, so the graph does not own itself).
Tensor activation(const char* name, const Tensor& x, float a) {
  CONVNET_CHECK(x.defined(), name, ": input must be defined");
  const std::string key = name;
  Tensor y = Tensor::empty(x.shape());
  kernels::call<kernels::ActFwdFn<float>>(key + "_fwd", x.numel(), a, x.data(), y.data());
  autograd::record(y, name, {x}, [key, a, x, yd = y.detach()](const Tensor& gy) {
    Tensor gx = Tensor::empty(x.shape());
    kernels::call<kernels::ActBwdFn<float>>(key + "_bwd", x.numel(), a, x.data(), yd.data(), gy.data(), gx.data());
    return std::vector<Tensor>{gx};
  });
  if (trace::active()) trace::record(name, {x}, y, {.floats = {{"alpha", a}}});
  return y;
}

}  // namespace

Tensor relu(const Tensor& x) {
  return activation("relu", x, 0.f);
}
Tensor leaky_relu(const Tensor& x, double negative_slope) {
  return activation("leaky_relu", x, static_cast<float>(negative_slope));
}
Tensor relu6(const Tensor& x) {
  return activation("relu6", x, 0.f);
}
Tensor tanh(const Tensor& x) {
  return activation("tanh", x, 0.f);
}
Tensor sigmoid(const Tensor& x) {
  return activation("sigmoid", x, 0.f);
}

}  // namespace convnet::ops
