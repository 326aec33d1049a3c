// Interpolation against PyTorch (float64, rounded once): the output and the gradient of x over
// the cases of python/fixtures/interpolate.py (nearest; bilinear with both align_corners; by
// size and by scale factor; down- and upsampling), on the default and reference kernels,
// through nn::Upsample.
#include "convnet/nn/layers.h"
#include "kernels/registry.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;

TEST(InterpolateParity, MatchesPyTorch) {
  for (const char* backend : {"", "ref"}) {
    kernels::force_backend(backend);
    int count = 0;
    for (const auto& file : fixture_files("interpolate_")) {
      SCOPED_TRACE(file + " backend=" + backend);
      auto f = load_fixture(file);
      auto cfg = fixture_config(f);
      std::array<int64_t, 2> size{0, 0};
      std::array<double, 2> scale{0, 0};
      if (!cfg["size"].is_null()) size = {cfg["size"][0].get<int64_t>(), cfg["size"][1].get<int64_t>()};
      if (!cfg["scale"].is_null()) scale = {cfg["scale"][0].get<double>(), cfg["scale"][1].get<double>()};
      nn::Upsample m(size, scale, cfg["mode"].get<std::string>(), cfg["align_corners"].get<bool>());
      Tensor x = fixture_tensor(f, "x").clone().requires_grad_();
      Tensor y = m(x);
      EXPECT_TRUE(all_close(y, fixture_tensor(f, "out"), 1e-5, 1e-6));
      y.backward(fixture_tensor(f, "g"));
      EXPECT_TRUE(all_close(x.grad(), fixture_tensor(f, "grad_x"), 1e-5, 1e-5));
      ++count;
    }
    EXPECT_EQ(count, 11);
    kernels::force_backend("");
  }
}

TEST(Interpolate, ErrorsNameTheLayer) {
  const Tensor x = Tensor::ones({1, 1, 4, 4});
  expect_error([&] { ops::interpolate(x, {0, 3}, "nearest", false, "up"); }, {"up", "output size (0, 3)"});
  expect_error([&] { ops::interpolate(x, {2, 2}, "nearest", true); }, {"align_corners", "bilinear"});
  expect_error([&] { ops::interpolate(x, {2, 2}, "bicubic"); }, {"bicubic"});
  expect_error([&] { ops::interpolate(Tensor::ones({4, 4}), {2, 2}); }, {"(N, C, H, W)", "(4, 4)"});
  expect_error([] { nn::Upsample({0, 0}, {0, 0}); }, {"Upsample", "size or positive scale"});
}
