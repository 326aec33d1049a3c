#pragma once
// Kernel interface of dtype conversion (Tensor::to(DType)): y_i = x_i as `to`, for n
// elements of `from`. Floating -> bfloat16 / float16 rounds to nearest even; floating ->
// integer truncates toward zero (C++'s conversion, as torch's .to(int)); -> bool is x != 0;
// bool -> anything is 0 or 1. Kernels trust the op: from != to, buffers do not overlap.
#include <cstdint>

#include "convnet/core/dtype.h"
#include "kernels/registry.h"

namespace convnet::kernels {

using ConvertFn = void(int64_t n, DType from, const void* x, DType to, void* y);

namespace ref {
void convert(int64_t n, DType from, const void* x, DType to, void* y);
}

// The threaded, vectorized CPU kernel (kernels/cpu/convert.cpp); the other CPU kernels call it
// to widen bfloat16 operands to float32 and round float32 results back.
namespace cpu {
void convert(int64_t n, DType from, const void* x, DType to, void* y);
}
namespace keys {
inline Kernel<ConvertFn> convert{"convert"};
}  // namespace keys

}  // namespace convnet::kernels
