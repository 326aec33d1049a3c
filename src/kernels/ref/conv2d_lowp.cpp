// Reference twins of reduced-precision conv2d (T = bf16_t, f16_t): what a convolution that
// computes in T with float32 accumulation gives. x and gy are read as float32 (exact), the
// float32 weights rounded to T and back, the plain float32 reference runs, and the activation
// outputs (y, gx) are rounded to T; the weight and bias gradients stay float32. Blocked
// tensors (kernels/layout.h) are rewritten plain around it.
#include "kernels/conv2d.h"
#include "kernels/lowp.h"

namespace convnet::kernels::ref {

namespace {
int64_t x_size(const Conv2dGeom& g) {
  return g.N * g.C * g.H * g.W;
}
int64_t y_size(const Conv2dGeom& g) {
  return g.N * g.OC * g.OH * g.OW;
}
int64_t w_size(const Conv2dGeom& g) {
  return g.OC * (g.C / g.G) * g.KH * g.KW;
}
}  // namespace

template <class T>
void conv2d_fwd_lowp(const Conv2dGeom& g, const T* x, int32_t xb, const float* w, const float* b, T* y, int32_t yb) {
  const std::vector<float> xf = lowp::widened(x, x_size(g)), wf = lowp::rounded<T>(w, w_size(g));
  // The post-ops on the float32 sums, with y's values before (the residual) widened: one rounding.
  std::vector<float> yf = g.post.sum ? lowp::widened(y, y_size(g)) : std::vector<float>(static_cast<size_t>(y_size(g)));
  conv2d_fwd_blocked(g, xf.data(), xb, wf.data(), b, yf.data(), yb);
  lowp::narrow_into(yf.data(), y_size(g), y);
}
template <class T>
void conv2d_bwd_data_lowp(const Conv2dGeom& g, const T* gy, int32_t gyb, const float* w, T* gx, int32_t gxb) {
  const std::vector<float> gyf = lowp::widened(gy, y_size(g)), wf = lowp::rounded<T>(w, w_size(g));
  std::vector<float> gxf(static_cast<size_t>(x_size(g)));
  conv2d_bwd_data_blocked(g, gyf.data(), gyb, wf.data(), gxf.data(), gxb);
  lowp::narrow_into(gxf.data(), x_size(g), gx);
}
template <class T>
void conv2d_bwd_weight_lowp(const Conv2dGeom& g, const T* x, int32_t xb, const T* gy, int32_t gyb, float* gw,
                            float* gb) {
  const std::vector<float> xf = lowp::widened(x, x_size(g)), gyf = lowp::widened(gy, y_size(g));
  conv2d_bwd_weight_blocked(g, xf.data(), xb, gyf.data(), gyb, gw, gb);
}

#define INSTANTIATE(T)                                                                                             \
  template void conv2d_fwd_lowp<T>(const Conv2dGeom&, const T*, int32_t, const float*, const float*, T*, int32_t); \
  template void conv2d_bwd_data_lowp<T>(const Conv2dGeom&, const T*, int32_t, const float*, T*, int32_t);          \
  template void conv2d_bwd_weight_lowp<T>(const Conv2dGeom&, const T*, int32_t, const T*, int32_t, float*, float*);
INSTANTIATE(bf16_t)
INSTANTIATE(f16_t)
#undef INSTANTIATE

}  // namespace convnet::kernels::ref

namespace convnet::kernels {
void register_ref_conv2d_lowp() {
  keys::conv2d_layout_bf16.add("ref", 0, &ref::conv2d_layout);
  keys::conv2d_fwd_bf16.add("ref", 0, &ref::conv2d_fwd_lowp<bf16_t>);
  keys::conv2d_bwd_data_bf16.add("ref", 0, &ref::conv2d_bwd_data_lowp<bf16_t>);
  keys::conv2d_bwd_weight_bf16.add("ref", 0, &ref::conv2d_bwd_weight_lowp<bf16_t>);
  keys::conv2d_layout_f16.add("ref", 0, &ref::conv2d_layout);
  keys::conv2d_fwd_f16.add("ref", 0, &ref::conv2d_fwd_lowp<f16_t>);
  keys::conv2d_bwd_data_f16.add("ref", 0, &ref::conv2d_bwd_data_lowp<f16_t>);
  keys::conv2d_bwd_weight_f16.add("ref", 0, &ref::conv2d_bwd_weight_lowp<f16_t>);
}
}  // namespace convnet::kernels
