// Layer norm and group norm: the reference kernels' backward (in double) against central
// finite differences of their forward, for x, weight and bias, over layer-norm and
// group-norm geometries with and without the affine transform; and the errors.
#include <gtest/gtest.h>

#include "convnet/nn/layers.h"
#include "convnet/ops/norm.h"
#include "kernels/norm.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;

TEST(NormGradient, ReferenceBackwardMatchesFiniteDifferences) {
  using kernels::NormGeom;
  const std::vector<NormGeom> geoms = {{3, 5, 1, 1}, {2, 12, 1, 1}, {4, 6, 2, 3}, {2, 8, 1, 4}, {6, 4, 3, 1}};
  for (size_t gi = 0; gi < geoms.size(); ++gi)
    for (bool affine : {true, false}) {
      SCOPED_TRACE("geom " + std::to_string(gi) + (affine ? " affine" : ""));
      const NormGeom& g = geoms[gi];
      const auto n = static_cast<size_t>(g.rows * g.D), e = static_cast<size_t>(g.groups * (g.D / g.inner));
      auto x = random_doubles(n, 40 + gi), r = random_doubles(n, 60 + gi);
      auto w = random_doubles(e, 80 + gi), b = random_doubles(e, 90 + gi);
      for (double& v : w) v += 1.5;
      const double eps = 1e-5;
      // L = sum(y * r) as a function of x, of w and of b.
      auto loss = [&](const std::vector<double>& xv, const std::vector<double>& wv, const std::vector<double>& bv) {
        std::vector<double> y(n), m(static_cast<size_t>(g.rows)), s(static_cast<size_t>(g.rows));
        kernels::ref::norm_fwd<double>(g, xv.data(), affine ? wv.data() : nullptr, affine ? bv.data() : nullptr, eps,
                                       y.data(), m.data(), s.data());
        return dot(y, r);
      };
      std::vector<double> y(n), m(static_cast<size_t>(g.rows)), s(static_cast<size_t>(g.rows));
      kernels::ref::norm_fwd<double>(g, x.data(), affine ? w.data() : nullptr, affine ? b.data() : nullptr, eps,
                                     y.data(), m.data(), s.data());
      std::vector<double> gx(n), gw(e), gb(e);
      kernels::ref::norm_bwd<double>(g, x.data(), affine ? w.data() : nullptr, m.data(), s.data(), r.data(), gx.data(),
                                     gw.data(), gb.data());
      EXPECT_TRUE(
          all_close(gx, numeric_grad([&](const std::vector<double>& v) { return loss(v, w, b); }, x), 1e-6, 1e-7));
      if (affine) {
        EXPECT_TRUE(
            all_close(gw, numeric_grad([&](const std::vector<double>& v) { return loss(x, v, b); }, w), 1e-6, 1e-7));
        EXPECT_TRUE(
            all_close(gb, numeric_grad([&](const std::vector<double>& v) { return loss(x, w, v); }, b), 1e-6, 1e-7));
      }
    }
}

TEST(NormValues, EachRowHasMeanZeroAndUnitVariance) {
  Generator gen(5);
  const Tensor x = Tensor::randn({3, 4, 8}, gen, 2.f, 3.f);
  const Tensor y = ops::layer_norm(x, {8});
  for (int64_t r = 0; r < 12; ++r) {
    double s = 0, s2 = 0;
    for (int64_t d = 0; d < 8; ++d) s += y.data()[r * 8 + d], s2 += y.data()[r * 8 + d] * y.data()[r * 8 + d];
    EXPECT_NEAR(s / 8, 0, 1e-6);
    EXPECT_NEAR(s2 / 8, 1, 1e-4);  // biased variance 1, less eps's share
  }
}

TEST(NormErrors, NameTheLayerAndTheShapes) {
  const Tensor x = Tensor::ones({2, 6, 4, 4});
  expect_error([&] { ops::layer_norm(x, {5}, {}, {}, 1e-5, "ln"); }, {"ln", "normalized_shape (5)", "(2, 6, 4, 4)"});
  expect_error([&] { ops::layer_norm(x, {4}, Tensor::ones({3})); }, {"weight", "(4)", "(3)"});
  expect_error([&] { ops::group_norm(x, 4, {}, {}, 1e-5, "gn"); }, {"gn", "4 groups", "6 channels"});
  expect_error([&] { ops::group_norm(x, 3, {}, Tensor::ones({5})); }, {"bias", "(6)", "(5)"});
  expect_error([&] { ops::layer_norm(x, {4}, {}, {}, 0.0); }, {"eps must be positive"});
  expect_error([] { nn::GroupNorm(4, 6); }, {"GroupNorm", "6", "4"});
  expect_error([] { nn::LayerNorm(Shape{}); }, {"LayerNorm", "normalized_shape"});
  nn::LayerNorm ln({4});
  expect_error([&] { ln(Tensor::ones({2, 5})); }, {"LayerNorm", "(2, 5)"});
}
