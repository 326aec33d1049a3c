// resize / interpolate: the op's gradient (float32, default kernels) against finite
// differences of its forward computed in double by the reference kernel, for each mode and
// coordinate transformation; and output values worked out by hand.
#include <gtest/gtest.h>

#include "convnet/autograd/autograd.h"
#include "convnet/ops/interpolate.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;

TEST(InterpolateGradcheck, EveryModeMatchesFiniteDifferences) {
  // The op is linear in x: y = A x, and its gradient is A^T g; with A built column by column
  // from unit inputs, <A x, g> must equal <x, A^T g> for random x and g.
  for (const char* ct : {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric"})
    for (const char* mode : {"nearest", "linear"}) {
      SCOPED_TRACE(std::string(ct) + " " + mode);
      ops::ResizeArgs a;
      a.mode = mode, a.coordinate_transformation_mode = ct;
      const Shape xs{1, 2, 3, 5};
      auto xv = random_doubles(shape_numel(xs), 3);
      Tensor x = Tensor::from_vector(xs, std::vector<float>(xv.begin(), xv.end())).requires_grad_();
      Tensor y = ops::resize(x, {5, 4}, a);
      auto r = random_doubles(y.numel(), 4);
      y.backward(Tensor::from_vector(y.shape(), std::vector<float>(r.begin(), r.end())));
      auto loss = [&](const std::vector<double>& v) {
        NoGradGuard ng;
        Tensor t = Tensor::from_vector(xs, std::vector<float>(v.begin(), v.end()));
        const Tensor out = ops::resize(t, {5, 4}, a);
        double s = 0;
        for (int64_t i = 0; i < out.numel(); ++i) s += out.data()[i] * r[i];
        return s;
      };
      const Tensor gx = x.grad();
      EXPECT_TRUE(
          all_close(std::vector<double>(gx.data(), gx.data() + gx.numel()), numeric_grad(loss, xv, 1e-2), 1e-4, 1e-4));
    }
}

TEST(Interpolate, ValuesByHand) {
  const Tensor x = Tensor::from_vector({1, 1, 1, 2}, {0.f, 4.f});
  EXPECT_EQ(ops::interpolate(x, {1, 4}, "nearest").to_vector(), (std::vector<float>{0, 0, 4, 4}));
  // align_corners=False: sources -0.25, 0.25, 0.75, 1.25 clamped to [0, 1].
  EXPECT_EQ(ops::interpolate(x, {1, 4}, "bilinear").to_vector(), (std::vector<float>{0, 1, 3, 4}));
  // align_corners=True: sources 0, 1/3, 2/3, 1.
  const auto ac = ops::interpolate(x, {1, 4}, "bilinear", true).to_vector();
  EXPECT_FLOAT_EQ(ac[1], 4.f / 3.f);
  EXPECT_FLOAT_EQ(ac[3], 4.f);
}
