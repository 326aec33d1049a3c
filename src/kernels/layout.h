#pragma once
// The CPU kernels' activation layouts (core/layout.h): the channel-blocked family.
//
// A 4-D tensor (N, C, H, W) stored channel-blocked by B keeps element (n, c, s), s = h W + w,
// at ((n C/B + c/B) S + s) B + c % B, S = H W: C/B planes of S positions of B channels.
//   - B = 8 or 16: oneDNN's nChw8c / nChw16c, what its float32 convolutions compute in
//     with AVX2 / AVX-512;
//   - B = C: channels-last (NHWC), what its AMX bfloat16 convolutions compute in.
// Kernels see a layout as its block B (0 = plain): channel_block() says which. Ops never
// look: they pass tensors' layouts on, and allocate outputs in the layout a kernel chose.
#include <cstdint>
#include <vector>

#include "convnet/core/layout.h"
#include "convnet/core/tensor.h"

namespace convnet::kernels {

// The layout of channel blocks of B (8 or 16); null for B = 0.
const Layout* channel_blocked(int32_t B);
// Channels-last (NHWC): one block of all C channels.
const Layout* channels_last();
// The block B of a tensor of C channels in `layout` (0 plain, C channels-last); throws for
// a layout that is not of this family (another backend's).
int64_t channel_block(const Layout* layout, int64_t C);
// Of a tensor: plain, or 4-D and of this family.
inline int64_t channel_block(const Tensor& t) {
  return channel_block(t.layout(), t.dim() == 4 ? t.size(1) : 0);
}
// The layout of channel block B for a tensor of C channels (B = C: channels_last()).
const Layout* layout_of_block(int64_t B, int64_t C);

// Concatenation along `dim` as a copy of slices: each of `outer` rows of the output is the
// rows of the inputs, input i giving sizes[i] * inner elements. Tensors that share one
// layout of this family are concatenated in it along the channels (blocks of B: the same
// copy with C/B for C; channels-last: rows of N H W positions), and `layout` is that of the
// output; otherwise it is null and the inputs are read row-major.
struct ConcatGeom {
  int64_t outer = 1, inner = 1;
  std::vector<int64_t> sizes;
  const Layout* layout = nullptr;
};
ConcatGeom concat_geom(const std::vector<Tensor>& xs, int64_t dim);

// Rewrites (N, C, S) elements of `esz` bytes (2 or 4) between plain and blocked by B,
// threaded (the readable twins, float only, are to_plain_layout / to_blocked_layout).
void blocked_to_plain(const void* src, void* dst, int64_t N, int64_t C, int64_t S, int64_t B, int64_t esz);
void plain_to_blocked(const void* src, void* dst, int64_t N, int64_t C, int64_t S, int64_t B, int64_t esz);

}  // namespace convnet::kernels
