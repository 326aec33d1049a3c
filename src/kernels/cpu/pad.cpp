// Reflect / replicate / circular padding on the CPU (kernels/pad.h). The source index of
// every output position is tabulated per dimension once; the forward then splits the output
// rows (all dimensions but the last) over the threads and gathers each row through the last
// dimension's table. The backward scatters; two output rows can add into the same input row
// (a reflected or replicated border), so it splits the work over the leading dimension only
// when that one is not padded (the batch, in practice), and runs each slice as a serial
// scatter; otherwise it runs serially.
#include <vector>

#include "kernels/cpu/parallel.h"
#include "kernels/pad.h"
#include "kernels/registry.h"

namespace convnet::kernels::cpu {

namespace {
struct Tables {
  std::vector<std::vector<int64_t>> src;  // src[k][o]: input position of output position o in dimension k
  int64_t rows = 1;                       // output rows: product of all output dimensions but the last
};

Tables tabulate(PadMode m, int64_t rank, const int64_t* in, const int64_t* out, const int64_t* begin) {
  Tables t;
  t.src.resize(static_cast<size_t>(rank));
  for (int64_t k = 0; k < rank; ++k) {
    for (int64_t o = 0; o < out[k]; ++o) t.src[k].push_back(pad_source(m, o, begin[k], in[k]));
    if (k + 1 < rank) t.rows *= out[k];
  }
  return t;
}

// The input row (flat index of its first element) that output row r reads.
int64_t source_row(const Tables& t, int64_t rank, const int64_t* in, const int64_t* out, int64_t r) {
  int64_t i = 0, stride = 1;
  for (int64_t k = rank - 2; k >= 0; --k) {
    i += t.src[k][r % out[k]] * stride;
    r /= out[k];
    stride *= in[k];
  }
  return i * in[rank - 1];
}
}  // namespace

void index_pad_fwd(PadMode m, int64_t rank, const int64_t* in, const int64_t* out, const int64_t* begin, const float* x,
                   float* y) {
  if (rank == 0) {
    y[0] = x[0];
    return;
  }
  const Tables t = tabulate(m, rank, in, out, begin);
  const int64_t W = out[rank - 1];
  const int64_t* last = t.src[rank - 1].data();
  parallel_for(t.rows, W, [&](int64_t r) {
    const float* xr = x + source_row(t, rank, in, out, r);
    float* yr = y + r * W;
    for (int64_t o = 0; o < W; ++o) yr[o] = xr[last[o]];
  });
}

void index_pad_bwd(PadMode m, int64_t rank, const int64_t* in, const int64_t* out, const int64_t* begin,
                   const float* gy, float* gx) {
  int64_t n_in = 1, n_out = 1;
  for (int64_t k = 0; k < rank; ++k) n_in *= in[k], n_out *= out[k];
  if (rank <= 1 || begin[0] != 0 || in[0] != out[0]) {
    ref::index_pad_bwd<float>(m, rank, in, out, begin, gy, gx);
    return;
  }
  // Dimension 0 is not padded: slice s of gy adds only into slice s of gx.
  const int64_t slice_in = n_in / in[0], slice_out = n_out / out[0];
  parallel_for(in[0], slice_out, [&](int64_t s) {
    ref::index_pad_bwd<float>(m, rank - 1, in + 1, out + 1, begin + 1, gy + s * slice_out, gx + s * slice_in);
  });
}

}  // namespace convnet::kernels::cpu

namespace convnet::kernels {
void register_cpu_pad() {
  keys::index_pad_fwd.add("cpu", 10, &cpu::index_pad_fwd);
  keys::index_pad_bwd.add("cpu", 10, &cpu::index_pad_bwd);
}
}  // namespace convnet::kernels
