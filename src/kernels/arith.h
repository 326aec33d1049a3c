#pragma once
// Kernel interface of the elementwise binary arithmetic beyond add/sub/mul (elementwise.h):
// division, maximum, minimum, power, and the select of where(). Operands have n elements
// each (the op broadcasts first). Kernels trust the op.
//   keys: div, maximum, minimum, pow (BinaryFn), div_bwd, maximum_bwd, minimum_bwd, pow_bwd
//         (BinaryBwdFn), where (WhereFn)
// Gradients, as PyTorch defines them:
//   div:     ga = g / b,  gb = -g a / b^2
//   maximum: ga = g where a > b, g / 2 where a == b, else 0 (gb the mirror); minimum alike
//   pow:     ga = g b a^(b-1) (0 where b == 0),  gb = g y ln a (0 where a == 0 and b >= 0)
#include <cstdint>

#include "kernels/elementwise.h"
#include "kernels/registry.h"

namespace convnet::kernels {

// ga, gb = the gradients of y = f(a, b) for the upstream gy; y = f(a, b) is given too. A
// null ga or gb (no gradient needed) is skipped.
template <class T>
using BinaryBwdFn = void(int64_t n, const T* a, const T* b, const T* y, const T* gy, T* ga, T* gb);
// y_i = c_i != 0 ? a_i : b_i
template <class T>
using WhereFn = void(int64_t n, const T* c, const T* a, const T* b, T* y);

namespace ref {
template <class T>
void div(int64_t n, const T* a, const T* b, T* y);
template <class T>
void maximum(int64_t n, const T* a, const T* b, T* y);
template <class T>
void minimum(int64_t n, const T* a, const T* b, T* y);
template <class T>
void pow(int64_t n, const T* a, const T* b, T* y);
template <class T>
void div_bwd(int64_t n, const T* a, const T* b, const T* y, const T* gy, T* ga, T* gb);
template <class T>
void maximum_bwd(int64_t n, const T* a, const T* b, const T* y, const T* gy, T* ga, T* gb);
template <class T>
void minimum_bwd(int64_t n, const T* a, const T* b, const T* y, const T* gy, T* ga, T* gb);
template <class T>
void pow_bwd(int64_t n, const T* a, const T* b, const T* y, const T* gy, T* ga, T* gb);
template <class T>
void where(int64_t n, const T* c, const T* a, const T* b, T* y);
}  // namespace ref

namespace keys {
inline Kernel<BinaryFn<float>> div{"div"};
inline Kernel<BinaryFn<float>> maximum{"maximum"};
inline Kernel<BinaryFn<float>> minimum{"minimum"};
inline Kernel<BinaryFn<float>> pow{"pow"};
inline Kernel<BinaryBwdFn<float>> div_bwd{"div_bwd"};
inline Kernel<BinaryBwdFn<float>> maximum_bwd{"maximum_bwd"};
inline Kernel<BinaryBwdFn<float>> minimum_bwd{"minimum_bwd"};
inline Kernel<BinaryBwdFn<float>> pow_bwd{"pow_bwd"};
inline Kernel<WhereFn<float>> where{"where"};
}  // namespace keys

}  // namespace convnet::kernels
