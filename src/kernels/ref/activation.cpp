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

// hardsigmoid(x) = relu6(x + 3) / 6 (Howard et al. 2019, MobileNetV3); PyTorch's derivative
// is 1/6 strictly inside (-3, 3) and 0 elsewhere, kinks included.
template <class T>
void hardsigmoid_fwd(int64_t n, T, const T* x, T* y) {
  for (int64_t i = 0; i < n; ++i) {
    const T v = x[i] + T(3);
    y[i] = (v < T(0) ? T(0) : (v > T(6) ? T(6) : v)) / T(6);
  }
}
template <class T>
void hardsigmoid_bwd(int64_t n, T, const T* x, const T*, const T* gy, T* gx) {
  for (int64_t i = 0; i < n; ++i) gx[i] = x[i] > T(-3) && x[i] < T(3) ? gy[i] / T(6) : T(0);
}

// hardswish(x) = x relu6(x + 3) / 6 (MobileNetV3); the derivative of PyTorch's formula
// (hardswish_backward): 0 below -3, x/3 + 1/2 on [-3, 3] (both ends), 1 above 3. PyTorch's
// own vectorized CPU path takes 1 at exactly x = 3 and its scalar tail 3/2: either is a
// subgradient; this is the written formula.
template <class T>
void hardswish_fwd(int64_t n, T, const T* x, T* y) {
  for (int64_t i = 0; i < n; ++i) {
    const T v = x[i] + T(3);
    y[i] = x[i] * (v < T(0) ? T(0) : (v > T(6) ? T(6) : v)) / T(6);
  }
}
template <class T>
void hardswish_bwd(int64_t n, T, const T* x, const T*, const T* gy, T* gx) {
  for (int64_t i = 0; i < n; ++i) gx[i] = x[i] < T(-3) ? T(0) : (x[i] <= T(3) ? gy[i] * (x[i] / T(3) + T(0.5)) : gy[i]);
}

template <class T>
T sigmoid1(T x) {
  if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
  const T e = std::exp(x);
  return e / (T(1) + e);
}

// silu(x) = x sigmoid(x) (swish, EfficientNet); d/dx = s (1 + x (1 - s)).
template <class T>
void silu_fwd(int64_t n, T, const T* x, T* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * sigmoid1(x[i]);
}
template <class T>
void silu_bwd(int64_t n, T, const T* x, const T*, const T* gy, T* gx) {
  for (int64_t i = 0; i < n; ++i) {
    const T s = sigmoid1(x[i]);
    gx[i] = gy[i] * s * (T(1) + x[i] * (T(1) - s));
  }
}

// gelu(x) = x Phi(x) = x (1 + erf(x / sqrt 2)) / 2 (ConvNeXt); d/dx = Phi(x) + x phi(x).
template <class T>
void gelu_fwd(int64_t n, T, const T* x, T* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = T(0.5) * x[i] * (T(1) + std::erf(x[i] * T(M_SQRT1_2)));
}
template <class T>
void gelu_bwd(int64_t n, T, const T* x, const T*, const T* gy, T* gx) {
  for (int64_t i = 0; i < n; ++i) {
    const T cdf = T(0.5) * (T(1) + std::erf(x[i] * T(M_SQRT1_2)));
    const T pdf = std::exp(T(-0.5) * x[i] * x[i]) * T(0.5 * M_2_SQRTPI * M_SQRT1_2);
    gx[i] = gy[i] * (cdf + x[i] * pdf);
  }
}

// gelu with approximate='tanh': x (1 + tanh(u)) / 2 with u = sqrt(2/pi) (x + 0.044715 x^3),
// and its exact derivative. Written with s = (1 + tanh(u)) / 2 = sigmoid(2u), so that
// (1 + tanh u) and (1 - tanh^2 u) = 4 s (1 - s) do not cancel where tanh saturates:
// y = x s, dy/dx = s + 2 x s (1 - s) sqrt(2/pi) (1 + 3 * 0.044715 x^2).
template <class T>
void gelu_tanh_fwd(int64_t n, T, const T* x, T* y) {
  const T beta = T(M_SQRT2 * M_2_SQRTPI * 0.5), kappa = T(0.044715);
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * sigmoid1(T(2) * beta * (x[i] + kappa * x[i] * x[i] * x[i]));
}
template <class T>
void gelu_tanh_bwd(int64_t n, T, const T* x, const T*, const T* gy, T* gx) {
  const T beta = T(M_SQRT2 * M_2_SQRTPI * 0.5), kappa = T(0.044715);
  for (int64_t i = 0; i < n; ++i) {
    const T x2 = x[i] * x[i], s = sigmoid1(T(2) * beta * (x[i] + kappa * x2 * x[i]));
    gx[i] = gy[i] * (s + T(2) * x[i] * s * (T(1) - s) * beta * (T(1) + T(3) * kappa * x2));
  }
}

