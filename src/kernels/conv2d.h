#pragma once
// Kernel interface of conv2d. Kernels trust the op: shapes are already checked.
#include <cstdint>
#include <vector>

#include "convnet/core/layout.h"
#include "kernels/lowp.h"
#include "kernels/registry.h"

namespace convnet::kernels {

// Post-ops fused into a forward convolution (inference graphs, see inference/session.h):
//   y = act(conv(x, w) + b + (sum ? y_before : 0)),  act: none, relu, or clip to [lo, hi].
// With sum the kernel reads y before it writes it: the op fills y with the residual, in y's
// layout and dtype. Accumulation, the sum and the activation are in float32, rounded to the
// output type once (the reference twins; a backend that emulates a post-op may round twice).
struct ConvPostOps {
  enum Act : int32_t { kNone = 0, kRelu = 1, kClip = 2 };
  int32_t act = kNone;
  float lo = 0.f, hi = 0.f;  // kClip's bounds
  bool sum = false;
  bool any() const { return act != kNone || sum; }
  float apply(float v) const {
    if (act == kRelu) return v > 0.f ? v : 0.f;
    if (act == kClip) return v < lo ? lo : v > hi ? hi : v;
    return v;
  }
};

struct Conv2dGeom {
  int64_t N, C, H, W;     // input
  int64_t OC, KH, KW;     // weight (OC, C/G, KH, KW)
  int64_t SH, SW;         // stride
  int64_t PH, PW;         // top / left padding (bottom / right follow from OH, OW)
  int64_t DH, DW;         // dilation
  int64_t G;              // groups
  int64_t OH, OW;         // output
  // The weight's identity (Tensor::storage_id, Tensor::version), for backends that keep it
  // prepacked in their own layout across calls; 0 = unknown (pack it for this call only).
  uint64_t w_id = 0, w_version = 0;
  ConvPostOps post{};  // forward only; backward geometries have none
};

// Applies `p` to the n values of y, computed without it; `before` = y's values before the
// convolution (read when p.sum). Any layout: the map is elementwise.
template <class T>
void apply_post_ops(const ConvPostOps& p, const T* before, T* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    y[i] = lowp::narrow<T>(p.apply(lowp::widen(y[i]) + (p.sum ? lowp::widen(before[i]) : 0.f)));
}
// For the kernels that do not fuse a post-op: `conv(plain_geom)` computes y without it, and the
// post-ops follow as a pass over y.
template <class T, class F>
void with_emulated_post_ops(const Conv2dGeom& g, T* y, F&& conv) {
  if (!g.post.any()) return conv(g);
  Conv2dGeom plain = g;
  plain.post = {};
  const int64_t n = g.N * g.OC * g.OH * g.OW;
  std::vector<T> before;
  if (g.post.sum) before.assign(y, y + n);
  conv(plain);
  apply_post_ops(g.post, before.data(), y, n);
}

// y: (N, OC, OH, OW); b may be null.
template <class T>
using Conv2dFwdFn = void(const Conv2dGeom&, const T* x, const T* w, const T* b, T* y);
// gx: (N, C, H, W), overwritten.
template <class T>
using Conv2dBwdDataFn = void(const Conv2dGeom&, const T* gy, const T* w, T* gx);
// gw: (OC, C/G, KH, KW) overwritten; gb: (OC) overwritten, may be null.
template <class T>
using Conv2dBwdWeightFn = void(const Conv2dGeom&, const T* x, const T* gy, T* gw, T* gb);

// The forward kernels of the *_blocked and reduced-precision keys apply g.post; the plain
// conv2d_fwd key does not (its geometries have none).
// The same with a layout per activation tensor: 0 = plain NCHW, B > 0 = channel-blocked
// (N, C/B, H, W, B), see kernels/layout.h. Weights and biases are always plain.
//   keys: conv2d_fwd_blocked, conv2d_bwd_data_blocked, conv2d_bwd_weight_blocked
template <class T>
using Conv2dFwdBlockedFn = void(const Conv2dGeom&, const T* x, int32_t x_block, const T* w, const T* b, T* y,
                                int32_t y_block);
template <class T>
using Conv2dBwdDataBlockedFn = void(const Conv2dGeom&, const T* gy, int32_t gy_block, const T* w, T* gx,
                                    int32_t gx_block);
template <class T>
using Conv2dBwdWeightBlockedFn = void(const Conv2dGeom&, const T* x, int32_t x_block, const T* gy, int32_t gy_block,
                                      T* gw, T* gb);
// key conv2d_layout: the layout (kernels/layout.h) the selected convolution wants its output
// in, for this geometry: its native one, so that the next layer (batch norm, activation,
// conv) goes on without a reorder; null = plain. The op allocates y so and passes the
// blocks of x and y (channel_block) to the *_blocked keys.
using Conv2dLayoutFn = const Layout*(const Conv2dGeom&);

namespace ref {
template <class T> void conv2d_fwd(const Conv2dGeom& g, const T* x, const T* w, const T* b, T* y);
template <class T> void conv2d_bwd_data(const Conv2dGeom& g, const T* gy, const T* w, T* gx);
template <class T> void conv2d_bwd_weight(const Conv2dGeom& g, const T* x, const T* gy, T* gw, T* gb);
// The blocked forms: convert to plain, run the plain reference, convert back.
void conv2d_fwd_blocked(const Conv2dGeom& g, const float* x, int32_t x_block, const float* w, const float* b, float* y,
                        int32_t y_block);
void conv2d_bwd_data_blocked(const Conv2dGeom& g, const float* gy, int32_t gy_block, const float* w, float* gx,
                             int32_t gx_block);
void conv2d_bwd_weight_blocked(const Conv2dGeom& g, const float* x, int32_t x_block, const float* gy, int32_t gy_block,
                               float* gw, float* gb);
const Layout* conv2d_layout(const Conv2dGeom& g);
}  // namespace ref

// Channel-blocked layout (N, C/B, S, B) <-> plain (N, C, S); B = 0 copies. The readable
// forms (kernels/layout.h has the threaded ones).
void to_plain_layout(const float* src, float* dst, int64_t N, int64_t C, int64_t S, int32_t B);
void to_blocked_layout(const float* src, float* dst, int64_t N, int64_t C, int64_t S, int32_t B);

// The im2col + OpenBLAS kernels (kernels/cpu/conv2d_blas.cpp); the oneDNN kernels fall
// back to them for the shapes where they are faster.
namespace cpu {
void conv2d_fwd(const Conv2dGeom& g, const float* x, const float* w, const float* b, float* y);
void conv2d_bwd_data(const Conv2dGeom& g, const float* gy, const float* w, float* gx);
void conv2d_bwd_weight(const Conv2dGeom& g, const float* x, const float* gy, float* gw, float* gb);

// Winograd's F(2x2, 3x3) forward (kernels/cpu/conv2d_winograd.cpp), with g.post: 3x3 kernels,
// stride 1, no dilation, one group, x and y in the same channel-blocked layout (8 or 16), on a
// CPU with AVX2. 16 multiplications per 2x2 outputs and channel pair instead of 36; the oneDNN
// forward kernel hands it the shapes where it is faster (winograd_pays: 64 or more channels
// in and out, and enough 2x2 output tiles for its GEMMs), by default on AVX2 CPUs (blocks of
// 8) only; CONVNET_WINOGRAD=0 in the environment turns it off, =1 on for blocks of 16 too.
bool winograd_supports(const Conv2dGeom& g, int32_t xb, int32_t yb);
bool winograd_pays(const Conv2dGeom& g, int32_t xb, int32_t yb, int threads);
void conv2d_fwd_winograd(const Conv2dGeom& g, const float* x, int32_t block, const float* w, const float* b, float* y);
// The backward-data pass of forward geometry g (top/left padding at most 2) as the forward
// Winograd convolution of geometry winograd_bwd_data_geom(g): gy in, gx out, same block.
void conv2d_bwd_data_winograd(const Conv2dGeom& g, const float* gy, int32_t block, const float* w, float* gx);
// Convolutions with few output pixels (kernels/cpu/conv2d_few_pixels.cpp), with g.post: one
// group, x and y plain or channel-blocked (8 or 16, independently), on a CPU with AVX2. The
// GEMM of the pixels' im2col rows by the kernels, packed once into 16-channel panels that
// stream through a register tile; the threads split the panels. The oneDNN forward kernel
// hands it the shapes where the weights outweigh the pixels (few_pixels_pays: N * OH * OW up
// to 16), but for those the pointwise kernel takes; CONVNET_FEW_PIXELS=0 in the environment turns it off.
bool few_pixels_supports(const Conv2dGeom& g, int32_t xb, int32_t yb);
bool few_pixels_pays(const Conv2dGeom& g, int32_t xb, int32_t yb);
void conv2d_fwd_few_pixels(const Conv2dGeom& g, const float* x, int32_t xb, const float* w, const float* b, float* y,
                           int32_t yb);
// Direct convolution on channel-blocked activations (kernels/cpu/conv2d_direct.cpp), with
// g.post: one group, x and y in the same `block` (8 on a CPU with AVX2, 16 with AVX-512), C
// and OC multiples of it, any kernel, stride, padding and dilation. Weights packed once into
// 16-channel groups; a register tile of up to 6 (AVX2) or 12 (AVX-512) pixels by 16 channels
// runs along each output row. The oneDNN forward kernel hands it the shapes where it is faster
// (direct_pays); CONVNET_DIRECT=0 in the environment turns it off.
bool direct_supports(const Conv2dGeom& g, int32_t xb, int32_t yb);
bool direct_pays(const Conv2dGeom& g, int32_t xb, int32_t yb);
void conv2d_fwd_direct(const Conv2dGeom& g, const float* x, int32_t block, const float* w, const float* b, float* y);
// 1x1 convolutions on few pixels (kernels/cpu/conv2d_pointwise.cpp), with g.post: one group,
// no padding, any stride, x and y plain or channel-blocked (8 or 16, independently), on a CPU
// with AVX-512. The GEMM of the pixels by the kernels, read in place, the weights packed once
// into 16-channel panels that stream through a register tile of up to 12 pixels by 1, 2 or 4
// panels; the threads split (panel group, pixel tile) units. The oneDNN forward kernel hands
// it the shapes where it is faster (pointwise_pays); CONVNET_POINTWISE=0 in the environment
// turns it off. Its reference twin is ref::conv2d_fwd_pointwise.
bool pointwise_supports(const Conv2dGeom& g, int32_t xb, int32_t yb);
bool pointwise_pays(const Conv2dGeom& g, int32_t xb, int32_t yb);
void conv2d_fwd_pointwise(const Conv2dGeom& g, const float* x, int32_t xb, const float* w, const float* b, float* y,
                          int32_t yb);
// Convolutions on plain tensors vectorized along the output rows (kernels/cpu/conv2d_rows.cpp),
// with g.post: one group, x and y plain, stride 1 along the width, rows up to 64 pixels,
// kernels up to 11 wide, on a CPU with AVX-512. Per (image, row, tile of output channels) a
// register tile of channels by 16-pixel vectors; no packing. The oneDNN forward kernel hands it
// a network's first layer when its output stays plain (rows_pays); CONVNET_ROWS=0 in the
// environment turns it off. Its reference twin is ref::conv2d_fwd_rows.
bool rows_supports(const Conv2dGeom& g, int32_t xb, int32_t yb);
bool rows_pays(const Conv2dGeom& g, int32_t xb, int32_t yb);
void conv2d_fwd_rows(const Conv2dGeom& g, const float* x, const float* w, const float* b, float* y);
}  // namespace cpu
// The adjoint geometry: gx[ih] = sum over kh of gy[ih + PH - kh] w[kh] (and likewise along the
// width) is the convolution of gy by the kernels turned by 180 degrees, channels in and out
// swapped, top/left padding 2 - PH / 2 - PW, and H x W outputs.
Conv2dGeom winograd_bwd_data_geom(const Conv2dGeom& g);
namespace ref {
// The Winograd kernels' twins (kernels/ref/conv2d_winograd.cpp): the same algorithm, its
// matrices written out, on plain NCHW tensors; the forward applies g.post.
void conv2d_fwd_winograd(const Conv2dGeom& g, const float* x, const float* w, const float* b, float* y);
void conv2d_bwd_data_winograd(const Conv2dGeom& g, const float* gy, const float* w, float* gx);
// The few-pixels kernel's twin (kernels/ref/conv2d_few_pixels.cpp): each output pixel's im2col
// row times the kernels, summed over k in order, on plain NCHW tensors; applies g.post (y
// holds the residual before the call when g.post.sum).
void conv2d_fwd_few_pixels(const Conv2dGeom& g, const float* x, const float* w, const float* b, float* y);
// The direct kernel's twin (kernels/ref/conv2d_direct.cpp): each output summed over the input
// blocks of `block` channels, the kernel rows and columns inside the image, and the block's
// channels, in that order, on plain NCHW tensors; applies g.post (y holds the residual before
// the call when g.post.sum).
void conv2d_fwd_direct(const Conv2dGeom& g, int64_t block, const float* x, const float* w, const float* b, float* y);
// The pointwise kernel's twin (kernels/ref/conv2d_pointwise.cpp): 1x1, stride 1, no padding;
// each output summed over the input channels in order, on plain NCHW tensors; applies g.post.
void conv2d_fwd_pointwise(const Conv2dGeom& g, const float* x, const float* w, const float* b, float* y);
// The rows kernel's twin (kernels/ref/conv2d_rows.cpp): each output summed over the input
// channels, the kernel rows inside the image and the kernel columns (0 for a column in the
// padding), in that order, on plain NCHW tensors; applies g.post.
void conv2d_fwd_rows(const Conv2dGeom& g, const float* x, const float* w, const float* b, float* y);
}  // namespace ref

// The blocked forms of a plain-only backend: the plain kernels on plain tensors; blocked
// ones are rewritten plain around them (a backend whose conv2d_layout is null sees blocked
// tensors only where another backend made them).
template <Conv2dFwdFn<float>* Plain>
void plain_conv2d_fwd(const Conv2dGeom& g0, const float* x, int32_t xb, const float* w, const float* b, float* y,
                      int32_t yb) {
  if (g0.post.any())
    return with_emulated_post_ops(g0, y, [&](const Conv2dGeom& g) { plain_conv2d_fwd<Plain>(g, x, xb, w, b, y, yb); });
  const Conv2dGeom& g = g0;
  if (xb == 0 && yb == 0) return Plain(g, x, w, b, y);
  std::vector<float> px(g.N * g.C * g.H * g.W), py(g.N * g.OC * g.OH * g.OW);
  to_plain_layout(x, px.data(), g.N, g.C, g.H * g.W, xb);
  Plain(g, px.data(), w, b, py.data());
  to_blocked_layout(py.data(), y, g.N, g.OC, g.OH * g.OW, yb);
}
template <Conv2dBwdDataFn<float>* Plain>
void plain_conv2d_bwd_data(const Conv2dGeom& g, const float* gy, int32_t gyb, const float* w, float* gx, int32_t gxb) {
  if (gyb == 0 && gxb == 0) return Plain(g, gy, w, gx);
  std::vector<float> pgy(g.N * g.OC * g.OH * g.OW), pgx(g.N * g.C * g.H * g.W);
  to_plain_layout(gy, pgy.data(), g.N, g.OC, g.OH * g.OW, gyb);
  Plain(g, pgy.data(), w, pgx.data());
  to_blocked_layout(pgx.data(), gx, g.N, g.C, g.H * g.W, gxb);
}
template <Conv2dBwdWeightFn<float>* Plain>
void plain_conv2d_bwd_weight(const Conv2dGeom& g, const float* x, int32_t xb, const float* gy, int32_t gyb, float* gw,
                             float* gb) {
  if (xb == 0 && gyb == 0) return Plain(g, x, gy, gw, gb);
  std::vector<float> px(g.N * g.C * g.H * g.W), pgy(g.N * g.OC * g.OH * g.OW);
  to_plain_layout(x, px.data(), g.N, g.C, g.H * g.W, xb);
  to_plain_layout(gy, pgy.data(), g.N, g.OC, g.OH * g.OW, gyb);
  Plain(g, px.data(), pgy.data(), gw, gb);
}

// Reduced precision (T = bf16_t, f16_t): the activations x, y, gy, gx in T, in any layout of
// kernels/layout.h; the weights and bias stay float32 (the masters: a kernel rounds them to
// T, as it computes), and so do their gradients. Accumulation is in float32.
template <class T>
using Conv2dFwdLowpFn = void(const Conv2dGeom&, const T* x, int32_t x_block, const float* w, const float* b, T* y,
                             int32_t y_block);
template <class T>
using Conv2dBwdDataLowpFn = void(const Conv2dGeom&, const T* gy, int32_t gy_block, const float* w, T* gx,
                                 int32_t gx_block);
template <class T>
using Conv2dBwdWeightLowpFn = void(const Conv2dGeom&, const T* x, int32_t x_block, const T* gy, int32_t gy_block,
                                   float* gw, float* gb);
namespace ref {
// The twins: x / gy read as float32, w rounded to T and back, the float32 reference, the
// activation outputs rounded to T.
template <class T>
void conv2d_fwd_lowp(const Conv2dGeom& g, const T* x, int32_t xb, const float* w, const float* b, T* y, int32_t yb);
template <class T>
void conv2d_bwd_data_lowp(const Conv2dGeom& g, const T* gy, int32_t gyb, const float* w, T* gx, int32_t gxb);
template <class T>
void conv2d_bwd_weight_lowp(const Conv2dGeom& g, const T* x, int32_t xb, const T* gy, int32_t gyb, float* gw,
                            float* gb);
}  // namespace ref

// The keys (kernels/registry.h): one per kernel of this interface.
namespace keys {
inline Kernel<Conv2dLayoutFn> conv2d_layout{"conv2d_layout"};
inline Kernel<Conv2dFwdBlockedFn<float>> conv2d_fwd_blocked{"conv2d_fwd_blocked"};
inline Kernel<Conv2dBwdDataBlockedFn<float>> conv2d_bwd_data_blocked{"conv2d_bwd_data_blocked"};
inline Kernel<Conv2dBwdWeightBlockedFn<float>> conv2d_bwd_weight_blocked{"conv2d_bwd_weight_blocked"};
inline Kernel<Conv2dFwdFn<float>> conv2d_fwd{"conv2d_fwd"};
inline Kernel<Conv2dBwdDataFn<float>> conv2d_bwd_data{"conv2d_bwd_data"};
inline Kernel<Conv2dBwdWeightFn<float>> conv2d_bwd_weight{"conv2d_bwd_weight"};
#define CONVNET_CONV_LOWP_KEYS(T, sfx, DT)                                                  \
  inline Kernel<Conv2dLayoutFn> conv2d_layout_##sfx{"conv2d_layout_" #sfx, DT};             \
  inline Kernel<Conv2dFwdLowpFn<T>> conv2d_fwd_##sfx{"conv2d_fwd_" #sfx, DT};               \
  inline Kernel<Conv2dBwdDataLowpFn<T>> conv2d_bwd_data_##sfx{"conv2d_bwd_data_" #sfx, DT}; \
  inline Kernel<Conv2dBwdWeightLowpFn<T>> conv2d_bwd_weight_##sfx{"conv2d_bwd_weight_" #sfx, DT};
CONVNET_CONV_LOWP_KEYS(bf16_t, bf16, DType::bfloat16)
CONVNET_CONV_LOWP_KEYS(f16_t, f16, DType::float16)
#undef CONVNET_CONV_LOWP_KEYS
template <class T>
struct Conv2d;  // the keys of element type T (the float32 ones: the *_blocked keys)
#define CONVNET_CONV_KEYS_OF(T, layout_key, fwd_key, bwd_data_key, bwd_weight_key) \
  template <>                                                                      \
  struct Conv2d<T> {                                                               \
    static constexpr auto* layout = &layout_key;                                   \
    static constexpr auto* fwd = &fwd_key;                                         \
    static constexpr auto* bwd_data = &bwd_data_key;                               \
    static constexpr auto* bwd_weight = &bwd_weight_key;                           \
  };
CONVNET_CONV_KEYS_OF(float, conv2d_layout, conv2d_fwd_blocked, conv2d_bwd_data_blocked, conv2d_bwd_weight_blocked)
CONVNET_CONV_KEYS_OF(bf16_t, conv2d_layout_bf16, conv2d_fwd_bf16, conv2d_bwd_data_bf16, conv2d_bwd_weight_bf16)
CONVNET_CONV_KEYS_OF(f16_t, conv2d_layout_f16, conv2d_fwd_f16, conv2d_bwd_data_f16, conv2d_bwd_weight_f16)
#undef CONVNET_CONV_KEYS_OF
}  // namespace keys

}  // namespace convnet::kernels
