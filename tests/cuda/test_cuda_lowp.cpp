// The CUDA backend's reduced-precision kernels (bfloat16 and float16: conversion, relu, add,
// concat, batch norm, pooling, convolution and linear) against their reference twins
// (src/kernels/ref/*_lowp.cpp, convert.cpp), over grids like the CPU's
// (tests/unit/test_lowp_kernels.cpp). Skipped, with the driver's reason, without a GPU.
//
// Tolerances (the twins compute in float32 or double and round the output to T once):
//   conversion, relu, add, concat, max pooling: bit for bit (the same float32 operation and
//     the same rounding, elem.cuh);
//   batch norm, average pooling, pooling backward: one T step, 2^-7 (bfloat16) / 2^-10
//     (float16) relative, plus 1e-3 of the tensor's scale (summation order);
//   convolution outputs: two T steps plus 2e-3 of the scale: cuDNN writes the product in T
//     and the bias (and post-ops) epilogue rounds again (kernels/cuda/conv2d_cudnn.cpp);
//   convolution weight gradients: one T step plus 2e-3 of the scale (cuDNN computes them
//     in T; the twin in float32);
//   linear outputs: one T step plus 2e-3 of the scale (float32 accumulation, one rounding);
//   float32 outputs (statistics, linear weight gradients, bias gradients): 1e-3 of the scale.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "convnet/core/tensor.h"
#include "core/cuda_backend.h"
#include "kernels/activation.h"
#include "kernels/batch_norm.h"
#include "kernels/conv2d.h"
#include "kernels/convert.h"
#include "kernels/elementwise.h"
#include "kernels/linear.h"
#include "kernels/lowp.h"
#include "kernels/pool2d.h"
#include "util/variants.h"

