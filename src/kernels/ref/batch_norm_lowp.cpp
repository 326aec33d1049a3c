// Reference twins of reduced-precision batch norm (T = bf16_t, f16_t): x and gy read as
// float32, the float32 reference kernels (any layout, see BatchNormGeom::B), y and gx rounded
// to T; statistics and parameter gradients stay float32.
#include "kernels/batch_norm.h"
#include "kernels/lowp.h"

namespace convnet::kernels::ref {

template <class T>
void batch_norm_fwd_train_lowp(const BatchNormGeom& g, const T* x, const float* w, const float* b, double eps, T* y,
                               float* mean, float* var) {
  const int64_t n = g.N * g.C * g.S;
  const std::vector<float> xf = lowp::widened(x, n);
  std::vector<float> yf(static_cast<size_t>(n));
  batch_norm_fwd_train<float>(g, xf.data(), w, b, eps, yf.data(), mean, var);
  lowp::narrow_into(yf.data(), n, y);
}
template <class T>
void batch_norm_fwd_eval_lowp(const BatchNormGeom& g, const T* x, const float* mean, const float* var, const float* w,
                              const float* b, double eps, T* y) {
  const int64_t n = g.N * g.C * g.S;
  const std::vector<float> xf = lowp::widened(x, n);
  std::vector<float> yf(static_cast<size_t>(n));
  batch_norm_fwd_eval<float>(g, xf.data(), mean, var, w, b, eps, yf.data());
  lowp::narrow_into(yf.data(), n, y);
}
template <class T>
void batch_norm_bwd_lowp(const BatchNormGeom& g, const T* x, const T* gy, const float* mean, const float* var,
                         const float* w, double eps, bool batch_stats, T* gx, float* gw, float* gb) {
  const int64_t n = g.N * g.C * g.S;
  const std::vector<float> xf = lowp::widened(x, n), gyf = lowp::widened(gy, n);
  std::vector<float> gxf(gx ? static_cast<size_t>(n) : 0);
  batch_norm_bwd<float>(g, xf.data(), gyf.data(), mean, var, w, eps, batch_stats, gx ? gxf.data() : nullptr, gw, gb);
  if (gx) lowp::narrow_into(gxf.data(), n, gx);
}

#define INSTANTIATE(T)                                                                                                \
  template void batch_norm_fwd_train_lowp<T>(const BatchNormGeom&, const T*, const float*, const float*, double, T*,  \
                                             float*, float*);                                                         \
  template void batch_norm_fwd_eval_lowp<T>(const BatchNormGeom&, const T*, const float*, const float*, const float*, \
                                            const float*, double, T*);                                                \
  template void batch_norm_bwd_lowp<T>(const BatchNormGeom&, const T*, const T*, const float*, const float*,          \
                                       const float*, double, bool, T*, float*, float*);
INSTANTIATE(bf16_t)
INSTANTIATE(f16_t)
#undef INSTANTIATE

}  // namespace convnet::kernels::ref

namespace convnet::kernels {
void register_ref_batch_norm_lowp() {
  keys::batch_norm_fwd_train_bf16.add("ref", 0, &ref::batch_norm_fwd_train_lowp<bf16_t>);
  keys::batch_norm_fwd_eval_bf16.add("ref", 0, &ref::batch_norm_fwd_eval_lowp<bf16_t>);
  keys::batch_norm_bwd_bf16.add("ref", 0, &ref::batch_norm_bwd_lowp<bf16_t>);
  keys::batch_norm_fwd_train_f16.add("ref", 0, &ref::batch_norm_fwd_train_lowp<f16_t>);
  keys::batch_norm_fwd_eval_f16.add("ref", 0, &ref::batch_norm_fwd_eval_lowp<f16_t>);
  keys::batch_norm_bwd_f16.add("ref", 0, &ref::batch_norm_bwd_lowp<f16_t>);
}
}  // namespace convnet::kernels