// elu(x, a) = x > 0 ? x : a (e^x - 1); d/dx = x > 0 ? 1 : a e^x (PyTorch takes the negative
// branch at x = 0, so the derivative there is a).
template <class T>
void elu_fwd(int64_t n, T a, const T* x, T* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] > T(0) ? x[i] : a * std::expm1(x[i]);
}
template <class T>
void elu_bwd(int64_t n, T a, const T* x, const T*, const T* gy, T* gx) {
  for (int64_t i = 0; i < n; ++i) gx[i] = x[i] > T(0) ? gy[i] : gy[i] * a * std::exp(x[i]);
}

// selu(x) = scale elu(x, alpha) with the constants of Klambauer et al. 2017.
constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluScale = 1.0507009873554804934193349852946;
template <class T>
void selu_fwd(int64_t n, T, const T* x, T* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = T(kSeluScale) * (x[i] > T(0) ? x[i] : T(kSeluAlpha) * std::expm1(x[i]));
}
template <class T>
void selu_bwd(int64_t n, T, const T* x, const T*, const T* gy, T* gx) {
  for (int64_t i = 0; i < n; ++i)
    gx[i] = x[i] > T(0) ? gy[i] * T(kSeluScale) : gy[i] * T(kSeluScale * kSeluAlpha) * std::exp(x[i]);
}

// softplus(x, beta) = log(1 + e^(beta x)) / beta, and x where beta x > 20 (PyTorch's default
// threshold); d/dx = sigmoid(beta x), 1 past the threshold.
template <class T>
void softplus_fwd(int64_t n, T a, const T* x, T* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * a > T(20) ? x[i] : std::log1p(std::exp(x[i] * a)) / a;
}
template <class T>
void softplus_bwd(int64_t n, T a, const T* x, const T*, const T* gy, T* gx) {
  for (int64_t i = 0; i < n; ++i) gx[i] = x[i] * a > T(20) ? gy[i] : gy[i] * sigmoid1(x[i] * a);
}

// softsign(x) = x / (1 + |x|); d/dx = 1 / (1 + |x|)^2.
template <class T>
void softsign_fwd(int64_t n, T, const T* x, T* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] / (T(1) + std::abs(x[i]));
}
template <class T>
void softsign_bwd(int64_t n, T, const T* x, const T*, const T* gy, T* gx) {
  for (int64_t i = 0; i < n; ++i) {
    const T d = T(1) + std::abs(x[i]);
    gx[i] = gy[i] / (d * d);
  }
}

// erf'(x) = 2 / sqrt(pi) exp(-x^2).
template <class T>
void erf_fwd(int64_t n, T, const T* x, T* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::erf(x[i]);
}
template <class T>
void erf_bwd(int64_t n, T, const T* x, const T*, const T* gy, T* gx) {
  for (int64_t i = 0; i < n; ++i) gx[i] = gy[i] * T(M_2_SQRTPI) * std::exp(-x[i] * x[i]);
}

// exp' = exp (from the output); abs' = sign(x), 0 at 0 (as PyTorch); sqrt' = 1 / (2 sqrt x)
// (from the output: infinite at 0, NaN below, as PyTorch).
template <class T>
void exp_fwd(int64_t n, T, const T* x, T* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::exp(x[i]);
}
template <class T>
void exp_bwd(int64_t n, T, const T*, const T* y, const T* gy, T* gx) {
  for (int64_t i = 0; i < n; ++i) gx[i] = gy[i] * y[i];
}
template <class T>
void abs_fwd(int64_t n, T, const T* x, T* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::abs(x[i]);
}
template <class T>
void abs_bwd(int64_t n, T, const T* x, const T*, const T* gy, T* gx) {
  for (int64_t i = 0; i < n; ++i) gx[i] = x[i] > T(0) ? gy[i] : x[i] < T(0) ? -gy[i] : x[i] == T(0) ? T(0) : x[i];
}
template <class T>
void sqrt_fwd(int64_t n, T, const T* x, T* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::sqrt(x[i]);
}
template <class T>
void sqrt_bwd(int64_t n, T, const T*, const T* y, const T* gy, T* gx) {
  for (int64_t i = 0; i < n; ++i) gx[i] = gy[i] / (T(2) * y[i]);
}

