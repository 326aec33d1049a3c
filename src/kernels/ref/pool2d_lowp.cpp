// Reference twins of reduced-precision pooling (T = bf16_t, f16_t): x and gy read as float32,
// the float32 reference kernels (any layout, see Pool2dGeom::B), y and gx rounded to T. Max
// pooling picks the same element as in float32 (the conversion is exact and monotonic).
#include "kernels/lowp.h"
#include "kernels/pool2d.h"

namespace convnet::kernels::ref {

namespace {
int64_t in_size(const Pool2dGeom& g) {
  return g.N * g.C * g.H * g.W;
}
int64_t out_size(const Pool2dGeom& g) {
  return g.N * g.C * g.OH * g.OW;
}
int64_t in_size(const AdaptivePool2dGeom& g) {
  return g.N * g.C * g.H * g.W;
}
int64_t out_size(const AdaptivePool2dGeom& g) {
  return g.N * g.C * g.OH * g.OW;
}
}  // namespace

template <class T>
void max_pool2d_fwd_lowp(const Pool2dGeom& g, const T* x, T* y, int64_t* argmax) {
  const std::vector<float> xf = lowp::widened(x, in_size(g));
  std::vector<float> yf(static_cast<size_t>(out_size(g)));
  max_pool2d_fwd<float>(g, xf.data(), yf.data(), argmax);
  lowp::narrow_into(yf.data(), out_size(g), y);
}
template <class T>
void max_pool2d_bwd_lowp(const Pool2dGeom& g, const T* gy, const int64_t* argmax, T* gx) {
  const std::vector<float> gyf = lowp::widened(gy, out_size(g));
  std::vector<float> gxf(static_cast<size_t>(in_size(g)));
  max_pool2d_bwd<float>(g, gyf.data(), argmax, gxf.data());
  lowp::narrow_into(gxf.data(), in_size(g), gx);
}
template <class T>
void avg_pool2d_fwd_lowp(const Pool2dGeom& g, const T* x, T* y) {
  const std::vector<float> xf = lowp::widened(x, in_size(g));
  std::vector<float> yf(static_cast<size_t>(out_size(g)));
  avg_pool2d_fwd<float>(g, xf.data(), yf.data());
  lowp::narrow_into(yf.data(), out_size(g), y);
}
template <class T>
void avg_pool2d_bwd_lowp(const Pool2dGeom& g, const T* gy, T* gx) {
  const std::vector<float> gyf = lowp::widened(gy, out_size(g));
  std::vector<float> gxf(static_cast<size_t>(in_size(g)));
  avg_pool2d_bwd<float>(g, gyf.data(), gxf.data());
  lowp::narrow_into(gxf.data(), in_size(g), gx);
}
template <class T>
void adaptive_avg_pool2d_fwd_lowp(const AdaptivePool2dGeom& g, const T* x, T* y) {
  const std::vector<float> xf = lowp::widened(x, in_size(g));
  std::vector<float> yf(static_cast<size_t>(out_size(g)));
  adaptive_avg_pool2d_fwd<float>(g, xf.data(), yf.data());
  lowp::narrow_into(yf.data(), out_size(g), y);
}
template <class T>
void adaptive_avg_pool2d_bwd_lowp(const AdaptivePool2dGeom& g, const T* gy, T* gx) {
  const std::vector<float> gyf = lowp::widened(gy, out_size(g));
  std::vector<float> gxf(static_cast<size_t>(in_size(g)));
  adaptive_avg_pool2d_bwd<float>(g, gyf.data(), gxf.data());
  lowp::narrow_into(gxf.data(), in_size(g), gx);
}

#define INSTANTIATE(T)                                                                    \
  template void max_pool2d_fwd_lowp<T>(const Pool2dGeom&, const T*, T*, int64_t*);        \
  template void max_pool2d_bwd_lowp<T>(const Pool2dGeom&, const T*, const int64_t*, T*);  \
  template void avg_pool2d_fwd_lowp<T>(const Pool2dGeom&, const T*, T*);                  \
  template void avg_pool2d_bwd_lowp<T>(const Pool2dGeom&, const T*, T*);                  \
  template void adaptive_avg_pool2d_fwd_lowp<T>(const AdaptivePool2dGeom&, const T*, T*); \
  template void adaptive_avg_pool2d_bwd_lowp<T>(const AdaptivePool2dGeom&, const T*, T*);
INSTANTIATE(bf16_t)
INSTANTIATE(f16_t)
#undef INSTANTIATE

}  // namespace convnet::kernels::ref

namespace convnet::kernels {
void register_ref_pool_lowp() {
#define REGISTER(T, sfx)                                                                    \
  keys::max_pool2d_fwd_##sfx.add("ref", 0, &ref::max_pool2d_fwd_lowp<T>);                   \
  keys::max_pool2d_bwd_##sfx.add("ref", 0, &ref::max_pool2d_bwd_lowp<T>);                   \
  keys::avg_pool2d_fwd_##sfx.add("ref", 0, &ref::avg_pool2d_fwd_lowp<T>);                   \
  keys::avg_pool2d_bwd_##sfx.add("ref", 0, &ref::avg_pool2d_bwd_lowp<T>);                   \
  keys::adaptive_avg_pool2d_fwd_##sfx.add("ref", 0, &ref::adaptive_avg_pool2d_fwd_lowp<T>); \
  keys::adaptive_avg_pool2d_bwd_##sfx.add("ref", 0, &ref::adaptive_avg_pool2d_bwd_lowp<T>);
  REGISTER(bf16_t, bf16)
  REGISTER(f16_t, f16)
#undef REGISTER
}
}  // namespace convnet::kernels
