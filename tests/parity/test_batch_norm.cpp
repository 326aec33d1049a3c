// batch_norm vs PyTorch 1.13: output, gradients of sum(out * g) for x, weight and bias, and
// the running statistics after the call, for every fixture of python/fixtures/batch_norm.py.
#include <gtest/gtest.h>

#include "convnet/ops/batch_norm.h"
#include "kernels/registry.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;

TEST(BatchNormParity, MatchesPyTorch) {
  // The default kernels and the reference ones, both against PyTorch.
  for (const char* backend : {"", "ref"}) {
    kernels::force_backend(backend);
    SCOPED_TRACE(std::string("backend ") + (*backend ? backend : "default"));
    int checked = 0;
    for (const auto& path : fixture_files("batch_norm_")) {
      SCOPED_TRACE(path);
      const auto f = load_fixture(path);
      const auto cfg = fixture_config(f);
      const bool affine = cfg.at("affine"), track = cfg.at("track_running_stats");
      Tensor x = fixture_tensor(f, "x").clone().requires_grad_();
      Tensor w, b, rm, rv;
      if (affine) {
        w = fixture_tensor(f, "weight").clone().requires_grad_();
        b = fixture_tensor(f, "bias").clone().requires_grad_();
      }
      if (track) {
        rm = fixture_tensor(f, "running_mean").clone();
        rv = fixture_tensor(f, "running_var").clone();
      }
      Tensor out = ops::batch_norm(x, rm, rv, w, b, cfg.at("training").get<bool>(), cfg.at("momentum").get<double>(),
                                   cfg.at("eps").get<double>());
      EXPECT_TRUE(all_close(out, fixture_tensor(f, "out"), 1e-4, 1e-5)) << "forward";
      if (track) {
        EXPECT_TRUE(all_close(rm, fixture_tensor(f, "running_mean_after"), 1e-5, 1e-6)) << "running_mean";
        EXPECT_TRUE(all_close(rv, fixture_tensor(f, "running_var_after"), 1e-5, 1e-6)) << "running_var";
      }
      backward_with(out, fixture_tensor(f, "g"));
      EXPECT_TRUE(all_close(x.grad(), fixture_tensor(f, "grad_x"), 1e-4, 1e-5)) << "grad_x";
      if (affine) {
        EXPECT_TRUE(all_close(w.grad(), fixture_tensor(f, "grad_weight"), 1e-4, 1e-5)) << "grad_weight";
        EXPECT_TRUE(all_close(b.grad(), fixture_tensor(f, "grad_bias"), 1e-4, 1e-5)) << "grad_bias";
      }
      ++checked;
    }
    EXPECT_GE(checked, 16);
  }
  kernels::force_backend("");
}