// floor and ceil are steps: zero gradient (as PyTorch). reciprocal' = -1 / x^2 = -y^2 (from
// the output); log' = 1 / x.
template <class T>
void floor_fwd(int64_t n, T, const T* x, T* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::floor(x[i]);
}
template <class T>
void floor_bwd(int64_t n, T, const T*, const T*, const T*, T* gx) {
  for (int64_t i = 0; i < n; ++i) gx[i] = T(0);
}
template <class T>
void ceil_fwd(int64_t n, T, const T* x, T* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::ceil(x[i]);
}
template <class T>
void ceil_bwd(int64_t n, T, const T*, const T*, const T*, T* gx) {
  for (int64_t i = 0; i < n; ++i) gx[i] = T(0);
}
template <class T>
void reciprocal_fwd(int64_t n, T, const T* x, T* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = T(1) / x[i];
}
template <class T>
void reciprocal_bwd(int64_t n, T, const T*, const T* y, const T* gy, T* gx) {
  for (int64_t i = 0; i < n; ++i) gx[i] = -gy[i] * y[i] * y[i];
}
template <class T>
void log_fwd(int64_t n, T, const T* x, T* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::log(x[i]);
}
template <class T>
void log_bwd(int64_t n, T, const T* x, const T*, const T* gy, T* gx) {
  for (int64_t i = 0; i < n; ++i) gx[i] = gy[i] / x[i];
}

