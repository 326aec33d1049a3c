// Reference twin of the direct convolution (kernels/cpu/conv2d_direct.cpp): the same sums
// written out on plain NCHW tensors, one output at a time. Each output (n, oc, oh, ow) sums
// x * w over the input blocks of `block` channels cb (8 as the AVX2 kernel reads them, 16 as
// the AVX-512 one does), the kernel rows kh and columns kw inside the image, and the channels
// c of the block, in that order, in float32; then the bias and g.post. Slow on purpose; the
// fast kernel is tested against it (the same sums, up to the fast kernel's split of a small
// tile into two chains by channel parity), and it against the direct reference convolution
// (the definition, summed over c, kh, kw).
#include <algorithm>

#include "kernels/conv2d.h"

namespace convnet::kernels::ref {

void conv2d_fwd_direct(const Conv2dGeom& g, int64_t kBlock, const float* x, const float* w, const float* b, float* y) {
  const int64_t CB = (g.C + kBlock - 1) / kBlock, KHW = g.KH * g.KW;
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t oc = 0; oc < g.OC; ++oc)
      for (int64_t oh = 0; oh < g.OH; ++oh)
        for (int64_t ow = 0; ow < g.OW; ++ow) {
          float acc = 0.f;
          for (int64_t cb = 0; cb < CB; ++cb)
            for (int64_t kh = 0; kh < g.KH; ++kh) {
              const int64_t ih = oh * g.SH - g.PH + kh * g.DH;
              if (ih < 0 || ih >= g.H) continue;
              for (int64_t kw = 0; kw < g.KW; ++kw) {
                const int64_t iw = ow * g.SW - g.PW + kw * g.DW;
                if (iw < 0 || iw >= g.W) continue;
                for (int64_t c = cb * kBlock; c < std::min(g.C, (cb + 1) * kBlock); ++c)
                  acc += x[((n * g.C + c) * g.H + ih) * g.W + iw] * w[(oc * g.C + c) * KHW + kh * g.KW + kw];
              }
            }
          float& out = y[((n * g.OC + oc) * g.OH + oh) * g.OW + ow];
          out = g.post.apply(acc + (b ? b[oc] : 0.f) + (g.post.sum ? out : 0.f));
        }
}

}  // namespace convnet::kernels::ref
