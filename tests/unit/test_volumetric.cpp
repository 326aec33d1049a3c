// conv3d, max_pool3d and avg_pool3d: the reference backward kernels (double) against finite
// differences of the reference forward over a grid of geometries (strides, padding,
// dilation, groups, ceil_mode, count_include_pad), the ops' float gradients against the
// same, values by hand, nn::Conv3d's parameters, and the errors.
#include <cmath>

#include "convnet/core/error.h"
#include "convnet/core/rng.h"
#include "convnet/nn/volumetric.h"
#include "convnet/ops/volumetric.h"
#include "kernels/vol.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;
namespace ref = convnet::kernels::ref;

namespace {

struct ConvCase {
  int64_t N, C, OC, G;
  std::array<int64_t, 3> in, k, s, p, d;
};
const ConvCase kConv[] = {
    {1, 1, 1, 1, {3, 3, 3}, {2, 2, 2}, {1, 1, 1}, {0, 0, 0}, {1, 1, 1}},
    {2, 2, 3, 1, {4, 5, 3}, {3, 2, 3}, {1, 2, 1}, {1, 0, 1}, {1, 1, 1}},
    {1, 4, 2, 2, {5, 4, 4}, {2, 3, 2}, {2, 1, 2}, {0, 1, 1}, {2, 1, 1}},
    {2, 3, 3, 3, {3, 4, 5}, {1, 3, 3}, {1, 1, 1}, {0, 1, 1}, {1, 1, 2}},
};

kernels::Conv3dGeom conv_geom(const ConvCase& c) {
  kernels::Conv3dGeom g{};
  g.N = c.N, g.C = c.C, g.OC = c.OC, g.G = c.G;
  for (int a = 0; a < 3; ++a) {
    g.in[a] = c.in[a], g.k[a] = c.k[a], g.s[a] = c.s[a], g.p[a] = c.p[a], g.d[a] = c.d[a];
    g.out[a] = (c.in[a] + 2 * c.p[a] - c.d[a] * (c.k[a] - 1) - 1) / c.s[a] + 1;
  }
  return g;
}

}  // namespace

TEST(VolumetricGradcheck, Conv3dMatchesFiniteDifferences) {
  for (const ConvCase& c : kConv) {
    const kernels::Conv3dGeom g = conv_geom(c);
    SCOPED_TRACE("C=" + std::to_string(c.C) + " OC=" + std::to_string(c.OC) + " G=" + std::to_string(c.G));
    const int64_t nx = c.N * c.C * c.in[0] * c.in[1] * c.in[2], nw = c.OC * (c.C / c.G) * c.k[0] * c.k[1] * c.k[2],
                  ny = c.N * c.OC * g.out[0] * g.out[1] * g.out[2];
    auto x = random_doubles(nx, 1), w = random_doubles(nw, 2), b = random_doubles(c.OC, 3), r = random_doubles(ny, 4);
    auto loss = [&](const std::vector<double>& xx, const std::vector<double>& ww, const std::vector<double>& bb) {
      std::vector<double> y(ny);
      ref::conv3d_fwd<double>(g, xx.data(), ww.data(), bb.data(), y.data());
      return dot(y, r);
    };
    const auto nx_ = numeric_grad([&](const std::vector<double>& v) { return loss(v, w, b); }, x);
    const auto nw_ = numeric_grad([&](const std::vector<double>& v) { return loss(x, v, b); }, w);
    const auto nb_ = numeric_grad([&](const std::vector<double>& v) { return loss(x, w, v); }, b);
    std::vector<double> gx(nx), gw(nw), gb(c.OC);
    ref::conv3d_bwd_data<double>(g, r.data(), w.data(), gx.data());
    ref::conv3d_bwd_weight<double>(g, x.data(), r.data(), gw.data(), gb.data());
    EXPECT_TRUE(all_close(gx, nx_, 1e-6, 1e-8));
    EXPECT_TRUE(all_close(gw, nw_, 1e-6, 1e-8));
    EXPECT_TRUE(all_close(gb, nb_, 1e-6, 1e-8));
    // The op (default backend: oneDNN) in float.
    Tensor tx = Tensor::from_vector({c.N, c.C, c.in[0], c.in[1], c.in[2]}, to_float(x)).requires_grad_();
    Tensor tw = Tensor::from_vector({c.OC, c.C / c.G, c.k[0], c.k[1], c.k[2]}, to_float(w)).requires_grad_();
    Tensor tb = Tensor::from_vector({c.OC}, to_float(b)).requires_grad_();
    Tensor y = ops::conv3d(tx, tw, tb, Conv3dArgs{c.s, c.p, c.d, c.G});
    EXPECT_EQ(y.shape(), (Shape{c.N, c.OC, g.out[0], g.out[1], g.out[2]}));
    y.backward(Tensor::from_vector(y.shape(), to_float(r)));
    EXPECT_TRUE(all_close(to_double(tx.grad()), nx_, 1e-4, 1e-5));
    EXPECT_TRUE(all_close(to_double(tw.grad()), nw_, 1e-4, 1e-5));
    EXPECT_TRUE(all_close(to_double(tb.grad()), nb_, 1e-4, 1e-5));
  }
}