#define INSTANTIATE(T)                                                            \
  template void relu_fwd<T>(int64_t, T, const T*, T*);                            \
  template void relu_bwd<T>(int64_t, T, const T*, const T*, const T*, T*);        \
  template void leaky_relu_fwd<T>(int64_t, T, const T*, T*);                      \
  template void leaky_relu_bwd<T>(int64_t, T, const T*, const T*, const T*, T*);  \
  template void relu6_fwd<T>(int64_t, T, const T*, T*);                           \
  template void relu6_bwd<T>(int64_t, T, const T*, const T*, const T*, T*);       \
  template void tanh_fwd<T>(int64_t, T, const T*, T*);                            \
  template void tanh_bwd<T>(int64_t, T, const T*, const T*, const T*, T*);        \
  template void sigmoid_fwd<T>(int64_t, T, const T*, T*);                         \
  template void hardsigmoid_fwd<T>(int64_t, T, const T*, T*);                     \
  template void hardsigmoid_bwd<T>(int64_t, T, const T*, const T*, const T*, T*); \
  template void hardswish_fwd<T>(int64_t, T, const T*, T*);                       \
  template void hardswish_bwd<T>(int64_t, T, const T*, const T*, const T*, T*);   \
  template void silu_fwd<T>(int64_t, T, const T*, T*);                            \
  template void silu_bwd<T>(int64_t, T, const T*, const T*, const T*, T*);        \
  template void gelu_fwd<T>(int64_t, T, const T*, T*);                            \
  template void gelu_bwd<T>(int64_t, T, const T*, const T*, const T*, T*);        \
  template void gelu_tanh_fwd<T>(int64_t, T, const T*, T*);                       \
  template void gelu_tanh_bwd<T>(int64_t, T, const T*, const T*, const T*, T*);   \
  template void elu_fwd<T>(int64_t, T, const T*, T*);                             \
  template void elu_bwd<T>(int64_t, T, const T*, const T*, const T*, T*);         \
  template void selu_fwd<T>(int64_t, T, const T*, T*);                            \
  template void selu_bwd<T>(int64_t, T, const T*, const T*, const T*, T*);        \
  template void softplus_fwd<T>(int64_t, T, const T*, T*);                        \
  template void softplus_bwd<T>(int64_t, T, const T*, const T*, const T*, T*);    \
  template void softsign_fwd<T>(int64_t, T, const T*, T*);                        \
  template void softsign_bwd<T>(int64_t, T, const T*, const T*, const T*, T*);    \
  template void erf_fwd<T>(int64_t, T, const T*, T*);                             \
  template void erf_bwd<T>(int64_t, T, const T*, const T*, const T*, T*);         \
  template void exp_fwd<T>(int64_t, T, const T*, T*);                             \
  template void exp_bwd<T>(int64_t, T, const T*, const T*, const T*, T*);         \
  template void abs_fwd<T>(int64_t, T, const T*, T*);                             \
  template void abs_bwd<T>(int64_t, T, const T*, const T*, const T*, T*);         \
  template void floor_fwd<T>(int64_t, T, const T*, T*);                           \
  template void floor_bwd<T>(int64_t, T, const T*, const T*, const T*, T*);       \
  template void ceil_fwd<T>(int64_t, T, const T*, T*);                            \
  template void ceil_bwd<T>(int64_t, T, const T*, const T*, const T*, T*);        \
  template void reciprocal_fwd<T>(int64_t, T, const T*, T*);                      \
  template void reciprocal_bwd<T>(int64_t, T, const T*, const T*, const T*, T*);  \
  template void log_fwd<T>(int64_t, T, const T*, T*);                             \
  template void log_bwd<T>(int64_t, T, const T*, const T*, const T*, T*);         \
  template void sqrt_fwd<T>(int64_t, T, const T*, T*);                            \
  template void sqrt_bwd<T>(int64_t, T, const T*, const T*, const T*, T*);        \
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
  keys::hardsigmoid_fwd.add("ref", 0, &ref::hardsigmoid_fwd<float>);
  keys::hardsigmoid_bwd.add("ref", 0, &ref::hardsigmoid_bwd<float>);
  keys::hardswish_fwd.add("ref", 0, &ref::hardswish_fwd<float>);
  keys::hardswish_bwd.add("ref", 0, &ref::hardswish_bwd<float>);
  keys::silu_fwd.add("ref", 0, &ref::silu_fwd<float>);
  keys::silu_bwd.add("ref", 0, &ref::silu_bwd<float>);
  keys::gelu_fwd.add("ref", 0, &ref::gelu_fwd<float>);
  keys::gelu_bwd.add("ref", 0, &ref::gelu_bwd<float>);
  keys::gelu_tanh_fwd.add("ref", 0, &ref::gelu_tanh_fwd<float>);
  keys::gelu_tanh_bwd.add("ref", 0, &ref::gelu_tanh_bwd<float>);
  keys::elu_fwd.add("ref", 0, &ref::elu_fwd<float>);
  keys::elu_bwd.add("ref", 0, &ref::elu_bwd<float>);
  keys::selu_fwd.add("ref", 0, &ref::selu_fwd<float>);
  keys::selu_bwd.add("ref", 0, &ref::selu_bwd<float>);
  keys::softplus_fwd.add("ref", 0, &ref::softplus_fwd<float>);
  keys::softplus_bwd.add("ref", 0, &ref::softplus_bwd<float>);
  keys::softsign_fwd.add("ref", 0, &ref::softsign_fwd<float>);
  keys::softsign_bwd.add("ref", 0, &ref::softsign_bwd<float>);
  keys::exp_fwd.add("ref", 0, &ref::exp_fwd<float>);
  keys::exp_bwd.add("ref", 0, &ref::exp_bwd<float>);
  keys::abs_fwd.add("ref", 0, &ref::abs_fwd<float>);
  keys::abs_bwd.add("ref", 0, &ref::abs_bwd<float>);
  keys::floor_fwd.add("ref", 0, &ref::floor_fwd<float>);
  keys::floor_bwd.add("ref", 0, &ref::floor_bwd<float>);
  keys::ceil_fwd.add("ref", 0, &ref::ceil_fwd<float>);
  keys::ceil_bwd.add("ref", 0, &ref::ceil_bwd<float>);
  keys::reciprocal_fwd.add("ref", 0, &ref::reciprocal_fwd<float>);
  keys::reciprocal_bwd.add("ref", 0, &ref::reciprocal_bwd<float>);
  keys::log_fwd.add("ref", 0, &ref::log_fwd<float>);
  keys::log_bwd.add("ref", 0, &ref::log_bwd<float>);
  keys::sqrt_fwd.add("ref", 0, &ref::sqrt_fwd<float>);
  keys::sqrt_bwd.add("ref", 0, &ref::sqrt_bwd<float>);
  keys::erf_fwd.add("ref", 0, &ref::erf_fwd<float>);
  keys::erf_bwd.add("ref", 0, &ref::erf_bwd<float>);
}
}  // namespace convnet::kernels
