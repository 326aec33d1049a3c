// Activations: elementwise, any shape; one dispatch helper for all of them.
#include "convnet/ops/activation.h"

#include "convnet/autograd/autograd.h"
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
  // Elementwise, so any layout will do: y keeps x's (see Tensor::block()).
  Tensor y = Tensor::empty_blocked(x.shape(), x.block());
  kernels::call<kernels::ActFwdFn<float>>(key + "_fwd", x.numel(), a, x.raw_data(), y.raw_data());
  autograd::record(y, name, {x}, [key, a, x, yd = y.detach()](const Tensor& gy_in) {
    // x, y and gy in one layout: x's now (it may have been converted since the forward).
    const int32_t layout = x.block();
    const Tensor gy = gy_in.to_block(layout), y_same = yd.to_block(layout);
    Tensor gx = Tensor::empty_blocked(x.shape(), layout);
    kernels::call<kernels::ActBwdFn<float>>(key + "_bwd", x.numel(), a, x.raw_data(), y_same.raw_data(), gy.raw_data(),
                                            gx.raw_data());
    return std::vector<Tensor>{gx};
  });
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
