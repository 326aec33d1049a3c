// The CUDA variants of the float32 keys served by the backend's own kernels (the .cu file of
// each family, named as its reference twin in src/kernels/ref/): activations, elementwise
// arithmetic, concatenation, vector operations, dropout masks, batch normalization, pooling, cross-entropy, the
// accuracy count and the SGD and Adam steps. Activations are plain row-major on the GPU (no backend layout), so the
// layout fields of the geometries are 0 here.
#include "kernels/elementwise.h"

#include "convnet/core/error.h"
#include "kernels/activation.h"
#include "kernels/batch_norm.h"
#include "kernels/convert.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/runtime.h"
#include "kernels/loss.h"
#include "kernels/optim.h"
#include "kernels/pool2d.h"
#include "kernels/vector.h"

namespace convnet::kernels::cuda {

namespace {

void relu_fwd(int64_t n, float, const float* x, float* y) {
  launch::unary(launch::Unary::relu, n, 0.f, 0.f, x, y, ctx(y).stream);
}
// The reduced-precision relu and add (T = bf16_t, f16_t): float32 math, one rounding.
template <class T>
void relu_fwd_lowp(int64_t n, const T* x, T* y) {
  launch::unary<T>(launch::Unary::relu, n, 0.f, 0.f, x, y, ctx(y).stream);
}
template <class T>
void relu_bwd_lowp(int64_t n, const T* x, const T* gy, T* gx) {
  launch::relu_bwd<T>(n, x, gy, gx, ctx(gx).stream);
}
template <class T>
void add_lowp(int64_t n, const T* a, const T* b, T* y) {
  launch::binary<T>(launch::Binary::add, n, a, b, y, ctx(y).stream);
}
void convert(int64_t n, DType from, const void* x, DType to, void* y) {
  launch::convert(n, from, x, to, y, ctx(y).stream);
}
void relu_bwd(int64_t n, float, const float* x, const float*, const float* gy, float* gx) {
  launch::relu_bwd(n, x, gy, gx, ctx(gx).stream);
}
void relu6_fwd(int64_t n, float, const float* x, float* y) {
  launch::unary(launch::Unary::clip, n, 0.f, 6.f, x, y, ctx(y).stream);
}
void relu6_bwd(int64_t n, float, const float* x, const float*, const float* gy, float* gx) {
  launch::relu6_bwd(n, x, gy, gx, ctx(gx).stream);
}
template <launch::Act op>
void act_fwd(int64_t n, float a, const float* x, float* y) {
  launch::act_fwd(op, n, a, x, y, ctx(y).stream);
}
template <launch::Act op>
void act_bwd(int64_t n, float a, const float* x, const float* y, const float* gy, float* gx) {
  launch::act_bwd(op, n, a, x, y, gy, gx, ctx(gx).stream);
}
void dropout_mask(int64_t n, int64_t group, float p, uint64_t seed, float scale, float* mask) {
  launch::dropout_mask(n, group, p, seed, scale, mask, ctx(mask).stream);
}

// Concatenation along a dimension is a 2-D copy per input: `outer` rows of sizes[i] * inner
// elements, into rows of the total's width (xs and gxs are host arrays of GPU pointers).
template <class T>
void concat_fwd(int64_t outer, int64_t inner, int64_t count, const int64_t* sizes, const T* const* xs, T* y) {
  const Ctx c = ctx(y);
  int64_t total = 0;
  for (int64_t i = 0; i < count; ++i) total += sizes[i];
  int64_t off = 0;
  for (int64_t i = 0; i < count; ++i) {
    const size_t len = static_cast<size_t>(sizes[i] * inner) * sizeof(T);
    if (len > 0 && outer > 0)
      check(cudaMemcpy2DAsync(y + off * inner, static_cast<size_t>(total * inner) * sizeof(T), xs[i], len, len,
                              static_cast<size_t>(outer), cudaMemcpyDeviceToDevice, c.stream),
            "cudaMemcpy2DAsync (concat)");
    off += sizes[i];
  }
}
template <class T>
void concat_bwd(int64_t outer, int64_t inner, int64_t count, const int64_t* sizes, const T* gy, T* const* gxs) {
  const Ctx c = ctx(gy);
  int64_t total = 0;
  for (int64_t i = 0; i < count; ++i) total += sizes[i];
  int64_t off = 0;
  for (int64_t i = 0; i < count; ++i) {
    const size_t len = static_cast<size_t>(sizes[i] * inner) * sizeof(T);
    if (gxs[i] && len > 0 && outer > 0)
      check(cudaMemcpy2DAsync(gxs[i], len, gy + off * inner, static_cast<size_t>(total * inner) * sizeof(T), len,
                              static_cast<size_t>(outer), cudaMemcpyDeviceToDevice, c.stream),
            "cudaMemcpy2DAsync (concat backward)");
    off += sizes[i];
  }
}

// One launch per tensor of the group, as sgd_step.
void adam_step(int64_t count, const int64_t* n, float* const* w, const float* const* g, float* const* m,
               float* const* v, float* const* vmax, const float* neg_step, const float* bc2_sqrt, const AdamArgs& a) {
  const launch::AdamParams p{a.beta1,        a.beta2, a.one_b1,    a.one_b2, a.eps,
                             a.weight_decay, a.decay, a.decoupled, a.use_wd, a.amsgrad};
  for (int64_t t = 0; t < count; ++t)
    launch::adam(n[t], w[t], g[t], m[t], v[t], a.amsgrad ? vmax[t] : nullptr, neg_step[t], bc2_sqrt[t], p,
                 ctx(w[t]).stream);
}

template <launch::Binary op>
void binary(int64_t n, const float* a, const float* b, float* y) {
  launch::binary(op, n, a, b, y, ctx(y).stream);
}
void scale(int64_t n, float s, const float* x, float* y) {
  launch::unary(launch::Unary::scale, n, s, 0.f, x, y, ctx(y).stream);
}
void affine(int64_t n, float a, const float* x, float c, float* y) {
  launch::unary(launch::Unary::affine, n, a, c, x, y, ctx(y).stream);
}
void axpby(int64_t n, float a, float* y, float b, const float* x) {
  launch::axpby(n, a, y, b, x, ctx(y).stream);
}
// y[0] = sum x, on the GPU (y is a one-element tensor there).
void sum(int64_t n, const float* x, float* y) {
  const Ctx c = ctx(y);
  Scratch partial(c, static_cast<size_t>(launch::reduce_partials() + 1) * sizeof(double));
  double* p = static_cast<double*>(partial.get());
  launch::sum(n, x, false, p + 1, p, c.stream);
  launch::double_to_float(p, y, c.stream);
}
// *out (host memory) = sum x*x: the one place the host waits, as it asked for a number.
void sum_squares(int64_t n, const float* x, double* out) {
  const Ctx c = ctx(x);
  Scratch partial(c, static_cast<size_t>(launch::reduce_partials() + 1) * sizeof(double));
  double* p = static_cast<double*>(partial.get());
  launch::sum(n, x, true, p + 1, p, c.stream);
  to_host(c, out, p, sizeof(double));
}
// out[t] (host memory) = sum x[t]^2 for every tensor: one reduction each into a GPU array,
// then one copy to the host (the gradient norm and the loss scaler's overflow check wait
// once per step, not once per parameter).
void sum_squares_many(int64_t count, const int64_t* n, const float* const* x, double* out) {
  int64_t first = 0;  // a tensor with memory (an empty one may have no pointer)
  while (first < count && (!x[first] || n[first] == 0)) out[first++] = 0;
  if (first == count) return;
  const Ctx c = ctx(x[first]);
  Scratch partial(c, static_cast<size_t>(launch::reduce_partials() + count) * sizeof(double));
  double* res = static_cast<double*>(partial.get());
  for (int64_t t = 0; t < count; ++t) launch::sum(x[t] ? n[t] : 0, x[t], true, res + count, res + t, c.stream);
  to_host(c, out, res, static_cast<size_t>(count) * sizeof(double));
}
// *correct (host memory): as sum_squares.
void count_correct(int64_t N, int64_t K, const float* x, const int64_t* labels, int64_t* correct) {
  const Ctx c = ctx(x);
  Scratch r(c, sizeof(int64_t));
  launch::count_correct(N, K, x, labels, static_cast<int64_t*>(r.get()), c.stream);
  to_host(c, correct, r.get(), sizeof(int64_t));
}

void require_plain(int64_t B, const char* key) {
  CONVNET_CHECK(B == 0, key, " on cuda: a channel-blocked tensor (block ", B,
                "); GPU tensors are plain row-major, convert it with .to(Device)");
}
template <class T>
void bn_fwd_train(const BatchNormGeom& g, const T* x, const float* w, const float* b, double eps, T* y, float* mean,
                  float* var) {
  require_plain(g.B, "batch_norm_fwd_train");
  const Ctx c = ctx(x);
  Scratch partial(c, static_cast<size_t>(launch::bn_scratch(g.N, g.C, g.S)) * sizeof(double));
  launch::bn_stats(g.N, g.C, g.S, x, mean, var, static_cast<double*>(partial.get()), c.stream);
  launch::bn_apply(g.N, g.C, g.S, x, mean, var, w, b, eps, y, c.stream);
}
template <class T>
void bn_fwd_eval(const BatchNormGeom& g, const T* x, const float* mean, const float* var, const float* w,
                 const float* b, double eps, T* y) {
  require_plain(g.B, "batch_norm_fwd_eval");
  launch::bn_apply(g.N, g.C, g.S, x, mean, var, w, b, eps, y, ctx(x).stream);
}
template <class T>
void bn_bwd(const BatchNormGeom& g, const T* x, const T* gy, const float* mean, const float* var, const float* w,
            double eps, bool batch_stats, T* gx, float* gw, float* gb) {
  require_plain(g.B, "batch_norm_bwd");
  const Ctx c = ctx(x);
  Scratch partial(c, static_cast<size_t>(launch::bn_scratch(g.N, g.C, g.S)) * sizeof(double));
  launch::bn_bwd(g.N, g.C, g.S, x, gy, mean, var, w, eps, batch_stats, gx, gw, gb, static_cast<double*>(partial.get()),
                 c.stream);
}
void bn_update_stats(int64_t C, double momentum, double unbias, const float* mean, const float* var, float* rm,
                     float* rv) {
  launch::bn_update_stats(C, momentum, unbias, mean, var, rm, rv, ctx(rm).stream);
}

launch::PoolGeom pool_geom(const Pool2dGeom& g, const char* key) {
  require_plain(g.B, key);
  return {g.N, g.C, g.H, g.W, g.KH, g.KW, g.SH, g.SW, g.PH, g.PW, g.DH, g.DW, g.OH, g.OW, g.count_include_pad};
}
template <class T>
void max_pool_fwd(const Pool2dGeom& g, const T* x, T* y, int64_t* argmax) {
  launch::max_pool_fwd(pool_geom(g, "max_pool2d_fwd"), x, y, argmax, ctx(x).stream);
}
template <class T>
void max_pool_bwd(const Pool2dGeom& g, const T* gy, const int64_t* argmax, T* gx) {
  launch::max_pool_bwd(pool_geom(g, "max_pool2d_bwd"), gy, argmax, gx, ctx(gx).stream);
}
template <class T>
void avg_pool_fwd(const Pool2dGeom& g, const T* x, T* y) {
  launch::avg_pool_fwd(pool_geom(g, "avg_pool2d_fwd"), x, y, ctx(x).stream);
}
template <class T>
void avg_pool_bwd(const Pool2dGeom& g, const T* gy, T* gx) {
  launch::avg_pool_bwd(pool_geom(g, "avg_pool2d_bwd"), gy, gx, ctx(gx).stream);
}
template <class T>
void adaptive_avg_fwd(const AdaptivePool2dGeom& g, const T* x, T* y) {
  require_plain(g.B, "adaptive_avg_pool2d_fwd");
  launch::adaptive_avg_pool_fwd(g.N * g.C, g.H, g.W, g.OH, g.OW, x, y, ctx(x).stream);
}
template <class T>
void adaptive_avg_bwd(const AdaptivePool2dGeom& g, const T* gy, T* gx) {
  require_plain(g.B, "adaptive_avg_pool2d_bwd");
  launch::adaptive_avg_pool_bwd(g.N * g.C, g.H, g.W, g.OH, g.OW, gy, gx, ctx(gx).stream);
}

int reduction_code(Reduction r) {
  return r == Reduction::None ? 0 : r == Reduction::Sum ? 1 : 2;
}
void ce_fwd(int64_t N, int64_t K, const float* x, const int64_t* target, float eps, Reduction r, float* loss,
            float* lse) {
  const Ctx c = ctx(x);
  Scratch rows(c, static_cast<size_t>(N) * sizeof(float));
  launch::cross_entropy_fwd(N, K, x, target, eps, reduction_code(r), loss, lse, static_cast<float*>(rows.get()),
                            c.stream);
}
void ce_bwd(int64_t N, int64_t K, const float* x, const int64_t* target, float eps, const float* lse, Reduction r,
            const float* gy, float* gx) {
  launch::cross_entropy_bwd(N, K, x, target, eps, lse, reduction_code(r), gy, gx, ctx(gx).stream);
}

void soft_ce_fwd(int64_t N, int64_t K, const float* x, const float* p, Reduction r, float* loss, float* lse) {
  const Ctx c = ctx(x);
  Scratch rows(c, static_cast<size_t>(N) * sizeof(float));
  launch::soft_cross_entropy_fwd(N, K, x, p, reduction_code(r), loss, lse, static_cast<float*>(rows.get()), c.stream);
}
void soft_ce_bwd(int64_t N, int64_t K, const float* x, const float* p, const float* lse, Reduction r, const float* gy,
                 float* gx, float* gp) {
  const Ctx c = ctx(x);
  Scratch psum(c, static_cast<size_t>(N) * sizeof(float));
  launch::soft_cross_entropy_bwd(N, K, x, p, lse, reduction_code(r), gy, gx, gp, static_cast<float*>(psum.get()),
                                 c.stream);
}

// One launch per tensor of the group: w, g and b are host arrays of GPU pointers.
void sgd_step(int64_t count, const int64_t* n, float* const* w, const float* const* g, float* const* b,
              const uint8_t* first, const SgdArgs& a) {
  for (int64_t t = 0; t < count; ++t)
    launch::sgd(n[t], w[t], g[t], b ? b[t] : nullptr, first[t] != 0, a.neg_lr, a.weight_decay, a.momentum, a.dampening1,
                a.use_wd, a.use_momentum, a.nesterov, ctx(w[t]).stream);
}

// The keys of element type T that these kernels serve in every dtype: pooling.
template <class T>
void register_typed() {
  using K = keys::Pool<T>;
  constexpr auto dev = Device::Type::cuda;
  K::max_fwd->add("cuda", 10, &max_pool_fwd<T>, dev);
  K::max_bwd->add("cuda", 10, &max_pool_bwd<T>, dev);
  K::avg_fwd->add("cuda", 10, &avg_pool_fwd<T>, dev);
  K::avg_bwd->add("cuda", 10, &avg_pool_bwd<T>, dev);
  K::adaptive_avg_fwd->add("cuda", 10, &adaptive_avg_fwd<T>, dev);
  K::adaptive_avg_bwd->add("cuda", 10, &adaptive_avg_bwd<T>, dev);
}
// The reduced-precision keys (T = bf16_t, f16_t) of relu, add, concat and batch norm.
template <class T>
void register_elementwise_lowp() {
  constexpr auto dev = Device::Type::cuda;
  keys::Relu<T>::fwd->add("cuda", 10, &relu_fwd_lowp<T>, dev);
  keys::Relu<T>::bwd->add("cuda", 10, &relu_bwd_lowp<T>, dev);
  keys::Elementwise<T>::add->add("cuda", 10, &add_lowp<T>, dev);
  keys::Elementwise<T>::concat_fwd->add("cuda", 10, &concat_fwd<T>, dev);
  keys::Elementwise<T>::concat_bwd->add("cuda", 10, &concat_bwd<T>, dev);
  keys::BatchNorm<T>::fwd_train->add("cuda", 10, &bn_fwd_train<T>, dev);
  keys::BatchNorm<T>::fwd_eval->add("cuda", 10, &bn_fwd_eval<T>, dev);
  keys::BatchNorm<T>::bwd->add("cuda", 10, &bn_bwd<T>, dev);
}

}  // namespace
}  // namespace convnet::kernels::cuda

