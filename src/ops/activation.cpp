// Activations: elementwise, any shape; one dispatch helper for all of them.
#include "convnet/ops/activation.h"

#include "convnet/autograd/autograd.h"
#include "convnet/core/error.h"
#include "kernels/activation.h"
#include "kernels/registry.h"

namespace convnet::ops {

namespace {

thread_local bool g_guided_relu = false;

// y = f(x) through the kernels "<name>_fwd" / "<name>_bwd". The backward keeps x (an
// input of the node anyway) and y's data (detached, so the graph does not own itself).
// guided: the backward passes on only the positive part of gy (see GuidedReluGuard).
Tensor activation(const char* name, const Tensor& x, float a, bool guided = false) {
  CONVNET_CHECK(x.defined(), name, ": input must be defined");
  const std::string key = name;
  Tensor y = Tensor::empty(x.shape());
  kernels::call<kernels::ActFwdFn<float>>(key + "_fwd", x.numel(), a, x.data(), y.data());
  autograd::record(y, guided ? "guided_relu" : name, {x}, [key, a, x, yd = y.detach(), guided](const Tensor& gy) {
    Tensor gx = Tensor::empty(x.shape());
    Tensor g = gy;
    if (guided) {  // max(gy, 0), then the ordinary mask [x > 0]: the mask and the clamp commute
      g = Tensor::empty(gy.shape());
      const float* s = gy.data();
      float* d = g.data();
      for (int64_t i = 0; i < gy.numel(); ++i) d[i] = s[i] > 0.f ? s[i] : 0.f;
    }
    kernels::call<kernels::ActBwdFn<float>>(key + "_bwd", x.numel(), a, x.data(), yd.data(), g.data(), gx.data());
    return std::vector<Tensor>{gx};
  });
  return y;
}

}  // namespace

GuidedReluGuard::GuidedReluGuard() : prev_(g_guided_relu) {
  g_guided_relu = true;
}
GuidedReluGuard::~GuidedReluGuard() {
  g_guided_relu = prev_;
}
bool guided_relu_enabled() {
  return g_guided_relu;
}

Tensor relu(const Tensor& x) {
  return activation("relu", x, 0.f, g_guided_relu);
}
Tensor leaky_relu(const Tensor& x, double negative_slope) {
  return activation("leaky_relu", x, static_cast<float>(negative_slope));
}
Tensor relu6(const Tensor& x) {
  return activation("relu6", x, 0.f, g_guided_relu);
}
Tensor tanh(const Tensor& x) {
  return activation("tanh", x, 0.f);
}
Tensor sigmoid(const Tensor& x) {
  return activation("sigmoid", x, 0.f);
}

}  // namespace convnet::ops
