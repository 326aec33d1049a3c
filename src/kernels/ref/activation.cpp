// Reference activations: one line of math per element. Instantiated for float and
// double (double for the gradient checks).
#include "kernels/activation.h"

#include <cmath>

#include "kernels/registry.h"

namespace convnet::kernels::ref {

// relu(x) = max(x, 0); relu'(x) = [x > 0], so the gradient at exactly 0 is 0 (as PyTorch).
template <class T>
void relu_fwd(int64_t n, T, const T* x, T* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] < T(0) ? T(0) : x[i];  // NaN passes through, as in PyTorch
}
template <class T>
void relu_bwd(int64_t n, T, const T* x, const T*, const T* gy, T* gx) {
  for (int64_t i = 0; i < n; ++i) gx[i] = x[i] > T(0) ? gy[i] : T(0);
}

// leaky_relu(x) = x > 0 ? x : a x; the derivative at 0 is a (PyTorch: self > 0 ? grad : grad * a).
template <class T>
void leaky_relu_fwd(int64_t n, T a, const T* x, T* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] > T(0) ? x[i] : a * x[i];
}
template <class T>
void leaky_relu_bwd(int64_t n, T a, const T* x, const T*, const T* gy, T* gx) {
  for (int64_t i = 0; i < n; ++i) gx[i] = x[i] > T(0) ? gy[i] : a * gy[i];
}

// relu6(x) = min(max(x, 0), 6) (Howard et al. 2017, MobileNets; Sandler et al. 2018), which
// PyTorch computes as hardtanh(x, 0, 6): its derivative is 1 strictly inside (0, 6) and 0 at
// both kinks, x = 0 and x = 6 (hardtanh_backward zeroes x <= min and x >= max).
template <class T>
void relu6_fwd(int64_t n, T, const T* x, T* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] < T(0) ? T(0) : (x[i] > T(6) ? T(6) : x[i]);  // NaN passes through
}
template <class T>
void relu6_bwd(int64_t n, T, const T* x, const T*, const T* gy, T* gx) {
  for (int64_t i = 0; i < n; ++i) gx[i] = x[i] <= T(0) || x[i] >= T(6) ? T(0) : gy[i];  // NaN: gy, as PyTorch
}

// tanh'(x) = 1 - tanh(x)^2
template <class T>
void tanh_fwd(int64_t n, T, const T* x, T* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
}
template <class T>
void tanh_bwd(int64_t n, T, const T*, const T* y, const T* gy, T* gx) {
  for (int64_t i = 0; i < n; ++i) gx[i] = gy[i] * (T(1) - y[i] * y[i]);
}

// sigmoid(x) = 1 / (1 + e^-x), written as e^x / (1 + e^x) for x < 0 so that exp never
// overflows; sigmoid'(x) = y (1 - y).
template <class T>
void sigmoid_fwd(int64_t n, T, const T* x, T* y) {
  for (int64_t i = 0; i < n; ++i) {
    if (x[i] >= T(0)) {
      y[i] = T(1) / (T(1) + std::exp(-x[i]));
    } else {
      const T e = std::exp(x[i]);
      y[i] = e / (T(1) + e);
    }
  }
}
template <class T>
void sigmoid_bwd(int64_t n, T, const T*, const T* y, const T* gy, T* gx) {
  for (int64_t i = 0; i < n; ++i) gx[i] = gy[i] * y[i] * (T(1) - y[i]);
}

#define INSTANTIATE(T)                                                           \
  template void relu_fwd<T>(int64_t, T, const T*, T*);                           \
  template void relu_bwd<T>(int64_t, T, const T*, const T*, const T*, T*);       \
  template void leaky_relu_fwd<T>(int64_t, T, const T*, T*);                     \
  template void leaky_relu_bwd<T>(int64_t, T, const T*, const T*, const T*, T*); \
  template void relu6_fwd<T>(int64_t, T, const T*, T*);                          \
  template void relu6_bwd<T>(int64_t, T, const T*, const T*, const T*, T*);      \
  template void tanh_fwd<T>(int64_t, T, const T*, T*);                           \
  template void tanh_bwd<T>(int64_t, T, const T*, const T*, const T*, T*);       \
  template void sigmoid_fwd<T>(int64_t, T, const T*, T*);                        \
  template void sigmoid_bwd<T>(int64_t, T, const T*, const T*, const T*, T*);
INSTANTIATE(float)
INSTANTIATE(double)
#undef INSTANTIATE

}  // namespace convnet::kernels::ref

namespace convnet::kernels {
void register_ref_activation() {
  keys::relu_fwd.add("ref", 0, &ref::relu_fwd<float>);
  keys::relu_bwd.add("ref", 0, &ref::relu_bwd<float>);
  keys::leaky_relu_fwd.add("ref", 0, &ref::leaky_relu_fwd<float>);
  keys::leaky_relu_bwd.add("ref", 0, &ref::leaky_relu_bwd<float>);
  keys::relu6_fwd.add("ref", 0, &ref::relu6_fwd<float>);
  keys::relu6_bwd.add("ref", 0, &ref::relu6_bwd<float>);
  keys::tanh_fwd.add("ref", 0, &ref::tanh_fwd<float>);
  keys::tanh_bwd.add("ref", 0, &ref::tanh_bwd<float>);
  keys::sigmoid_fwd.add("ref", 0, &ref::sigmoid_fwd<float>);
  keys::sigmoid_bwd.add("ref", 0, &ref::sigmoid_bwd<float>);
}
}  // namespace convnet::kernels
