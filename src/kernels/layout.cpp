// The channel-blocked layouts of the CPU kernels (kernels/layout.h).
#include "kernels/layout.h"

#include <cstring>
#include <mutex>
#include <string>

#include "convnet/core/error.h"
#include "convnet/core/profiler.h"

namespace convnet::kernels {

namespace {

// Element (n, c, s) of an (N, C, S) tensor: plain at (n C + c) S + s, blocked at
// ((n C/B + c/B) S + s) B + c % B. Both directions walk one (n, c/B) block of S*B values at a
// time, B planes of S values on the plain side; blocks are split over the threads.
template <class E>
void convert(const E* src, E* dst, int64_t N, int64_t C, int64_t S, int64_t B, bool to_plain) {
  profiler::Scope scope(to_plain ? "layout_to_plain" : "layout_to_blocked");
  const int64_t blocks = N * (C / B);
#pragma omp parallel for schedule(static) if (blocks * S * B > (1 << 16))
  for (int64_t nb = 0; nb < blocks; ++nb) {
    const E* in = src + nb * S * B;
    E* out = dst + nb * S * B;
    if (to_plain) {
      for (int64_t s = 0; s < S; ++s)
        for (int64_t b = 0; b < B; ++b) out[b * S + s] = in[s * B + b];
    } else {
      for (int64_t b = 0; b < B; ++b)
        for (int64_t s = 0; s < S; ++s) out[s * B + b] = in[b * S + s];
    }
  }
}

void convert_bytes(const void* src, void* dst, int64_t N, int64_t C, int64_t S, int64_t B, int64_t esz, bool to_plain) {
  switch (esz) {
    case 4:
      return convert(static_cast<const uint32_t*>(src), static_cast<uint32_t*>(dst), N, C, S, B, to_plain);
    case 2:
      return convert(static_cast<const uint16_t*>(src), static_cast<uint16_t*>(dst), N, C, S, B, to_plain);
    case 8:
      return convert(static_cast<const uint64_t*>(src), static_cast<uint64_t*>(dst), N, C, S, B, to_plain);
    case 1:
      return convert(static_cast<const uint8_t*>(src), static_cast<uint8_t*>(dst), N, C, S, B, to_plain);
  }
  throw Error("channel-blocked layout: elements of " + std::to_string(esz) + " bytes");
}

// B > 0 fixed (nChw{B}c), or B = 0 meaning "all the channels" (channels-last).
class ChannelBlocked final : public Layout {
 public:
  explicit ChannelBlocked(int64_t B) : B_(B) {}
  int64_t block(int64_t C) const { return B_ ? B_ : C; }
  std::string name() const override { return B_ ? "nChw" + std::to_string(B_) + "c" : "nhwc"; }
  bool fits(const Shape& s) const override { return s.size() == 4 && s[1] > 0 && s[1] % block(s[1]) == 0; }
  void to_plain(const Shape& s, DType t, const void* src, void* dst) const override {
    convert_bytes(src, dst, s[0], s[1], s[2] * s[3], block(s[1]), dtype_size(t), true);
  }
  void from_plain(const Shape& s, DType t, const void* src, void* dst) const override {
    convert_bytes(src, dst, s[0], s[1], s[2] * s[3], block(s[1]), dtype_size(t), false);
  }

 private:
  int64_t B_;
};

const ChannelBlocked kBlock8(8), kBlock16(16), kChannelsLast(0);

}  // namespace

const Layout* channel_blocked(int32_t B) {
  switch (B) {
    case 0:
      return nullptr;
    case 8:
      return &kBlock8;
    case 16:
      return &kBlock16;
  }
  throw Error("channel-blocked layout: block " + std::to_string(B) + " (the CPU kernels use 8 or 16)");
}

const Layout* channels_last() {
  return &kChannelsLast;
}

int64_t channel_block(const Layout* layout, int64_t C) {
  if (!layout) return 0;
  // The three layouts there are, by address first (a dynamic_cast is a string compare away on
  // every convolution call).
  if (layout == &kBlock8) return 8;
  if (layout == &kBlock16) return 16;
  if (layout == &kChannelsLast) return C;
  const auto* l = dynamic_cast<const ChannelBlocked*>(layout);
  CONVNET_CHECK(l != nullptr, "CPU kernels: a tensor in layout ", layout->name(), ", which is not a CPU layout");
  return l->block(C);
}

const Layout* layout_of_block(int64_t B, int64_t C) {
  if (B == 0) return nullptr;
  if (B == 8 || B == 16) return channel_blocked(static_cast<int32_t>(B));  // also when C = B
  CONVNET_CHECK(B == C, "channel-blocked layout: block ", B, " for ", C, " channels");
  return channels_last();
}

ConcatGeom concat_geom(const std::vector<Tensor>& xs, int64_t d) {
  const Tensor& x0 = xs[0];
  const int64_t rank = x0.dim();
  ConcatGeom g;
  const Layout* l = x0.layout();
  for (const Tensor& x : xs) l = x.layout() == l ? l : nullptr;
  const int64_t B = l && d == 1 ? channel_block(l, x0.size(1)) : 0;
  const bool last = B && l == channels_last();
  if (B && !last) {  // (N, C/B, H, W, B): blocks of B channels, S B values each
    g.outer = x0.size(0), g.inner = x0.size(2) * x0.size(3) * B;
    for (const Tensor& x : xs) g.sizes.push_back(x.size(1) / B);
    g.layout = l;
  } else if (last) {  // (N, H, W, C): rows of C
    g.outer = x0.size(0) * x0.size(2) * x0.size(3), g.inner = 1;
    for (const Tensor& x : xs) g.sizes.push_back(x.size(1));
    g.layout = l;
  } else {
    for (int64_t k = 0; k < d; ++k) g.outer *= x0.shape()[k];
    for (int64_t k = d + 1; k < rank; ++k) g.inner *= x0.shape()[k];
    for (const Tensor& x : xs) g.sizes.push_back(x.shape()[d]);
  }
  return g;
}

void blocked_to_plain(const void* src, void* dst, int64_t N, int64_t C, int64_t S, int64_t B, int64_t esz) {
  if (B == 0) return void(std::memcpy(dst, src, static_cast<size_t>(N * C * S * esz)));
  convert_bytes(src, dst, N, C, S, B, esz, true);
}
void plain_to_blocked(const void* src, void* dst, int64_t N, int64_t C, int64_t S, int64_t B, int64_t esz) {
  if (B == 0) return void(std::memcpy(dst, src, static_cast<size_t>(N * C * S * esz)));
  convert_bytes(src, dst, N, C, S, B, esz, false);
}

}  // namespace convnet::kernels
