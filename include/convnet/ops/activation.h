#pragma once
// Elementwise activations, as torch.nn.functional; y has x's shape.
//   relu(x)              = max(x, 0)                     d/dx = [x > 0]  (0 at x = 0, as PyTorch)
//   leaky_relu(x, a)     = x > 0 ? x : a x               d/dx = x > 0 ? 1 : a
//   relu6(x)             = min(max(x, 0), 6)             d/dx = [0 < x < 6]  (0 at x = 0 and x = 6,
//                          as PyTorch's hardtanh(x, 0, 6); MobileNetV2's activation)
//   tanh(x)                                              d/dx = 1 - y^2
//   sigmoid(x)           = 1 / (1 + exp(-x))             d/dx = y (1 - y)
#include "convnet/core/tensor.h"

namespace convnet::ops {

Tensor relu(const Tensor& x);
Tensor leaky_relu(const Tensor& x, double negative_slope = 0.01);
Tensor relu6(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);

// Guided backpropagation (Springenberg et al. 2015, "Striving for simplicity"): while a
// guard is alive on this thread, relu and relu6 record a backward that also drops the
// negative gradients, gx = [x > 0] * max(gy, 0) (relu6: [0 < x < 6] * max(gy, 0)), the
// same as a PyTorch backward hook on nn.ReLU that returns clamp(grad_input, min=0).
// The mode is read when the forward pass records the op, so the guard must cover the
// forward; the backward may run later. Nothing else changes (forward values, other ops).
class GuidedReluGuard {
 public:
  GuidedReluGuard();
  ~GuidedReluGuard();
  GuidedReluGuard(const GuidedReluGuard&) = delete;
  GuidedReluGuard& operator=(const GuidedReluGuard&) = delete;

 private:
  bool prev_;
};
bool guided_relu_enabled();

}  // namespace convnet::ops
