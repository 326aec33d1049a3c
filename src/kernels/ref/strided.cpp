// Reference strided copy and its adjoint: walk the output in row-major order with an
// odometer over out_shape, keeping the source offset sum_k o_k * strides[k] up to date.
#include "kernels/strided.h"

#include <vector>

#include "kernels/registry.h"

namespace convnet::kernels::ref {

namespace {
// Calls f(o, offset) for every output index o (row-major) and its source offset.
template <class F>
void for_each_offset(int64_t rank, const int64_t* out_shape, const int64_t* strides, F&& f) {
  int64_t n = 1;
  for (int64_t k = 0; k < rank; ++k) n *= out_shape[k];
  if (n == 0) return;
  std::vector<int64_t> idx(static_cast<size_t>(rank), 0);
  int64_t off = 0;
  for (int64_t o = 0; o < n; ++o) {
    f(o, off);
    // Increment the odometer from the last dimension, carrying into earlier ones.
    for (int64_t k = rank - 1; k >= 0; --k) {
      if (++idx[k] < out_shape[k]) {
        off += strides[k];
        break;
      }
      off -= (out_shape[k] - 1) * strides[k];
      idx[k] = 0;
    }
  }
}
}  // namespace

template <class T>
void strided_copy(int64_t rank, const int64_t* out_shape, const int64_t* strides, const T* x, T* y) {
  for_each_offset(rank, out_shape, strides, [&](int64_t o, int64_t off) { y[o] = x[off]; });
}

template <class T>
void strided_copy_bwd(int64_t rank, const int64_t* out_shape, const int64_t* strides, int64_t x_numel, const T* gy,
                      T* gx) {
  for (int64_t i = 0; i < x_numel; ++i) gx[i] = T(0);
  for_each_offset(rank, out_shape, strides, [&](int64_t o, int64_t off) { gx[off] += gy[o]; });
}

#define INSTANTIATE(T)                                                                  \
  template void strided_copy<T>(int64_t, const int64_t*, const int64_t*, const T*, T*); \
  template void strided_copy_bwd<T>(int64_t, const int64_t*, const int64_t*, int64_t, const T*, T*);
INSTANTIATE(float)
INSTANTIATE(double)
#undef INSTANTIATE

}  // namespace convnet::kernels::ref

namespace convnet::kernels {
void register_ref_strided() {
  keys::strided_copy.add("ref", 0, &ref::strided_copy<float>);
  keys::strided_copy_bwd.add("ref", 0, &ref::strided_copy_bwd<float>);
}
}  // namespace convnet::kernels
