// dtype conversion on the CPU: the float32 <-> bfloat16 / float16 pairs (what mixed
// precision converts every step) as vectorizable loops over contiguous chunks, split over
// the threads; every other pair is the reference loop on each thread's chunk. The same
// rounding as the reference (nearest even), so the results are bit-identical.
#include "kernels/convert.h"
#include "kernels/cpu/parallel.h"

namespace convnet::kernels::cpu {

namespace {
CONVNET_SIMD void f32_to_bf16(int64_t n, const float* x, bf16_t* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = to_bf16(x[i]);
}
CONVNET_SIMD void bf16_to_f32(int64_t n, const bf16_t* x, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = from_bf16(x[i]);
}
}  // namespace

void convert(int64_t n, DType from, const void* x, DType to, void* y) {
  const int64_t in = dtype_size(from), out = dtype_size(to);
  parallel_chunks(n, [&](int64_t b, int64_t e) {
    const char* xb = static_cast<const char*>(x) + b * in;
    char* yb = static_cast<char*>(y) + b * out;
    if (from == DType::float32 && to == DType::bfloat16)
      f32_to_bf16(e - b, reinterpret_cast<const float*>(xb), reinterpret_cast<bf16_t*>(yb));
    else if (from == DType::bfloat16 && to == DType::float32)
      bf16_to_f32(e - b, reinterpret_cast<const bf16_t*>(xb), reinterpret_cast<float*>(yb));
    else
      ref::convert(e - b, from, xb, to, yb);
  });
}

}  // namespace convnet::kernels::cpu

namespace convnet::kernels {
void register_cpu_convert() {
  keys::convert.add("cpu", 10, &cpu::convert);
}
}  // namespace convnet::kernels
