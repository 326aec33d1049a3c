// Reference twin of the rows convolution (kernels/cpu/conv2d_rows.cpp): the same sums written
// out on plain NCHW tensors, one output at a time. Each output (n, oc, oh, ow) sums x * w over
// the input channels c, the kernel rows kh inside the image and the kernel columns kw, in that
// order, in float32 (a tap in the width's padding adds 0 * w, as the kernel's masked loads
// do); then the bias and g.post. Slow on purpose; the fast kernel is tested against it, and it
// against the direct reference convolution (the definition).
#include "kernels/conv2d.h"

namespace convnet::kernels::ref {

void conv2d_fwd_rows(const Conv2dGeom& g, const float* x, const float* w, const float* b, float* y) {
  const int64_t KHW = g.KH * g.KW;
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t oc = 0; oc < g.OC; ++oc)
      for (int64_t oh = 0; oh < g.OH; ++oh)
        for (int64_t ow = 0; ow < g.OW; ++ow) {
          float acc = 0.f;
          for (int64_t c = 0; c < g.C; ++c)
            for (int64_t kh = 0; kh < g.KH; ++kh) {
              const int64_t ih = oh * g.SH - g.PH + kh * g.DH;
              if (ih < 0 || ih >= g.H) continue;
              for (int64_t kw = 0; kw < g.KW; ++kw) {
                const int64_t iw = ow * g.SW - g.PW + kw * g.DW;
                const float xv = iw >= 0 && iw < g.W ? x[((n * g.C + c) * g.H + ih) * g.W + iw] : 0.f;
                acc += xv * w[(oc * g.C + c) * KHW + kh * g.KW + kw];
              }
            }
          float& out = y[((n * g.OC + oc) * g.OH + oh) * g.OW + ow];
          out = g.post.apply(acc + (b ? b[oc] : 0.f) + (g.post.sum ? out : 0.f));
        }
}

}  // namespace convnet::kernels::ref