TEST(VolumetricGradcheck, Pool3dMatchesFiniteDifferences) {
  struct P {
    std::array<int64_t, 3> in, k, s, p, d;
    bool ceil, include_pad;
  };
  const P grid[] = {{{4, 4, 4}, {2, 2, 2}, {2, 2, 2}, {0, 0, 0}, {1, 1, 1}, false, true},
                    {{5, 4, 6}, {3, 2, 3}, {2, 1, 2}, {1, 1, 1}, {1, 1, 1}, true, false},
                    {{5, 5, 3}, {3, 3, 2}, {1, 2, 1}, {1, 0, 1}, {1, 1, 1}, true, true},
                    {{6, 5, 5}, {2, 2, 2}, {1, 2, 2}, {0, 1, 1}, {2, 1, 2}, false, true}};  // dilated: max only
  for (const P& c : grid)
    for (bool is_max : {true, false}) {
      if (!is_max && c.d != std::array<int64_t, 3>{1, 1, 1}) continue;
      SCOPED_TRACE(std::string(is_max ? "max" : "avg") + " ceil=" + std::to_string(c.ceil));
      const Pool3dArgs a{c.k, c.s, c.p, c.d, c.ceil, c.include_pad};
      const Shape shape{2, 2, c.in[0], c.in[1], c.in[2]};
      auto x = random_doubles(shape_numel(shape), 7);
      Tensor tx = Tensor::from_vector(shape, to_float(x)).requires_grad_();
      Tensor y = is_max ? ops::max_pool3d(tx, a) : ops::avg_pool3d(tx, a);
      kernels::Pool3dGeom g{};
      g.N = 2, g.C = 2, g.count_include_pad = c.include_pad;
      for (int k = 0; k < 3; ++k)
        g.in[k] = c.in[k], g.k[k] = c.k[k], g.s[k] = c.s[k], g.p[k] = c.p[k], g.d[k] = c.d[k], g.out[k] = y.size(2 + k);
      auto r = random_doubles(y.numel(), 8);
      auto loss = [&](const std::vector<double>& xx) {
        std::vector<double> yy(y.numel());
        if (is_max)
          ref::max_pool3d_fwd<double>(g, xx.data(), yy.data(), nullptr);
        else
          ref::avg_pool3d_fwd<double>(g, xx.data(), yy.data());
        return dot(yy, r);
      };
      const auto num = numeric_grad(loss, x);  // random inputs: no ties in a max window
      std::vector<double> yy(y.numel()), gx(x.size());
      std::vector<int64_t> argmax(y.numel());
      if (is_max) {
        ref::max_pool3d_fwd<double>(g, x.data(), yy.data(), argmax.data());
        ref::max_pool3d_bwd<double>(g, r.data(), argmax.data(), gx.data());
      } else {
        ref::avg_pool3d_bwd<double>(g, r.data(), gx.data());
      }
      EXPECT_TRUE(all_close(gx, num, 1e-6, 1e-8));
      y.backward(Tensor::from_vector(y.shape(), to_float(r)));
      EXPECT_TRUE(all_close(to_double(tx.grad()), num, 1e-5, 1e-6));
    }
}

