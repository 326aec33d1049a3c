#pragma once
// Elementwise arithmetic and full reductions, as torch (no broadcasting: the two
// operands of a binary op have the same shape, as in a residual add).
//   add(a, b) = a + b    sub(a, b) = a - b    mul(a, b) = a * b    mul(a, s) = s a
//   sum(x) = sum_i x_i   mean(x) = sum(x) / numel(x)   (scalars, shape ())
#include <string>

#include "convnet/core/tensor.h"

namespace convnet::ops {

// `layer` names the calling layer in error messages (e.g. "layer1.0 (residual add)").
Tensor add(const Tensor& a, const Tensor& b, const std::string& layer = "add");
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, float s);
Tensor sum(const Tensor& x);
Tensor mean(const Tensor& x);

}  // namespace convnet::ops

namespace convnet {
inline Tensor operator+(const Tensor& a, const Tensor& b) {
  return ops::add(a, b);
}
inline Tensor operator-(const Tensor& a, const Tensor& b) {
  return ops::sub(a, b);
}
inline Tensor operator*(const Tensor& a, const Tensor& b) {
  return ops::mul(a, b);
}
inline Tensor operator*(const Tensor& a, float s) {
  return ops::mul(a, s);
}
}  // namespace convnet
