// Strided copy on the CPU (kernels/strided.h: behind permute and broadcast_to). The output
// is split into rows of its last dimension, over the threads; each row's source offset is
// computed once from its index, and the row is a gather with the last dimension's stride
// (a contiguous copy when that stride is 1, a fill when it is 0). The adjoint scatters: it
// runs in parallel only when no two output elements share a source (every stride non-zero
// and the strides those of a permutation), and is the reference scatter otherwise.
#include "kernels/strided.h"

#include <algorithm>
#include <vector>

#include "kernels/cpu/parallel.h"
#include "kernels/registry.h"

namespace convnet::kernels::cpu {

namespace {
// The source offset of output row r (all dimensions but the last).
int64_t row_offset(int64_t rank, const int64_t* out_shape, const int64_t* strides, int64_t r) {
  int64_t off = 0;
  for (int64_t k = rank - 2; k >= 0; --k) {
    off += (r % out_shape[k]) * strides[k];
    r /= out_shape[k];
  }
  return off;
}

// Whether the strides address each source element at most once: sorted by stride, each
// stride equals the product of the sizes of the dimensions with smaller strides.
bool one_to_one(int64_t rank, const int64_t* out_shape, const int64_t* strides) {
  std::vector<int64_t> order(static_cast<size_t>(rank));
  for (int64_t k = 0; k < rank; ++k) order[k] = k;
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return strides[a] < strides[b]; });
  int64_t expect = 1;
  for (int64_t k : order) {
    if (out_shape[k] == 1) continue;
    if (strides[k] != expect) return false;
    expect *= out_shape[k];
  }
  return true;
}
}  // namespace

void strided_copy(int64_t rank, const int64_t* out_shape, const int64_t* strides, const float* x, float* y) {
  if (rank == 0) {
    y[0] = x[0];
    return;
  }
  int64_t rows = 1;
  for (int64_t k = 0; k + 1 < rank; ++k) rows *= out_shape[k];
  const int64_t W = out_shape[rank - 1], s = strides[rank - 1];
  if (rows * W == 0) return;
  parallel_for(rows, W, [&](int64_t r) {
    const float* src = x + row_offset(rank, out_shape, strides, r);
    float* dst = y + r * W;
    if (s == 1) {
      std::copy(src, src + W, dst);
    } else if (s == 0) {
      std::fill(dst, dst + W, src[0]);
    } else {
      for (int64_t j = 0; j < W; ++j) dst[j] = src[j * s];
    }
  });
}

void strided_copy_bwd(int64_t rank, const int64_t* out_shape, const int64_t* strides, int64_t x_numel, const float* gy,
                      float* gx) {
  if (rank == 0 || !one_to_one(rank, out_shape, strides)) {
    ref::strided_copy_bwd<float>(rank, out_shape, strides, x_numel, gy, gx);
    return;
  }
  int64_t rows = 1;
  for (int64_t k = 0; k + 1 < rank; ++k) rows *= out_shape[k];
  const int64_t W = out_shape[rank - 1], s = strides[rank - 1];
  if (rows * W < x_numel) std::fill(gx, gx + x_numel, 0.f);  // only when some dimension is empty
  parallel_for(rows, W, [&](int64_t r) {
    float* dst = gx + row_offset(rank, out_shape, strides, r);
    const float* src = gy + r * W;
    for (int64_t j = 0; j < W; ++j) dst[j * s] = src[j];
  });
}

}  // namespace convnet::kernels::cpu

namespace convnet::kernels {
void register_cpu_strided() {
  keys::strided_copy.add("cpu", 10, &cpu::strided_copy);
  keys::strided_copy_bwd.add("cpu", 10, &cpu::strided_copy_bwd);
}
}  // namespace convnet::kernels
