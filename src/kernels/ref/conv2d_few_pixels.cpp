// Reference twin of the few-pixels convolution (kernels/cpu/conv2d_few_pixels.cpp): the same
// GEMM written out on plain NCHW tensors, one output pixel at a time. The pixel's im2col row
// (k = (kh * KW + kw) * C + c, zero where the window leaves the image) times each output
// channel's kernel, summed over k in order in float32, then the bias and g.post. Slow on
// purpose; the fast kernel is tested against it (the same sums, up to the fast kernel's split
// of a few chains along k), and it against the direct reference convolution (the definition).
#include <vector>

#include "kernels/conv2d.h"

namespace convnet::kernels::ref {

void conv2d_fwd_few_pixels(const Conv2dGeom& g, const float* x, const float* w, const float* b, float* y) {
  const int64_t KHW = g.KH * g.KW, K = KHW * g.C, OHW = g.OH * g.OW;
  std::vector<float> row(static_cast<size_t>(K));
  for (int64_t m = 0; m < g.N * OHW; ++m) {
    const int64_t n = m / OHW, q = m % OHW, oh = q / g.OW, ow = q % g.OW;
    for (int64_t kh = 0; kh < g.KH; ++kh)
      for (int64_t kw = 0; kw < g.KW; ++kw) {
        const int64_t ih = oh * g.SH - g.PH + kh * g.DH, iw = ow * g.SW - g.PW + kw * g.DW;
        const bool inside = ih >= 0 && ih < g.H && iw >= 0 && iw < g.W;
        for (int64_t c = 0; c < g.C; ++c)
          row[(kh * g.KW + kw) * g.C + c] = inside ? x[((n * g.C + c) * g.H + ih) * g.W + iw] : 0.f;
      }
    for (int64_t oc = 0; oc < g.OC; ++oc) {
      float acc = 0.f;
      for (int64_t k = 0; k < K; ++k) acc += row[k] * w[(oc * g.C + k % g.C) * KHW + k / g.C];
      float& out = y[(n * g.OC + oc) * OHW + q];
      out = g.post.apply(acc + (b ? b[oc] : 0.f) + (g.post.sum ? out : 0.f));
    }
  }
}

}  // namespace convnet::kernels::ref
