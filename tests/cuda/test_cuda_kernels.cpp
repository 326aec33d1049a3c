// The CUDA backend's kernels against their reference twins (src/kernels/ref/), over grids of
// configurations like the CPU kernels' (tests/unit/test_kernel_variants.cpp). Inputs are made
// on the host, run through the reference there and through the CUDA variant on the GPU; the
// outputs come back and are compared. Skipped, with the driver's reason, where no GPU is
// found (CI and the development machines build the backend without one);
// scripts/gpu_check.sh runs them on a GPU and refuses the skip.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "convnet/core/tensor.h"
#include "core/cuda_backend.h"
#include "kernels/activation.h"
#include "kernels/batch_norm.h"
#include "kernels/conv2d.h"
#include "kernels/elementwise.h"
#include "kernels/gemm.h"
#include "kernels/loss.h"
#include "kernels/optim.h"
#include "kernels/pool2d.h"
#include "kernels/vector.h"
#include "util/variants.h"

namespace convnet {
namespace {

using testing::close;
using testing::rnd;
constexpr auto kGpu = Device::Type::cuda;

class CudaKernels : public ::testing::Test {
 protected:
  void SetUp() override {
    if (cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device: " << cuda_backend::no_device_reason();
  }
};

// A float buffer on the GPU holding `v`, and back.
Tensor up(const std::vector<float>& v) {
  return Tensor::from_vector({static_cast<int64_t>(v.size())}, v).to(Device::cuda());
}
Tensor up64(const std::vector<int64_t>& v) {
  Tensor h = Tensor::empty({static_cast<int64_t>(v.size())}, DType::int64);
  std::copy(v.begin(), v.end(), h.data_as<int64_t>());
  return h.to(Device::cuda());
}
Tensor gpu(int64_t n, DType t = DType::float32) {
  return Tensor::empty({std::max<int64_t>(n, 1)}, t, Device::cuda());
}
std::vector<float> down(const Tensor& t) {
  return t.to_vector();
}
std::vector<int64_t> down64(const Tensor& t) {
  const Tensor h = t.to(Device::cpu());
  return std::vector<int64_t>(h.data_as<int64_t>(), h.data_as<int64_t>() + h.numel());
}
float* p(Tensor& t) {
  return t.raw_data();
}

// The CUDA variant of a key, checked to be the one selected for GPU pointers.
template <class Fn>
Fn* cuda_of(const kernels::Kernel<Fn>& key) {
  EXPECT_EQ(key.selected_backend(kGpu), "cuda") << key.name();
  return key.get(kGpu);
}

TEST_F(CudaKernels, ElementwiseAndVectorOpsMatchTheReference) {
  using namespace kernels;
  for (int64_t n : testing::kLengths) {
    SCOPED_TRACE("n = " + std::to_string(n));
    const auto a = rnd(n, 1), b = rnd(n, 2);
    Tensor da = up(a), db = up(b), dy = gpu(n), dg = gpu(n);
    std::vector<float> y(n), gx(n);
    ref::relu_fwd<float>(n, 0.f, a.data(), y.data());
    cuda_of(keys::relu_fwd)(n, 0.f, p(da), p(dy));
    EXPECT_TRUE(close(down(dy), y, 0, 0));
    ref::relu_bwd<float>(n, 0.f, a.data(), y.data(), b.data(), gx.data());
    cuda_of(keys::relu_bwd)(n, 0.f, p(da), p(dy), p(db), p(dg));
    EXPECT_TRUE(close(down(dg), gx, 0, 0));
    std::vector<float> a6 = a;
    for (auto& v : a6) v *= 8.f;  // across both kinks of relu6
    a6[0] = 0.f, a6[n > 1 ? 1 : 0] = 6.f;
    Tensor da6 = up(a6);
    ref::relu6_fwd<float>(n, 0.f, a6.data(), y.data());
    cuda_of(keys::relu6_fwd)(n, 0.f, p(da6), p(dy));
    EXPECT_TRUE(close(down(dy), y, 0, 0));
    ref::relu6_bwd<float>(n, 0.f, a6.data(), y.data(), b.data(), gx.data());
    cuda_of(keys::relu6_bwd)(n, 0.f, p(da6), p(dy), p(db), p(dg));
    EXPECT_TRUE(close(down(dg), gx, 0, 0));
    for (auto* key : {&keys::add, &keys::sub, &keys::mul}) {
      key->get()(n, a.data(), b.data(), y.data());  // the CPU's selected kernel: exact here
      cuda_of (*key)(n, p(da), p(db), p(dy));
      EXPECT_TRUE(close(down(dy), y, 0, 0)) << key->name();
    }
    keys::scale.get()(n, 0.37f, a.data(), y.data());
    cuda_of(keys::scale)(n, 0.37f, p(da), p(dy));
    EXPECT_TRUE(close(down(dy), y, 0, 0));
    ref::affine(n, -1.5f, a.data(), 0.25f, y.data());
    cuda_of(keys::affine)(n, -1.5f, p(da), 0.25f, p(dy));
    EXPECT_TRUE(close(down(dy), y, 1e-6, 1e-6));
    std::vector<float> yy = b;
    ref::axpby(n, 0.9f, yy.data(), 0.1f, a.data());
    Tensor dyy = up(b);
    cuda_of(keys::axpby)(n, 0.9f, p(dyy), 0.1f, p(da));
    EXPECT_TRUE(close(down(dyy), yy, 1e-6, 1e-6));
    float s_ref = 0;
    ref::sum<float>(n, a.data(), &s_ref);
    Tensor ds = gpu(1);
    cuda_of(keys::sum)(n, p(da), p(ds));
    EXPECT_NEAR(down(ds)[0], s_ref, 1e-5 * (1 + std::abs(s_ref)));
    double sq_ref = 0, sq = 0;
    ref::sum_squares(n, a.data(), &sq_ref);
    cuda_of(keys::sum_squares)(n, p(da), &sq);  // a host output: the host waits for it
    EXPECT_NEAR(sq, sq_ref, 1e-9 * (1 + sq_ref));
    // Several tensors, one wait: a, b and the first half of a.
    const int64_t ns[] = {n, n, n / 2};
    const float* hs[] = {a.data(), b.data(), a.data()};
    const float* dsq[] = {p(da), p(db), p(da)};
    double many_ref[3], many[3] = {-1, -1, -1};
    ref::sum_squares_many(3, ns, hs, many_ref);
    {
      kernels::DeviceScope scope(kGpu);  // host arrays of GPU pointers: the scope says the device
      keys::sum_squares_many(3, ns, dsq, many);
    }
    EXPECT_EQ(keys::sum_squares_many.selected_backend(kGpu), "cuda");
    for (int t = 0; t < 3; ++t) EXPECT_NEAR(many[t], many_ref[t], 1e-9 * (1 + many_ref[t])) << "tensor " << t;
  }
}

TEST_F(CudaKernels, Conv2dMatchesTheReferenceOverAGrid) {
  using namespace kernels;
  struct Case {
    int64_t N, C, H, W, OC, K, S, P, D, G;
  };
  const std::vector<Case> cases = {
      {1, 1, 5, 5, 1, 3, 1, 0, 1, 1},    {2, 3, 8, 7, 4, 3, 1, 1, 1, 1},    {2, 4, 9, 9, 6, 3, 2, 1, 1, 2},
      {3, 8, 10, 10, 8, 3, 1, 1, 1, 8},  {1, 16, 7, 7, 32, 1, 1, 0, 1, 1},  {2, 3, 12, 12, 5, 5, 2, 2, 1, 1},
      {1, 4, 11, 11, 4, 3, 1, 2, 2, 1},  {4, 32, 8, 8, 32, 3, 2, 1, 1, 32}, {2, 6, 6, 6, 9, 3, 1, 1, 1, 3},
      {8, 64, 4, 4, 128, 3, 1, 1, 1, 1}, {1, 3, 32, 32, 16, 7, 2, 3, 1, 1},
  };
  int seed = 10;
  for (const Case& c : cases) {
    Conv2dGeom g{};
    g.N = c.N, g.C = c.C, g.H = c.H, g.W = c.W, g.OC = c.OC, g.KH = g.KW = c.K, g.SH = g.SW = c.S, g.PH = g.PW = c.P;
    g.DH = g.DW = c.D, g.G = c.G;
    g.OH = (g.H + 2 * g.PH - g.DH * (g.KH - 1) - 1) / g.SH + 1;
    g.OW = (g.W + 2 * g.PW - g.DW * (g.KW - 1) - 1) / g.SW + 1;
    SCOPED_TRACE(::testing::Message() << "N" << c.N << " C" << c.C << " " << c.H << "x" << c.W << " OC" << c.OC << " k"
                                      << c.K << " s" << c.S << " p" << c.P << " d" << c.D << " g" << c.G);
    const int64_t nx = g.N * g.C * g.H * g.W, nw = g.OC * (g.C / g.G) * g.KH * g.KW, ny = g.N * g.OC * g.OH * g.OW;
    const auto x = rnd(nx, ++seed), w = rnd(nw, ++seed, 0.5f), b = rnd(g.OC, ++seed), gy = rnd(ny, ++seed);
    std::vector<float> y(ny), gx(nx), gw(nw), gb(g.OC);
    ref::conv2d_fwd<float>(g, x.data(), w.data(), b.data(), y.data());
    ref::conv2d_bwd_data<float>(g, gy.data(), w.data(), gx.data());
    ref::conv2d_bwd_weight<float>(g, x.data(), gy.data(), gw.data(), gb.data());
    Tensor dx = up(x), dw = up(w), db = up(b), dgy = up(gy), dy = gpu(ny), dgx = gpu(nx), dgw = gpu(nw),
           dgb = gpu(g.OC);
    cuda_of(keys::conv2d_fwd_blocked)(g, p(dx), 0, p(dw), p(db), p(dy), 0);
    cuda_of(keys::conv2d_bwd_data_blocked)(g, p(dgy), 0, p(dw), p(dgx), 0);
    cuda_of(keys::conv2d_bwd_weight_blocked)(g, p(dx), 0, p(dgy), 0, p(dgw), p(dgb));
    EXPECT_TRUE(close(down(dy), y, 1e-4, 1e-4));
    EXPECT_TRUE(close(down(dgx), gx, 1e-4, 1e-4));
    EXPECT_TRUE(close(down(dgw), gw, 1e-4, 1e-3));
    EXPECT_TRUE(close(down(dgb), gb, 1e-4, 1e-3));
    EXPECT_EQ(cuda_of(keys::conv2d_layout)(g), nullptr);  // GPU activations stay plain
    // The inference post-ops: y = relu(conv + b + residual), and a clip.
    Conv2dGeom gp = g;
    gp.post.sum = true, gp.post.act = ConvPostOps::kRelu;
    const auto res = rnd(ny, ++seed);
    std::vector<float> yp = res;
    ref::conv2d_fwd<float>(g, x.data(), w.data(), b.data(), y.data());
    for (int64_t i = 0; i < ny; ++i) yp[i] = std::max(0.f, y[i] + res[i]);
    Tensor dyp = up(res);
    cuda_of(keys::conv2d_fwd_blocked)(gp, p(dx), 0, p(dw), p(db), p(dyp), 0);
    EXPECT_TRUE(close(down(dyp), yp, 1e-4, 1e-4));
    gp.post = {};
    gp.post.act = ConvPostOps::kClip, gp.post.lo = 0.f, gp.post.hi = 0.5f;
    for (int64_t i = 0; i < ny; ++i) yp[i] = std::clamp(y[i], 0.f, 0.5f);
    cuda_of(keys::conv2d_fwd_blocked)(gp, p(dx), 0, p(dw), p(db), p(dyp), 0);
    EXPECT_TRUE(close(down(dyp), yp, 1e-4, 1e-4));
  }
}

TEST_F(CudaKernels, BatchNormMatchesTheReference) {
  using namespace kernels;
  int seed = 100;
  for (const BatchNormGeom g :
       {BatchNormGeom{1, 1, 2}, BatchNormGeom{4, 3, 25}, BatchNormGeom{32, 16, 1}, BatchNormGeom{2, 64, 49},
        BatchNormGeom{64, 8, 256}, BatchNormGeom{3, 5, 10007}}) {  // 4 uneven chunks per channel
    for (bool affine : {true, false}) {
      SCOPED_TRACE(::testing::Message() << "N" << g.N << " C" << g.C << " S" << g.S << " affine " << affine);
      const int64_t n = g.N * g.C * g.S;
      const auto x = rnd(n, ++seed, 3.f), gy = rnd(n, ++seed), w = rnd(g.C, ++seed), b = rnd(g.C, ++seed);
      const float* wp = affine ? w.data() : nullptr;
      const float* bp = affine ? b.data() : nullptr;
      std::vector<float> y(n), mean(g.C), var(g.C), gx(n), gw(g.C), gb(g.C);
      ref::batch_norm_fwd_train<float>(g, x.data(), wp, bp, 1e-5, y.data(), mean.data(), var.data());
      Tensor dx = up(x), dw = up(w), db = up(b), dgy = up(gy), dy = gpu(n), dm = gpu(g.C), dv = gpu(g.C);
      const float* dwp = affine ? p(dw) : nullptr;
      const float* dbp = affine ? p(db) : nullptr;
      cuda_of(keys::batch_norm_fwd_train)(g, p(dx), dwp, dbp, 1e-5, p(dy), p(dm), p(dv));
      EXPECT_TRUE(close(down(dy), y, 1e-5, 1e-5));
      EXPECT_TRUE(close(down(dm), mean, 1e-6, 1e-6));
      EXPECT_TRUE(close(down(dv), var, 1e-6, 1e-6));
      for (bool batch_stats : {true, false}) {
        ref::batch_norm_bwd<float>(g, x.data(), gy.data(), mean.data(), var.data(), wp, 1e-5, batch_stats, gx.data(),
                                   gw.data(), gb.data());
        Tensor dgx = gpu(n), dgw = gpu(g.C), dgb = gpu(g.C);
        cuda_of(keys::batch_norm_bwd)(g, p(dx), p(dgy), p(dm), p(dv), dwp, 1e-5, batch_stats, p(dgx), p(dgw), p(dgb));
        EXPECT_TRUE(close(down(dgx), gx, 1e-4, 1e-5)) << "batch_stats " << batch_stats;
        EXPECT_TRUE(close(down(dgw), gw, 1e-4, 1e-4));
        EXPECT_TRUE(close(down(dgb), gb, 1e-4, 1e-4));
      }
      ref::batch_norm_fwd_eval<float>(g, x.data(), mean.data(), var.data(), wp, bp, 1e-5, y.data());
      cuda_of(keys::batch_norm_fwd_eval)(g, p(dx), p(dm), p(dv), dwp, dbp, 1e-5, p(dy));
      EXPECT_TRUE(close(down(dy), y, 1e-5, 1e-5));
      std::vector<float> rm = rnd(g.C, ++seed), rv = rnd(g.C, ++seed, 0.5f);
      for (auto& v : rv) v += 1.f;
      Tensor drm = up(rm), drv = up(rv);
      ref::batch_norm_update_stats(g.C, 0.1, 1.5, mean.data(), var.data(), rm.data(), rv.data());
      cuda_of(keys::batch_norm_update_stats)(g.C, 0.1, 1.5, p(dm), p(dv), p(drm), p(drv));
      EXPECT_TRUE(close(down(drm), rm, 1e-6, 1e-6));
      EXPECT_TRUE(close(down(drv), rv, 1e-6, 1e-6));
    }
  }
}

TEST_F(CudaKernels, PoolingMatchesTheReference) {
  using namespace kernels;
  int seed = 200;
  struct Case {
    int64_t N, C, H, W, K, S, P, D;
    bool ceil, include_pad;
  };
  for (const Case& c : {Case{1, 1, 4, 4, 2, 2, 0, 1, false, true}, Case{2, 3, 7, 9, 3, 2, 1, 1, false, true},
                        Case{2, 3, 7, 9, 3, 2, 1, 1, true, false}, Case{1, 4, 8, 8, 3, 1, 1, 2, false, true},
                        Case{4, 16, 32, 32, 3, 2, 1, 1, false, false}, Case{1, 2, 5, 5, 5, 5, 2, 1, true, true}}) {
    Pool2dGeom g{};
    g.N = c.N, g.C = c.C, g.H = c.H, g.W = c.W, g.KH = g.KW = c.K, g.SH = g.SW = c.S, g.PH = g.PW = c.P;
    g.DH = g.DW = c.D, g.count_include_pad = c.include_pad;
    const auto out = [&](int64_t in) {
      const int64_t span = in + 2 * c.P - c.D * (c.K - 1) - 1;
      int64_t o = (c.ceil ? (span + c.S - 1) / c.S : span / c.S) + 1;
      if (c.ceil && (o - 1) * c.S >= in + c.P) --o;
      return o;
    };
    g.OH = out(g.H), g.OW = out(g.W);
    SCOPED_TRACE(::testing::Message() << c.H << "x" << c.W << " k" << c.K << " s" << c.S << " p" << c.P << " d" << c.D
                                      << " ceil " << c.ceil << " pad " << c.include_pad);
    const int64_t nx = g.N * g.C * g.H * g.W, ny = g.N * g.C * g.OH * g.OW;
    auto x = rnd(nx, ++seed);
    x[0] = x[1];  // a tie: the first maximum wins on both
    const auto gy = rnd(ny, ++seed);
    std::vector<float> y(ny), gx(nx);
    std::vector<int64_t> am(ny);
    ref::max_pool2d_fwd<float>(g, x.data(), y.data(), am.data());
    ref::max_pool2d_bwd<float>(g, gy.data(), am.data(), gx.data());
    Tensor dx = up(x), dgy = up(gy), dy = gpu(ny), dgx = gpu(nx), dam = gpu(ny, DType::int64);
    cuda_of(keys::max_pool2d_fwd)(g, p(dx), p(dy), dam.stored_as<int64_t>());
    cuda_of(keys::max_pool2d_bwd)(g, p(dgy), dam.stored_as<int64_t>(), p(dgx));
    EXPECT_TRUE(close(down(dy), y, 0, 0));
    EXPECT_EQ(down64(dam), am);
    EXPECT_TRUE(close(down(dgx), gx, 1e-6, 1e-6));
    ref::avg_pool2d_fwd<float>(g, x.data(), y.data());
    ref::avg_pool2d_bwd<float>(g, gy.data(), gx.data());
    cuda_of(keys::avg_pool2d_fwd)(g, p(dx), p(dy));
    cuda_of(keys::avg_pool2d_bwd)(g, p(dgy), p(dgx));
    EXPECT_TRUE(close(down(dy), y, 1e-6, 1e-6));
    EXPECT_TRUE(close(down(dgx), gx, 1e-6, 1e-6));
    for (auto [oh, ow] : {std::pair<int64_t, int64_t>{1, 1}, {3, 2}, {c.H, c.W}}) {
      AdaptivePool2dGeom a{g.N, g.C, g.H, g.W, oh, ow};
      const int64_t na = g.N * g.C * oh * ow;
      const auto gya = rnd(na, ++seed);
      std::vector<float> ya(na);
      ref::adaptive_avg_pool2d_fwd<float>(a, x.data(), ya.data());
      ref::adaptive_avg_pool2d_bwd<float>(a, gya.data(), gx.data());
      Tensor dya = gpu(na), dgya = up(gya);
      cuda_of(keys::adaptive_avg_pool2d_fwd)(a, p(dx), p(dya));
      cuda_of(keys::adaptive_avg_pool2d_bwd)(a, p(dgya), p(dgx));
      EXPECT_TRUE(close(down(dya), ya, 1e-6, 1e-6));
      EXPECT_TRUE(close(down(dgx), gx, 1e-6, 1e-6));
    }
  }
}

TEST_F(CudaKernels, CrossEntropyAccuracyAndGemmMatchTheReference) {
  using namespace kernels;
  int seed = 300;
  for (auto [N, K] : {std::pair<int64_t, int64_t>{1, 1}, {3, 10}, {128, 10}, {7, 1000}, {2, 4097}}) {
    SCOPED_TRACE(::testing::Message() << "N" << N << " K" << K);
    const auto x = rnd(N * K, ++seed, 4.f);
    std::vector<int64_t> t(N);
    for (int64_t n = 0; n < N; ++n) t[n] = (n * 7 + 3) % K;
    Tensor dx = up(x), dt = up64(t);
    for (Reduction r : {Reduction::Mean, Reduction::Sum, Reduction::None}) {
      for (float eps : {0.f, 0.1f}) {
        const int64_t nl = r == Reduction::None ? N : 1;
        std::vector<float> loss(nl), lse(N), gy = rnd(nl, ++seed), gx(N * K);
        ref::cross_entropy_fwd<float>(N, K, x.data(), t.data(), eps, r, loss.data(), lse.data());
        ref::cross_entropy_bwd<float>(N, K, x.data(), t.data(), eps, lse.data(), r, gy.data(), gx.data());
        Tensor dl = gpu(nl), dlse = gpu(N), dgy = up(gy), dgx = gpu(N * K);
        cuda_of(keys::cross_entropy_fwd)(N, K, p(dx), dt.stored_as<int64_t>(), eps, r, p(dl), p(dlse));
        cuda_of(keys::cross_entropy_bwd)(N, K, p(dx), dt.stored_as<int64_t>(), eps, p(dlse), r, p(dgy), p(dgx));
        EXPECT_TRUE(close(down(dl), loss, 1e-5, 1e-5));
        EXPECT_TRUE(close(down(dlse), lse, 1e-6, 1e-5));
        EXPECT_TRUE(close(down(dgx), gx, 1e-5, 1e-6));
      }
    }
    // Soft targets (MixUp / CutMix): rows of probabilities, summing to 1 or not (the kernel
    // takes any weights), with both gradients.
    auto pr = rnd(N * K, ++seed);
    for (auto& v : pr) v = std::abs(v);
    Tensor dpr = up(pr);
    for (Reduction r : {Reduction::Mean, Reduction::None}) {
      const int64_t nl = r == Reduction::None ? N : 1;
      std::vector<float> loss(nl), lse(N), gy = rnd(nl, ++seed), gx(N * K), gp(N * K);
      ref::soft_cross_entropy_fwd<float>(N, K, x.data(), pr.data(), r, loss.data(), lse.data());
      ref::soft_cross_entropy_bwd<float>(N, K, x.data(), pr.data(), lse.data(), r, gy.data(), gx.data(), gp.data());
      Tensor dl = gpu(nl), dlse = gpu(N), dgy = up(gy), dgx = gpu(N * K), dgp = gpu(N * K);
      cuda_of(keys::soft_cross_entropy_fwd)(N, K, p(dx), p(dpr), r, p(dl), p(dlse));
      cuda_of(keys::soft_cross_entropy_bwd)(N, K, p(dx), p(dpr), p(dlse), r, p(dgy), p(dgx), p(dgp));
      EXPECT_TRUE(close(down(dl), loss, 1e-5, 1e-4));
      EXPECT_TRUE(close(down(dgx), gx, 1e-4, 1e-5));
      EXPECT_TRUE(close(down(dgp), gp, 1e-5, 1e-5));
    }
    int64_t c_ref = 0, c = -1;
    ref::count_correct(N, K, x.data(), t.data(), &c_ref);
    cuda_of(keys::count_correct)(N, K, p(dx), dt.stored_as<int64_t>(), &c);
    EXPECT_EQ(c, c_ref);
  }
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (auto [M, N, K] : {std::tuple<int64_t, int64_t, int64_t>{1, 1, 1}, {5, 7, 3}, {64, 10, 400}, {3, 128, 1}}) {
        SCOPED_TRACE(::testing::Message() << "gemm " << ta << tb << " " << M << "x" << N << "x" << K);
        const auto A = rnd(M * K, ++seed), B = rnd(K * N, ++seed), C0 = rnd(M * N, ++seed);
        const int64_t lda = ta ? M : K, ldb = tb ? K : N;
        std::vector<float> C = C0;
        ref::gemm<float>(ta, tb, M, N, K, 0.5f, A.data(), lda, B.data(), ldb, 0.25f, C.data(), N);
        Tensor dA = up(A), dB = up(B), dC = up(C0);
        cuda_of(keys::gemm)(ta, tb, M, N, K, 0.5f, p(dA), lda, p(dB), ldb, 0.25f, p(dC), N);
        EXPECT_TRUE(close(down(dC), C, 1e-5, 1e-5));
      }
}

TEST_F(CudaKernels, SgdStepMatchesTheReference) {
  using namespace kernels;
  const std::vector<int64_t> n = {5, 1000, 1};
  for (bool momentum : {false, true})
    for (bool nesterov : {false, true}) {
      if (nesterov && !momentum) continue;
      SgdArgs a{-0.1f, 1e-4f, momentum ? 0.9f : 0.f, 1.f, true, momentum, nesterov};
      for (int step = 0; step < 2; ++step) {
        std::vector<std::vector<float>> w, g, b;
        std::vector<Tensor> dw, dg, db;
        std::vector<float*> wp, bp, dwp, dbp;
        std::vector<const float*> gp, dgp;
        std::vector<uint8_t> first;
        for (size_t t = 0; t < n.size(); ++t) {
          w.push_back(rnd(n[t], 400 + t)), g.push_back(rnd(n[t], 500 + t)), b.push_back(rnd(n[t], 600 + t));
          dw.push_back(up(w[t])), dg.push_back(up(g[t])), db.push_back(up(b[t]));
          first.push_back(step == 0);
        }
        for (size_t t = 0; t < n.size(); ++t) {
          wp.push_back(w[t].data()), gp.push_back(g[t].data()), bp.push_back(b[t].data());
          dwp.push_back(p(dw[t])), dgp.push_back(p(dg[t])), dbp.push_back(p(db[t]));
        }
        ref::sgd_step(3, n.data(), wp.data(), gp.data(), bp.data(), first.data(), a);
        cuda_of(keys::sgd_step)(3, n.data(), dwp.data(), dgp.data(), dbp.data(), first.data(), a);
        for (size_t t = 0; t < n.size(); ++t) {
          EXPECT_TRUE(close(down(dw[t]), w[t], 1e-6, 1e-7)) << t;
          if (momentum) {
            EXPECT_TRUE(close(down(db[t]), b[t], 1e-6, 1e-7)) << t;
          }
        }
      }
    }
}

TEST_F(CudaKernels, SmoothActivationsDropoutConcatAndAdamMatchTheReference) {
  using namespace kernels;
  for (int64_t n : {int64_t{1}, int64_t{1000}, int64_t{65536 + 5}}) {
    SCOPED_TRACE("n = " + std::to_string(n));
    const auto x = rnd(n, 700, 6.f), gy = rnd(n, 701);
    Tensor dx = up(x), dgy = up(gy), dy = gpu(n), dgx = gpu(n);
    std::vector<float> y(n), gx(n);
    const struct {
      const Kernel<ActFwdFn<float>>& fwd;
      const Kernel<ActBwdFn<float>>& bwd;
      ActFwdFn<float>* rf;
      ActBwdFn<float>* rb;
      float a;
      double tol;
    } acts[] = {{keys::leaky_relu_fwd, keys::leaky_relu_bwd, &ref::leaky_relu_fwd<float>, &ref::leaky_relu_bwd<float>,
                 0.01f, 0},
                {keys::tanh_fwd, keys::tanh_bwd, &ref::tanh_fwd<float>, &ref::tanh_bwd<float>, 0.f, 2e-6},
                {keys::sigmoid_fwd, keys::sigmoid_bwd, &ref::sigmoid_fwd<float>, &ref::sigmoid_bwd<float>, 0.f, 2e-6}};
    for (const auto& act : acts) {
      SCOPED_TRACE(act.fwd.name());
      act.rf(n, act.a, x.data(), y.data());
      cuda_of(act.fwd)(n, act.a, p(dx), p(dy));
      EXPECT_TRUE(close(down(dy), y, act.tol, act.tol));
      act.rb(n, act.a, x.data(), y.data(), gy.data(), gx.data());
      cuda_of(act.bwd)(n, act.a, p(dx), p(dy), p(dgy), p(dgx));  // the GPU's y: within tol of the CPU's
      EXPECT_TRUE(close(down(dgx), gx, 4 * act.tol, 4 * act.tol));
    }
    // The same mask as the CPU's for the same seed: the generator is counter-based.
    for (int64_t group : {int64_t{1}, int64_t{7}}) {
      ref::dropout_mask(n, group, 0.3f, 12345, 1.f / 0.7f, y.data());
      cuda_of(keys::dropout_mask)(n, group, 0.3f, 12345, 1.f / 0.7f, p(dy));
      EXPECT_TRUE(close(down(dy), y, 0, 0));
    }
  }
  // Concatenation of three (2, c_i, 5) inputs along dim 1, and back.
  const std::vector<int64_t> sizes = {3, 1, 4};
  const int64_t outer = 2, inner = 5, total = 8;
  std::vector<std::vector<float>> xs;
  std::vector<Tensor> dxs, dgxs;
  std::vector<const float*> xp, dxp;
  for (size_t i = 0; i < sizes.size(); ++i) {
    xs.push_back(rnd(outer * sizes[i] * inner, 800 + i));
    dxs.push_back(up(xs[i]));
    dgxs.push_back(gpu(outer * sizes[i] * inner));
  }
  for (size_t i = 0; i < sizes.size(); ++i) xp.push_back(xs[i].data()), dxp.push_back(p(dxs[i]));
  std::vector<float> y(outer * total * inner);
  ref::concat_fwd<float>(outer, inner, 3, sizes.data(), xp.data(), y.data());
  Tensor dy = gpu(outer * total * inner);
  cuda_of(keys::concat_fwd)(outer, inner, 3, sizes.data(), dxp.data(), p(dy));
  EXPECT_TRUE(close(down(dy), y, 0, 0));
  std::vector<float*> dgp = {p(dgxs[0]), nullptr, p(dgxs[2])};
  cuda_of(keys::concat_bwd)(outer, inner, 3, sizes.data(), p(dy), dgp.data());
  EXPECT_TRUE(close(down(dgxs[0]), xs[0], 0, 0));
  EXPECT_TRUE(close(down(dgxs[2]), xs[2], 0, 0));
  // Adam and AdamW, with and without amsgrad, two steps over three tensors.
  const std::vector<int64_t> n = {5, 1000, 1};
  for (bool decoupled : {false, true})
    for (bool amsgrad : {false, true}) {
      SCOPED_TRACE(::testing::Message() << "decoupled " << decoupled << " amsgrad " << amsgrad);
      const AdamArgs a{0.9f, 0.999f, 0.1f, 0.001f, 1e-8f, 0.01f, 1.f - 1e-3f * 0.01f, decoupled, !decoupled, amsgrad};
      std::vector<std::vector<float>> w, g, m, v, vm;
      std::vector<Tensor> dw, dg, dm, dv, dvm;
      for (size_t t = 0; t < n.size(); ++t) {
        w.push_back(rnd(n[t], 900 + t)), g.push_back(rnd(n[t], 910 + t));
        m.push_back(std::vector<float>(n[t], 0.f)), v.push_back(m[t]), vm.push_back(m[t]);
        dw.push_back(up(w[t])), dg.push_back(up(g[t])), dm.push_back(up(m[t])), dv.push_back(up(v[t]));
        dvm.push_back(up(vm[t]));
      }
      for (int step = 1; step <= 2; ++step) {
        std::vector<float*> wp, mp, vp, vmp, dwp, dmp, dvp, dvmp;
        std::vector<const float*> gp, dgp2;
        for (size_t t = 0; t < n.size(); ++t) {
          wp.push_back(w[t].data()), gp.push_back(g[t].data()), mp.push_back(m[t].data()), vp.push_back(v[t].data());
          vmp.push_back(vm[t].data());
          dwp.push_back(p(dw[t])), dgp2.push_back(p(dg[t])), dmp.push_back(p(dm[t])), dvp.push_back(p(dv[t]));
          dvmp.push_back(p(dvm[t]));
        }
        const float bc1 = 1.f - std::pow(0.9f, static_cast<float>(step));
        const float bc2 = std::sqrt(1.f - std::pow(0.999f, static_cast<float>(step)));
        const std::vector<float> neg_step(n.size(), -1e-3f / bc1), bc2s(n.size(), bc2);
        ref::adam_step(3, n.data(), wp.data(), gp.data(), mp.data(), vp.data(), vmp.data(), neg_step.data(),
                       bc2s.data(), a);
        cuda_of(keys::adam_step)(3, n.data(), dwp.data(), dgp2.data(), dmp.data(), dvp.data(), dvmp.data(),
                                 neg_step.data(), bc2s.data(), a);
      }
      for (size_t t = 0; t < n.size(); ++t) {
        EXPECT_TRUE(close(down(dw[t]), w[t], 1e-6, 1e-7)) << t;
        EXPECT_TRUE(close(down(dv[t]), v[t], 1e-6, 1e-9)) << t;
      }
    }
}

// The dispatch: a kernel called through its key with GPU pointers runs the CUDA variant, and
// with host pointers the CPU's; a pointer-less call follows the DeviceScope.
TEST_F(CudaKernels, KeysDispatchOnWhereTheirPointersAre) {
  using namespace kernels;
  const std::vector<float> a = {-1.f, 2.f, -3.f, 4.f};
  std::vector<float> y(4);
  keys::relu_fwd(4, 0.f, a.data(), y.data());
  EXPECT_EQ(y, (std::vector<float>{0.f, 2.f, 0.f, 4.f}));
  Tensor da = up(a), dy = gpu(4);
  keys::relu_fwd(4, 0.f, p(da), p(dy));
  EXPECT_EQ(down(dy), (std::vector<float>{0.f, 2.f, 0.f, 4.f}));
  Conv2dGeom g{1, 16, 8, 8, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 8, 8};
  {
    DeviceScope scope(kGpu);
    EXPECT_EQ(keys::conv2d_layout.value(g), nullptr);
  }
}

}  // namespace
}  // namespace convnet