namespace convnet {
namespace {

using testing::reference;
using testing::rnd;
constexpr auto kGpu = Device::Type::cuda;

class CudaLowp : public ::testing::Test {
 protected:
  void SetUp() override {
    if (cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device: " << cuda_backend::no_device_reason();
  }
};

template <class T>
constexpr DType dtype_of() {
  if constexpr (std::is_same_v<T, bf16_t>) return DType::bfloat16;
  if constexpr (std::is_same_v<T, f16_t>) return DType::float16;
  if constexpr (std::is_same_v<T, float>) return DType::float32;
  if constexpr (std::is_same_v<T, int64_t>) return DType::int64;
}
// One step of T, relative.
template <class T>
constexpr double step() {
  return std::is_same_v<T, bf16_t> ? 1.0 / 128 : 1.0 / 1024;
}
template <class T>
std::string name_of() {
  return dtype_name(dtype_of<T>());
}

// n values of T: random in [-scale, scale), rounded.
template <class T>
std::vector<T> rnd_t(int64_t n, uint64_t seed, float scale = 1.f) {
  const auto f = rnd(static_cast<size_t>(n), seed, scale);
  std::vector<T> v(f.size());
  for (size_t i = 0; i < f.size(); ++i) v[i] = kernels::lowp::narrow<T>(f[i]);
  return v;
}
template <class T>
Tensor up(const std::vector<T>& v) {
  Tensor h = Tensor::empty({std::max<int64_t>(1, static_cast<int64_t>(v.size()))}, dtype_of<T>());
  std::copy(v.begin(), v.end(), h.data_as<T>());
  return h.to(Device::cuda());
}
template <class T>
Tensor gpu(int64_t n) {
  return Tensor::empty({std::max<int64_t>(n, 1)}, dtype_of<T>(), Device::cuda());
}
template <class T>
std::vector<T> down(const Tensor& t, int64_t n) {
  const Tensor h = t.to(Device::cpu());
  return std::vector<T>(h.data_as<T>(), h.data_as<T>() + n);
}
template <class T>
T* p(Tensor& t) {
  return t.stored_as<T>();
}
template <class T>
std::vector<double> wide(const std::vector<T>& v) {
  std::vector<double> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = kernels::lowp::widen(v[i]);
  return out;
}
double scale_of(const std::vector<double>& v) {
  double m = 0;
  for (double x : v)
    if (std::isfinite(x)) m = std::max(m, std::abs(x));
  return m;
}
// Bit for bit; NaN for NaN (payloads may differ).
template <class T>
::testing::AssertionResult same(const std::vector<T>& a, const std::vector<T>& e) {
  return testing::same_bits(a, e);
}
// |a - e| <= steps * step<T>() |e| + frac * max|e|.
template <class T>
::testing::AssertionResult near(const std::vector<T>& a, const std::vector<T>& e, double steps, double frac = 1e-3) {
  const auto ad = wide(a), ed = wide(e);
  return testing::all_close(ad, ed, steps * step<T>(), frac * scale_of(ed) + 1e-30);
}
::testing::AssertionResult near_f32(const std::vector<float>& a, const std::vector<float>& e, double rtol,
                                    double frac) {
  const std::vector<double> ad(a.begin(), a.end()), ed(e.begin(), e.end());
  return testing::all_close(ad, ed, rtol, frac * scale_of(ed) + 1e-30);
}

template <class Fn>
Fn* cuda_of(const kernels::Kernel<Fn>& key) {
  EXPECT_EQ(key.selected_backend(kGpu), "cuda") << key.name();
  return key.get(kGpu);
}

template <class T>
void conversions_relu_add_concat() {
  using namespace kernels;
  SCOPED_TRACE(name_of<T>());
  for (int64_t n : testing::kLengths) {
    SCOPED_TRACE("n = " + std::to_string(n));
    // float32 -> T across the range, with the edges of rounding: ties, NaNs, infinities, the
    // overflow threshold, subnormals of both.
    auto f = rnd(static_cast<size_t>(n), 900 + n, 70000.f);
    const float specials[] = {0.f,   -0.f,    INFINITY,        -INFINITY,       NAN,     65519.f, 65520.f,
                              1e-8f, -3e-39f, 1.f + 1.f / 256, 1.f + 3.f / 256, 6.1e-5f, 5.9e-8f};
    for (size_t i = 0; i < std::size(specials) && i < f.size(); ++i) f[i] = specials[i];
    std::vector<T> e(n);
    ref::convert(n, DType::float32, f.data(), dtype_of<T>(), e.data());
    Tensor df = up(f), dt = gpu<T>(n), dback = gpu<float>(n);
    cuda_of(keys::convert)(n, DType::float32, p<float>(df), dtype_of<T>(), p<T>(dt));
    EXPECT_TRUE(same(down<T>(dt, n), e));
    std::vector<float> back(n);
    ref::convert(n, dtype_of<T>(), e.data(), DType::float32, back.data());
    cuda_of(keys::convert)(n, dtype_of<T>(), p<T>(dt), DType::float32, p<float>(dback));
    EXPECT_TRUE(testing::close_nan(down<float>(dback, n), back));
    // int64 labels to T and T to int64 (truncation).
    std::vector<int64_t> ints(n);
    for (int64_t i = 0; i < n; ++i) ints[i] = (i * 7919) % 5000 - 2500;
    Tensor di = up(ints), dti = gpu<T>(n), dint = gpu<int64_t>(n);
    ref::convert(n, DType::int64, ints.data(), dtype_of<T>(), e.data());
    cuda_of(keys::convert)(n, DType::int64, p<int64_t>(di), dtype_of<T>(), p<T>(dti));
    EXPECT_TRUE(same(down<T>(dti, n), e));
    std::vector<int64_t> ie(n);
    ref::convert(n, dtype_of<T>(), e.data(), DType::int64, ie.data());
    cuda_of(keys::convert)(n, dtype_of<T>(), p<T>(dti), DType::int64, p<int64_t>(dint));
    EXPECT_EQ(down<int64_t>(dint, n), ie);

    // relu forward and backward, add (also in place): bit for bit.
    auto x = rnd_t<T>(n, 1 + n), g = rnd_t<T>(n, 2 + n), b = rnd_t<T>(n, 3 + n, 4.f);
    const uint16_t bits[] = {0x0000, 0x8000, 0x7c00, 0xfc00, 0x7e00, 0x7f80, 0xff80, 0x0001, 0x8001};
    for (size_t i = 0; i < std::size(bits) && i < static_cast<size_t>(n); ++i) x[i].bits = b[i].bits = bits[i];
    Tensor dx = up(x), dg = up(g), db = up(b), dy = gpu<T>(n);
    std::vector<T> y(n);
    reference (*keys::Relu<T>::fwd)(n, x.data(), y.data());
    cuda_of (*keys::Relu<T>::fwd)(n, p<T>(dx), p<T>(dy));
    EXPECT_TRUE(same(down<T>(dy, n), y));
    reference (*keys::Relu<T>::bwd)(n, x.data(), g.data(), y.data());
    cuda_of (*keys::Relu<T>::bwd)(n, p<T>(dx), p<T>(dg), p<T>(dy));
    EXPECT_TRUE(same(down<T>(dy, n), y));
    reference (*keys::Elementwise<T>::add)(n, x.data(), b.data(), y.data());
    cuda_of (*keys::Elementwise<T>::add)(n, p<T>(dx), p<T>(db), p<T>(dy));
    EXPECT_TRUE(same(down<T>(dy, n), y));
    cuda_of (*keys::Elementwise<T>::add)(n, p<T>(dx), p<T>(db), p<T>(dx));  // in place (gradient accumulation)
    EXPECT_TRUE(same(down<T>(dx, n), y));
  }
  // Concatenation of three (2, c_i, 5) inputs along dim 1, and back: the bits.
  const std::vector<int64_t> sizes = {3, 1, 4};
  const int64_t outer = 2, inner = 5, total = 8;
  std::vector<std::vector<T>> xs;
  std::vector<Tensor> dxs, dgxs;
  std::vector<const T*> xp, dxp;
  for (size_t i = 0; i < sizes.size(); ++i) {
    xs.push_back(rnd_t<T>(outer * sizes[i] * inner, 800 + i));
    dxs.push_back(up(xs[i]));
    dgxs.push_back(gpu<T>(outer * sizes[i] * inner));
  }
  for (size_t i = 0; i < sizes.size(); ++i) xp.push_back(xs[i].data()), dxp.push_back(p<T>(dxs[i]));
  std::vector<T> y(outer * total * inner);
  reference (*keys::Elementwise<T>::concat_fwd)(outer, inner, 3, sizes.data(), xp.data(), y.data());
  Tensor dy = gpu<T>(outer * total * inner);
  cuda_of (*keys::Elementwise<T>::concat_fwd)(outer, inner, 3, sizes.data(), dxp.data(), p<T>(dy));
  EXPECT_TRUE(same(down<T>(dy, outer * total * inner), y));
  std::vector<T*> dgp = {p<T>(dgxs[0]), nullptr, p<T>(dgxs[2])};
  cuda_of (*keys::Elementwise<T>::concat_bwd)(outer, inner, 3, sizes.data(), p<T>(dy), dgp.data());
  EXPECT_TRUE(same(down<T>(dgxs[0], outer * 3 * inner), xs[0]));
  EXPECT_TRUE(same(down<T>(dgxs[2], outer * 4 * inner), xs[2]));
}

TEST_F(CudaLowp, ConversionReluAddAndConcatAreBitForBit) {
  conversions_relu_add_concat<bf16_t>();
  conversions_relu_add_concat<f16_t>();
}

template <class T>
void batch_norm_and_pooling() {
  using namespace kernels;
  SCOPED_TRACE(name_of<T>());
  using BN = keys::BatchNorm<T>;
  int seed = 1000;
  for (const BatchNormGeom g :
       {BatchNormGeom{1, 1, 2}, BatchNormGeom{4, 3, 25}, BatchNormGeom{32, 16, 1}, BatchNormGeom{2, 64, 49},
        BatchNormGeom{64, 8, 256}, BatchNormGeom{3, 5, 10007}}) {  // 4 uneven chunks per channel
    SCOPED_TRACE(::testing::Message() << "N" << g.N << " C" << g.C << " S" << g.S);
    const int64_t n = g.N * g.C * g.S;
    const auto x = rnd_t<T>(n, ++seed, 3.f), gy = rnd_t<T>(n, ++seed);
    const auto w = rnd(g.C, ++seed), b = rnd(g.C, ++seed);
    std::vector<T> y(n), gx(n);
    std::vector<float> mean(g.C), var(g.C), gw(g.C), gb(g.C);
    reference (*BN::fwd_train)(g, x.data(), w.data(), b.data(), 1e-5, y.data(), mean.data(), var.data());
    Tensor dx = up(x), dgy = up(gy), dw = up(w), db = up(b), dy = gpu<T>(n), dm = gpu<float>(g.C), dv = gpu<float>(g.C);
    cuda_of (*BN::fwd_train)(g, p<T>(dx), p<float>(dw), p<float>(db), 1e-5, p<T>(dy), p<float>(dm), p<float>(dv));
    EXPECT_TRUE(near(down<T>(dy, n), y, 1));
    EXPECT_TRUE(near_f32(down<float>(dm, g.C), mean, 1e-5, 1e-5));
    EXPECT_TRUE(near_f32(down<float>(dv, g.C), var, 1e-5, 1e-5));
    for (bool batch_stats : {true, false}) {
      reference (*BN::bwd)(g, x.data(), gy.data(), mean.data(), var.data(), w.data(), 1e-5, batch_stats, gx.data(),
                           gw.data(), gb.data());
      Tensor dgx = gpu<T>(n), dgw = gpu<float>(g.C), dgb = gpu<float>(g.C);
      cuda_of (*BN::bwd)(g, p<T>(dx), p<T>(dgy), p<float>(dm), p<float>(dv), p<float>(dw), 1e-5, batch_stats, p<T>(dgx),
                         p<float>(dgw), p<float>(dgb));
      EXPECT_TRUE(near(down<T>(dgx, n), gx, 1)) << "batch_stats " << batch_stats;
      EXPECT_TRUE(near_f32(down<float>(dgw, g.C), gw, 1e-4, 1e-3));
      EXPECT_TRUE(near_f32(down<float>(dgb, g.C), gb, 1e-4, 1e-3));
    }
    reference (*BN::fwd_eval)(g, x.data(), mean.data(), var.data(), w.data(), b.data(), 1e-5, y.data());
    cuda_of (*BN::fwd_eval)(g, p<T>(dx), p<float>(dm), p<float>(dv), p<float>(dw), p<float>(db), 1e-5, p<T>(dy));
    EXPECT_TRUE(near(down<T>(dy, n), y, 1));
  }

  using P = keys::Pool<T>;
  struct Case {
    int64_t N, C, H, W, K, S, P, D;
    bool include_pad;
  };
  for (const Case& c : {Case{1, 1, 4, 4, 2, 2, 0, 1, true}, Case{2, 3, 7, 9, 3, 2, 1, 1, false},
                        Case{1, 4, 8, 8, 3, 1, 1, 2, true}, Case{4, 16, 32, 32, 3, 2, 1, 1, false}}) {
    Pool2dGeom g{};
    g.N = c.N, g.C = c.C, g.H = c.H, g.W = c.W, g.KH = g.KW = c.K, g.SH = g.SW = c.S, g.PH = g.PW = c.P;
    g.DH = g.DW = c.D, g.count_include_pad = c.include_pad;
    g.OH = (g.H + 2 * c.P - c.D * (c.K - 1) - 1) / c.S + 1;
    g.OW = (g.W + 2 * c.P - c.D * (c.K - 1) - 1) / c.S + 1;
    SCOPED_TRACE(::testing::Message() << c.H << "x" << c.W << " k" << c.K << " s" << c.S << " p" << c.P << " d" << c.D);
    const int64_t nx = g.N * g.C * g.H * g.W, ny = g.N * g.C * g.OH * g.OW;
    auto x = rnd_t<T>(nx, ++seed);
    x[0] = x[1];  // a tie: the first maximum wins on both
    const auto gy = rnd_t<T>(ny, ++seed);
    std::vector<T> y(ny), gx(nx);
    std::vector<int64_t> am(ny);
    reference (*P::max_fwd)(g, x.data(), y.data(), am.data());
    Tensor dx = up(x), dgy = up(gy), dy = gpu<T>(ny), dgx = gpu<T>(nx), dam = gpu<int64_t>(ny);
    cuda_of (*P::max_fwd)(g, p<T>(dx), p<T>(dy), p<int64_t>(dam));
    EXPECT_TRUE(same(down<T>(dy, ny), y));
    EXPECT_EQ(down<int64_t>(dam, ny), am);
    reference (*P::max_bwd)(g, gy.data(), am.data(), gx.data());
    cuda_of (*P::max_bwd)(g, p<T>(dgy), p<int64_t>(dam), p<T>(dgx));
    EXPECT_TRUE(near(down<T>(dgx, nx), gx, 1));
    if (c.D == 1) {  // average pooling has no dilation
      reference (*P::avg_fwd)(g, x.data(), y.data());
      cuda_of (*P::avg_fwd)(g, p<T>(dx), p<T>(dy));
      EXPECT_TRUE(near(down<T>(dy, ny), y, 1));
      reference (*P::avg_bwd)(g, gy.data(), gx.data());
      cuda_of (*P::avg_bwd)(g, p<T>(dgy), p<T>(dgx));
      EXPECT_TRUE(near(down<T>(dgx, nx), gx, 1));
    }
    const AdaptivePool2dGeom ag{g.N, g.C, g.H, g.W, 3, 2};
    const int64_t na = g.N * g.C * 3 * 2;
    std::vector<T> ya(na);
    reference (*P::adaptive_avg_fwd)(ag, x.data(), ya.data());
    Tensor dya = gpu<T>(na);
    cuda_of (*P::adaptive_avg_fwd)(ag, p<T>(dx), p<T>(dya));
    EXPECT_TRUE(near(down<T>(dya, na), ya, 1));
    const auto gya = rnd_t<T>(na, ++seed);
    Tensor dgya = up(gya);
    reference (*P::adaptive_avg_bwd)(ag, gya.data(), gx.data());
    cuda_of (*P::adaptive_avg_bwd)(ag, p<T>(dgya), p<T>(dgx));
    EXPECT_TRUE(near(down<T>(dgx, nx), gx, 1));
  }
}

TEST_F(CudaLowp, BatchNormAndPoolingMatchTheReference) {
  batch_norm_and_pooling<bf16_t>();
  batch_norm_and_pooling<f16_t>();
}

template <class T>
void conv_and_linear() {
  using namespace kernels;
  SCOPED_TRACE(name_of<T>());
  using K = keys::Conv2d<T>;
  struct Case {
    int64_t N, C, H, W, OC, K, S, P, D, G;
  };
  const std::vector<Case> cases = {
      {1, 1, 5, 5, 1, 3, 1, 0, 1, 1},    {2, 3, 8, 7, 4, 3, 1, 1, 1, 1},    {2, 4, 9, 9, 6, 3, 2, 1, 1, 2},
      {3, 8, 10, 10, 8, 3, 1, 1, 1, 8},  {1, 16, 7, 7, 32, 1, 1, 0, 1, 1},  {1, 4, 11, 11, 4, 3, 1, 2, 2, 1},
      {8, 64, 4, 4, 128, 3, 1, 1, 1, 1}, {4, 32, 8, 8, 32, 3, 2, 1, 1, 32},
  };
  int seed = 2000;
  for (const Case& c : cases) {
    Conv2dGeom g{};
    g.N = c.N, g.C = c.C, g.H = c.H, g.W = c.W, g.OC = c.OC, g.KH = g.KW = c.K, g.SH = g.SW = c.S, g.PH = g.PW = c.P;
    g.DH = g.DW = c.D, g.G = c.G;
    g.OH = (g.H + 2 * g.PH - g.DH * (g.KH - 1) - 1) / g.SH + 1;
    g.OW = (g.W + 2 * g.PW - g.DW * (g.KW - 1) - 1) / g.SW + 1;
    SCOPED_TRACE(::testing::Message() << "N" << c.N << " C" << c.C << " " << c.H << "x" << c.W << " OC" << c.OC << " k"
                                      << c.K << " s" << c.S << " p" << c.P << " d" << c.D << " g" << c.G);
    const int64_t nx = g.N * g.C * g.H * g.W, nw = g.OC * (g.C / g.G) * g.KH * g.KW, ny = g.N * g.OC * g.OH * g.OW;
    const auto x = rnd_t<T>(nx, ++seed), gy = rnd_t<T>(ny, ++seed);
    const auto w = rnd(nw, ++seed, 0.5f), b = rnd(g.OC, ++seed);
    std::vector<T> y(ny), gx(nx);
    std::vector<float> gw(nw), gb(g.OC);
    Tensor dx = up(x), dgy = up(gy), dw = up(w), db = up(b), dy = gpu<T>(ny), dgx = gpu<T>(nx), dgw = gpu<float>(nw),
           dgb = gpu<float>(g.OC);
    // Without a bias: cuDNN's output, one rounding.
    reference (*K::fwd)(g, x.data(), 0, w.data(), nullptr, y.data(), 0);
    cuda_of (*K::fwd)(g, p<T>(dx), 0, p<float>(dw), nullptr, p<T>(dy), 0);
    EXPECT_TRUE(near(down<T>(dy, ny), y, 1, 2e-3)) << "no bias";
    reference (*K::fwd)(g, x.data(), 0, w.data(), b.data(), y.data(), 0);
    cuda_of (*K::fwd)(g, p<T>(dx), 0, p<float>(dw), p<float>(db), p<T>(dy), 0);
    EXPECT_TRUE(near(down<T>(dy, ny), y, 2, 2e-3)) << "bias";
    reference (*K::bwd_data)(g, gy.data(), 0, w.data(), gx.data(), 0);
    cuda_of (*K::bwd_data)(g, p<T>(dgy), 0, p<float>(dw), p<T>(dgx), 0);
    EXPECT_TRUE(near(down<T>(dgx, nx), gx, 1, 2e-3));
    reference (*K::bwd_weight)(g, x.data(), 0, gy.data(), 0, gw.data(), gb.data());
    cuda_of (*K::bwd_weight)(g, p<T>(dx), 0, p<T>(dgy), 0, p<float>(dgw), p<float>(dgb));
    EXPECT_TRUE(near_f32(down<float>(dgw, nw), gw, step<T>(), 2e-3));
    EXPECT_TRUE(near_f32(down<float>(dgb, g.OC), gb, 1e-4, 1e-3));
    EXPECT_EQ(cuda_of(*K::layout)(g), nullptr);  // GPU activations stay plain
    // The inference post-ops: relu(conv + b + residual), and a clip.
    Conv2dGeom gp = g;
    gp.post.sum = true, gp.post.act = ConvPostOps::kRelu;
    const auto res = rnd_t<T>(ny, ++seed);
    std::vector<T> yp = res;
    reference (*K::fwd)(gp, x.data(), 0, w.data(), b.data(), yp.data(), 0);
    Tensor dyp = up(res);
    cuda_of (*K::fwd)(gp, p<T>(dx), 0, p<float>(dw), p<float>(db), p<T>(dyp), 0);
    EXPECT_TRUE(near(down<T>(dyp, ny), yp, 2, 2e-3)) << "sum + relu";
    gp.post = {};
    gp.post.act = ConvPostOps::kClip, gp.post.lo = 0.f, gp.post.hi = 0.5f;
    reference (*K::fwd)(gp, x.data(), 0, w.data(), b.data(), yp.data(), 0);
    cuda_of (*K::fwd)(gp, p<T>(dx), 0, p<float>(dw), p<float>(db), p<T>(dyp), 0);
    EXPECT_TRUE(near(down<T>(dyp, ny), yp, 2, 2e-3)) << "clip";
  }

  using L = keys::Linear<T>;
  struct LCase {
    int64_t M, IN, OUT;
    bool bias;
  };
  for (const LCase& c : {LCase{1, 1, 1, true}, LCase{3, 17, 5, false}, LCase{64, 512, 10, true},
                         LCase{128, 96, 1000, true}, LCase{7, 0, 4, true}}) {
    SCOPED_TRACE(::testing::Message() << "linear M" << c.M << " IN" << c.IN << " OUT" << c.OUT << " bias " << c.bias);
    const auto x = rnd_t<T>(c.M * c.IN, ++seed), gy = rnd_t<T>(c.M * c.OUT, ++seed);
    const auto w = rnd(c.OUT * c.IN, ++seed, 0.2f), b = rnd(c.OUT, ++seed);
    std::vector<T> y(c.M * c.OUT), gx(c.M * c.IN);
    std::vector<float> gw(c.OUT * c.IN), gb(c.OUT);
    Tensor dx = up(x), dgy = up(gy), dw = up(w), db = up(b), dy = gpu<T>(c.M * c.OUT), dgx = gpu<T>(c.M * c.IN),
           dgw = gpu<float>(c.OUT * c.IN), dgb = gpu<float>(c.OUT);
    reference (*L::fwd)(c.M, c.IN, c.OUT, x.data(), w.data(), c.bias ? b.data() : nullptr, y.data());
    cuda_of (*L::fwd)(c.M, c.IN, c.OUT, p<T>(dx), p<float>(dw), c.bias ? p<float>(db) : nullptr, p<T>(dy));
    EXPECT_TRUE(near(down<T>(dy, c.M * c.OUT), y, 1, 2e-3));
    reference (*L::bwd)(c.M, c.IN, c.OUT, x.data(), w.data(), gy.data(), gx.data(), gw.data(), gb.data());
    cuda_of (*L::bwd)(c.M, c.IN, c.OUT, p<T>(dx), p<float>(dw), p<T>(dgy), p<T>(dgx), p<float>(dgw), p<float>(dgb));
    EXPECT_TRUE(near(down<T>(dgx, c.M * c.IN), gx, 1, 2e-3));
    EXPECT_TRUE(near_f32(down<float>(dgw, c.OUT * c.IN), gw, 1e-4, 1e-3));
    EXPECT_TRUE(near_f32(down<float>(dgb, c.OUT), gb, 1e-4, 1e-3));
  }
}

TEST_F(CudaLowp, ConvolutionAndLinearMatchTheReferenceOverAGrid) {
  conv_and_linear<bf16_t>();
  conv_and_linear<f16_t>();
}

}  // namespace
}  // namespace convnet