TEST(VolumetricValues, ByHand) {
  // A 2x2x2 cube of 1..8: a 2x2x2 kernel of ones sums it; max is 8; the average 4.5.
  std::vector<float> v(8);
  for (int i = 0; i < 8; ++i) v[i] = static_cast<float>(i + 1);
  const Tensor x = Tensor::from_vector({1, 1, 2, 2, 2}, v);
  EXPECT_EQ(ops::conv3d(x, Tensor::ones({1, 1, 2, 2, 2}), Tensor::from_vector({1}, {0.5f})).to_vector(),
            std::vector<float>{36.5f});
  EXPECT_EQ(ops::max_pool3d(x, Pool3dArgs{}).to_vector(), std::vector<float>{8.f});
  EXPECT_EQ(ops::avg_pool3d(x, Pool3dArgs{}).to_vector(), std::vector<float>{4.5f});
  // Padding 1 with a 2-kernel and stride 2 gives 2^3 windows of one element each; the average
  // counts the padding (1/8 of each value) unless count_include_pad is off.
  Pool3dArgs a;
  a.padding = {1, 1, 1};
  EXPECT_EQ(ops::avg_pool3d(x, a).to_vector()[0], 1.f / 8.f);
  a.count_include_pad = false;
  EXPECT_EQ(ops::avg_pool3d(x, a).to_vector()[7], 8.f);
  // nn::Conv3d: PyTorch's parameter shapes and initialization bounds.
  nn::Conv3d conv(4, 6, {3, 2, 1}, Conv3dArgs{{1, 1, 1}, {1, 0, 0}, {1, 1, 1}, 2});
  EXPECT_EQ(conv.weight.shape(), (Shape{6, 2, 3, 2, 1}));
  EXPECT_EQ(conv.bias.shape(), Shape{6});
  const double bound = 1.0 / std::sqrt(2.0 * 3 * 2 * 1);  // 1/sqrt(fan_in), as torch's Conv3d
  for (float w : conv.weight.to_vector()) EXPECT_LE(std::abs(w), bound + 1e-7);
  EXPECT_EQ(conv(Tensor::zeros({1, 4, 5, 5, 5})).shape(), (Shape{1, 6, 5, 4, 5}));
}

TEST(VolumetricErrors, MessagesNameLayerAndShapes) {
  const Tensor x = Tensor::zeros({1, 4, 5, 5, 5});
  expect_error(
      [&] {
        ops::conv3d(Tensor::zeros({1, 4, 5, 5}), Tensor::zeros({2, 4, 3, 3, 3}), Tensor(), {}, "c3");
      },
      {"c3", "5-D input", "(1, 4, 5, 5)"});
  expect_error(
      [&] {
        ops::conv3d(x, Tensor::zeros({2, 3, 3, 3, 3}), Tensor(), {}, "c3");
      },
      {"c3", "(1, 4, 5, 5, 5)", "(2, 3, 3, 3, 3)"});
  expect_error([&] { ops::conv3d(x, Tensor::zeros({2, 4, 6, 3, 3}), Tensor(), {}, "c3"); }, {"c3", "empty"});
  expect_error(
      [&] {
        ops::conv3d(x, Tensor::zeros({2, 4, 3, 3, 3}), Tensor::zeros({3}), {}, "c3");
      },
      {"c3", "bias", "(2)", "(3)"});
  Pool3dArgs a;
  a.kernel = {3, 3, 3};
  a.padding = {2, 0, 0};
  expect_error([&] { ops::max_pool3d(x, a, "pool"); }, {"pool", "padding", "(2, 0, 0)"});
  a.padding = {0, 0, 0};
  a.dilation = {2, 1, 1};
  expect_error([&] { ops::avg_pool3d(x, a, "avg"); }, {"avg", "dilation"});
  expect_error(
      [&] {
        nn::Conv3d(3, 4, {3, 3, 3}, Conv3dArgs{{1, 1, 1}, {0, 0, 0}, {1, 1, 1}, 2});
      },
      {"Conv3d", "divisible", "groups"});
}