namespace convnet::kernels {
void register_cuda_elementwise() {
  using namespace cuda;
  constexpr auto dev = Device::Type::cuda;
  keys::relu_fwd.add("cuda", 10, &relu_fwd, dev);
  keys::relu_bwd.add("cuda", 10, &relu_bwd, dev);
  keys::relu6_fwd.add("cuda", 10, &relu6_fwd, dev);
  keys::relu6_bwd.add("cuda", 10, &relu6_bwd, dev);
  keys::leaky_relu_fwd.add("cuda", 10, &act_fwd<launch::Act::leaky_relu>, dev);
  keys::leaky_relu_bwd.add("cuda", 10, &act_bwd<launch::Act::leaky_relu>, dev);
  keys::tanh_fwd.add("cuda", 10, &act_fwd<launch::Act::tanh>, dev);
  keys::tanh_bwd.add("cuda", 10, &act_bwd<launch::Act::tanh>, dev);
  keys::sigmoid_fwd.add("cuda", 10, &act_fwd<launch::Act::sigmoid>, dev);
  keys::sigmoid_bwd.add("cuda", 10, &act_bwd<launch::Act::sigmoid>, dev);
  keys::dropout_mask.add("cuda", 10, &dropout_mask, dev);
  keys::concat_fwd.add("cuda", 10, &concat_fwd<float>, dev);
  keys::concat_bwd.add("cuda", 10, &concat_bwd<float>, dev);
  keys::adam_step.add("cuda", 10, &adam_step, dev);
  keys::add.add("cuda", 10, &binary<launch::Binary::add>, dev);
  keys::sub.add("cuda", 10, &binary<launch::Binary::sub>, dev);
  keys::mul.add("cuda", 10, &binary<launch::Binary::mul>, dev);
  keys::scale.add("cuda", 10, &scale, dev);
  keys::sum.add("cuda", 10, &sum, dev);
  keys::affine.add("cuda", 10, &affine, dev);
  keys::axpby.add("cuda", 10, &axpby, dev);
  keys::sum_squares.add("cuda", 10, &sum_squares, dev);
  keys::sum_squares_many.add("cuda", 10, &sum_squares_many, dev);
  keys::count_correct.add("cuda", 10, &count_correct, dev);
  keys::batch_norm_fwd_train.add("cuda", 10, &bn_fwd_train<float>, dev);
  keys::batch_norm_fwd_eval.add("cuda", 10, &bn_fwd_eval<float>, dev);
  keys::batch_norm_bwd.add("cuda", 10, &bn_bwd<float>, dev);
  keys::batch_norm_update_stats.add("cuda", 10, &bn_update_stats, dev);
  keys::convert.add("cuda", 10, &convert, dev);
  register_typed<float>();
  register_typed<bf16_t>();
  register_typed<f16_t>();
  register_elementwise_lowp<bf16_t>();
  register_elementwise_lowp<f16_t>();
  keys::cross_entropy_fwd.add("cuda", 10, &ce_fwd, dev);
  keys::cross_entropy_bwd.add("cuda", 10, &ce_bwd, dev);
  keys::soft_cross_entropy_fwd.add("cuda", 10, &soft_ce_fwd, dev);
  keys::soft_cross_entropy_bwd.add("cuda", 10, &soft_ce_bwd, dev);
  keys::sgd_step.add("cuda", 10, &sgd_step, dev);
}
}  // namespace convnet::kernels
