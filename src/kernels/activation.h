#pragma once
// Kernel interface of the elementwise activations. One signature for all of them, so a
// fast backend can register any subset: `a` is the activation's parameter (the negative
// slope of leaky_relu; unused by the others). Kernels trust the op.
//   keys: relu_fwd, relu_bwd, leaky_relu_fwd, leaky_relu_bwd, relu6_fwd, relu6_bwd, tanh_fwd, tanh_bwd, sigmoid_fwd,
//   sigmoid_bwd,
//         hardsigmoid_*, hardswish_*, silu_*, gelu_* (erf), gelu_tanh_*, elu_* (a = alpha), selu_*,
//         softplus_* (a = beta; threshold 20), softsign_*, erf_*, exp_*, abs_*, sqrt_*,
//         floor_*, ceil_* (zero gradient), reciprocal_*, log_*
#include <cstdint>
#include "kernels/registry.h"

namespace convnet::kernels {

// y = f(x) over n elements.
template <class T>
using ActFwdFn = void(int64_t n, T a, const T* x, T* y);
// gx = gy * f'(x), over n elements; given both x and y = f(x), each kernel reads the one
// its derivative is cheapest in (relu, leaky_relu, relu6: x; tanh, sigmoid: y).
template <class T>
using ActBwdFn = void(int64_t n, T a, const T* x, const T* y, const T* gy, T* gx);

namespace ref {
template <class T>
void relu_fwd(int64_t n, T a, const T* x, T* y);
template <class T>
void relu_bwd(int64_t n, T a, const T* x, const T* y, const T* gy, T* gx);
template <class T>
void leaky_relu_fwd(int64_t n, T a, const T* x, T* y);
template <class T>
void leaky_relu_bwd(int64_t n, T a, const T* x, const T* y, const T* gy, T* gx);
template <class T>
void relu6_fwd(int64_t n, T a, const T* x, T* y);
template <class T>
void relu6_bwd(int64_t n, T a, const T* x, const T* y, const T* gy, T* gx);
template <class T>
void tanh_fwd(int64_t n, T a, const T* x, T* y);
template <class T>
void tanh_bwd(int64_t n, T a, const T* x, const T* y, const T* gy, T* gx);
template <class T>
void sigmoid_fwd(int64_t n, T a, const T* x, T* y);
template <class T>
void sigmoid_bwd(int64_t n, T a, const T* x, const T* y, const T* gy, T* gx);
template <class T>
void hardsigmoid_fwd(int64_t n, T a, const T* x, T* y);
template <class T>
void hardsigmoid_bwd(int64_t n, T a, const T* x, const T* y, const T* gy, T* gx);
template <class T>
void hardswish_fwd(int64_t n, T a, const T* x, T* y);
template <class T>
void hardswish_bwd(int64_t n, T a, const T* x, const T* y, const T* gy, T* gx);
template <class T>
void silu_fwd(int64_t n, T a, const T* x, T* y);
template <class T>
void silu_bwd(int64_t n, T a, const T* x, const T* y, const T* gy, T* gx);
template <class T>
void gelu_fwd(int64_t n, T a, const T* x, T* y);
template <class T>
void gelu_bwd(int64_t n, T a, const T* x, const T* y, const T* gy, T* gx);
template <class T>
void gelu_tanh_fwd(int64_t n, T a, const T* x, T* y);
template <class T>
void gelu_tanh_bwd(int64_t n, T a, const T* x, const T* y, const T* gy, T* gx);
template <class T>
void elu_fwd(int64_t n, T a, const T* x, T* y);
template <class T>
void elu_bwd(int64_t n, T a, const T* x, const T* y, const T* gy, T* gx);
template <class T>
void selu_fwd(int64_t n, T a, const T* x, T* y);
template <class T>
void selu_bwd(int64_t n, T a, const T* x, const T* y, const T* gy, T* gx);
template <class T>
void softplus_fwd(int64_t n, T a, const T* x, T* y);
template <class T>
void softplus_bwd(int64_t n, T a, const T* x, const T* y, const T* gy, T* gx);
template <class T>
void softsign_fwd(int64_t n, T a, const T* x, T* y);
template <class T>
void softsign_bwd(int64_t n, T a, const T* x, const T* y, const T* gy, T* gx);
template <class T>
void erf_fwd(int64_t n, T a, const T* x, T* y);
template <class T>
void erf_bwd(int64_t n, T a, const T* x, const T* y, const T* gy, T* gx);
template <class T>
void exp_fwd(int64_t n, T a, const T* x, T* y);
template <class T>
void exp_bwd(int64_t n, T a, const T* x, const T* y, const T* gy, T* gx);
template <class T>
void abs_fwd(int64_t n, T a, const T* x, T* y);
template <class T>
void abs_bwd(int64_t n, T a, const T* x, const T* y, const T* gy, T* gx);
template <class T>
void sqrt_fwd(int64_t n, T a, const T* x, T* y);
template <class T>
void sqrt_bwd(int64_t n, T a, const T* x, const T* y, const T* gy, T* gx);
template <class T>
void floor_fwd(int64_t n, T a, const T* x, T* y);
template <class T>
void floor_bwd(int64_t n, T a, const T* x, const T* y, const T* gy, T* gx);
template <class T>
void ceil_fwd(int64_t n, T a, const T* x, T* y);
template <class T>
void ceil_bwd(int64_t n, T a, const T* x, const T* y, const T* gy, T* gx);
template <class T>
void reciprocal_fwd(int64_t n, T a, const T* x, T* y);
template <class T>
void reciprocal_bwd(int64_t n, T a, const T* x, const T* y, const T* gy, T* gx);
template <class T>
void log_fwd(int64_t n, T a, const T* x, T* y);
template <class T>
void log_bwd(int64_t n, T a, const T* x, const T* y, const T* gy, T* gx);
}  // namespace ref

// Reduced precision (T = bf16_t, f16_t): relu only, which the zoo's CNNs run between every
// layer (the other activations compute in float32: their ops convert). gx = gy [x > 0].
template <class T>
using ReluFwdLowpFn = void(int64_t n, const T* x, T* y);
template <class T>
using ReluBwdLowpFn = void(int64_t n, const T* x, const T* gy, T* gx);
namespace ref {
template <class T>
void relu_fwd_lowp(int64_t n, const T* x, T* y);
template <class T>
void relu_bwd_lowp(int64_t n, const T* x, const T* gy, T* gx);
}  // namespace ref

// The keys (kernels/registry.h): one per kernel of this interface.
namespace keys {
inline Kernel<ActFwdFn<float>> relu_fwd{"relu_fwd"};
inline Kernel<ActBwdFn<float>> relu_bwd{"relu_bwd"};
inline Kernel<ActFwdFn<float>> leaky_relu_fwd{"leaky_relu_fwd"};
inline Kernel<ActBwdFn<float>> leaky_relu_bwd{"leaky_relu_bwd"};
inline Kernel<ActFwdFn<float>> relu6_fwd{"relu6_fwd"};
inline Kernel<ActBwdFn<float>> relu6_bwd{"relu6_bwd"};
inline Kernel<ActFwdFn<float>> tanh_fwd{"tanh_fwd"};
inline Kernel<ActBwdFn<float>> tanh_bwd{"tanh_bwd"};
inline Kernel<ActFwdFn<float>> sigmoid_fwd{"sigmoid_fwd"};
inline Kernel<ActBwdFn<float>> sigmoid_bwd{"sigmoid_bwd"};
inline Kernel<ActFwdFn<float>> hardsigmoid_fwd{"hardsigmoid_fwd"};
inline Kernel<ActBwdFn<float>> hardsigmoid_bwd{"hardsigmoid_bwd"};
inline Kernel<ActFwdFn<float>> hardswish_fwd{"hardswish_fwd"};
inline Kernel<ActBwdFn<float>> hardswish_bwd{"hardswish_bwd"};
inline Kernel<ActFwdFn<float>> silu_fwd{"silu_fwd"};
inline Kernel<ActBwdFn<float>> silu_bwd{"silu_bwd"};
inline Kernel<ActFwdFn<float>> gelu_fwd{"gelu_fwd"};
inline Kernel<ActBwdFn<float>> gelu_bwd{"gelu_bwd"};
inline Kernel<ActFwdFn<float>> gelu_tanh_fwd{"gelu_tanh_fwd"};
inline Kernel<ActBwdFn<float>> gelu_tanh_bwd{"gelu_tanh_bwd"};
inline Kernel<ActFwdFn<float>> elu_fwd{"elu_fwd"};
inline Kernel<ActBwdFn<float>> elu_bwd{"elu_bwd"};
inline Kernel<ActFwdFn<float>> selu_fwd{"selu_fwd"};
inline Kernel<ActBwdFn<float>> selu_bwd{"selu_bwd"};
inline Kernel<ActFwdFn<float>> softplus_fwd{"softplus_fwd"};
inline Kernel<ActBwdFn<float>> softplus_bwd{"softplus_bwd"};
inline Kernel<ActFwdFn<float>> softsign_fwd{"softsign_fwd"};
inline Kernel<ActBwdFn<float>> softsign_bwd{"softsign_bwd"};
inline Kernel<ActFwdFn<float>> erf_fwd{"erf_fwd"};
inline Kernel<ActBwdFn<float>> erf_bwd{"erf_bwd"};
inline Kernel<ActFwdFn<float>> exp_fwd{"exp_fwd"};
inline Kernel<ActBwdFn<float>> exp_bwd{"exp_bwd"};
inline Kernel<ActFwdFn<float>> abs_fwd{"abs_fwd"};
inline Kernel<ActBwdFn<float>> abs_bwd{"abs_bwd"};
inline Kernel<ActFwdFn<float>> sqrt_fwd{"sqrt_fwd"};
inline Kernel<ActBwdFn<float>> sqrt_bwd{"sqrt_bwd"};
inline Kernel<ActFwdFn<float>> floor_fwd{"floor_fwd"};
inline Kernel<ActBwdFn<float>> floor_bwd{"floor_bwd"};
inline Kernel<ActFwdFn<float>> ceil_fwd{"ceil_fwd"};
inline Kernel<ActBwdFn<float>> ceil_bwd{"ceil_bwd"};
inline Kernel<ActFwdFn<float>> reciprocal_fwd{"reciprocal_fwd"};
inline Kernel<ActBwdFn<float>> reciprocal_bwd{"reciprocal_bwd"};
inline Kernel<ActFwdFn<float>> log_fwd{"log_fwd"};
inline Kernel<ActBwdFn<float>> log_bwd{"log_bwd"};
inline Kernel<ReluFwdLowpFn<bf16_t>> relu_fwd_bf16{"relu_fwd_bf16", DType::bfloat16};
inline Kernel<ReluBwdLowpFn<bf16_t>> relu_bwd_bf16{"relu_bwd_bf16", DType::bfloat16};
inline Kernel<ReluFwdLowpFn<f16_t>> relu_fwd_f16{"relu_fwd_f16", DType::float16};
inline Kernel<ReluBwdLowpFn<f16_t>> relu_bwd_f16{"relu_bwd_f16", DType::float16};
template <class T>
struct Relu;  // the keys of element type T
template <>
struct Relu<bf16_t> {
  static constexpr auto* fwd = &relu_fwd_bf16;
  static constexpr auto* bwd = &relu_bwd_bf16;
};
template <>
struct Relu<f16_t> {
  static constexpr auto* fwd = &relu_fwd_f16;
  static constexpr auto* bwd = &relu_bwd_f16;
};
}  // namespace keys

}  // namespace convnet::kernels
