// Reference twin of the pointwise convolution (kernels/cpu/conv2d_pointwise.cpp): the same
// sums written out on plain NCHW tensors, one output at a time. A 1x1 kernel, stride 1, no
// padding: each output (n, oc, pixel q) sums x[n][c][q] * w[oc][c] over the input channels c
// in order, in float32; then the bias and g.post. Slow on purpose; the fast kernel is tested
// against it (the same sums, up to the fast kernel's split of a small tile into two chains by
// channel parity), and it against the direct reference convolution (the definition).
#include "kernels/conv2d.h"

namespace convnet::kernels::ref {

void conv2d_fwd_pointwise(const Conv2dGeom& g, const float* x, const float* w, const float* b, float* y) {
  const int64_t S = g.H * g.W;
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t oc = 0; oc < g.OC; ++oc)
      for (int64_t q = 0; q < S; ++q) {
        float acc = 0.f;
        for (int64_t c = 0; c < g.C; ++c) acc += x[(n * g.C + c) * S + q] * w[oc * g.C + c];
        float& out = y[(n * g.OC + oc) * S + q];
        out = g.post.apply(acc + (b ? b[oc] : 0.f) + (g.post.sum ? out : 0.f));
      }
}

}  // namespace convnet::kernels::ref
