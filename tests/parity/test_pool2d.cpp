// pool2d vs PyTorch 1.13: forward output and input gradient of sum(out * g) for every
// fixture written by python/fixtures/pool2d.py.
#include <gtest/gtest.h>

#include "convnet/ops/pool2d.h"
#include "kernels/registry.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;

namespace {
std::array<int64_t, 2> pair(const nlohmann::json& j) {
  return {j[0].get<int64_t>(), j[1].get<int64_t>()};
}
}  // namespace

TEST(Pool2dParity, MatchesPyTorch) {
  // The default kernels and the reference ones, both against PyTorch.
  for (const char* backend : {"", "ref"}) {
    kernels::force_backend(backend);
    SCOPED_TRACE(std::string("backend ") + (*backend ? backend : "default"));
    int checked = 0;
    for (const auto& path : fixture_files("pool2d_")) {
      SCOPED_TRACE(path);
      const auto f = load_fixture(path);
      const auto cfg = fixture_config(f);
      const std::string op = cfg.at("op");
      Tensor x = fixture_tensor(f, "x").clone().requires_grad_();
      Tensor out;
      if (op == "max" || op == "avg") {
        Pool2dArgs a;
        a.kernel = pair(cfg.at("kernel"));
        a.stride = pair(cfg.at("stride"));
        a.padding = pair(cfg.at("padding"));
        a.dilation = pair(cfg.at("dilation"));
        a.ceil_mode = cfg.at("ceil_mode");
        a.count_include_pad = cfg.at("count_include_pad");
        out = op == "max" ? ops::max_pool2d(x, a) : ops::avg_pool2d(x, a);
      } else if (op == "adaptive_avg") {
        out = ops::adaptive_avg_pool2d(x, pair(cfg.at("output_size")));
      } else if (op == "adaptive_max") {
        out = ops::adaptive_max_pool2d(x, pair(cfg.at("output_size")));
      } else if (op == "global_avg") {
        out = ops::global_avg_pool2d(x);
      } else if (op == "global_max") {
        out = ops::global_max_pool2d(x);
      } else {
        FAIL() << "unknown op " << op;
      }
      EXPECT_TRUE(all_close(out, fixture_tensor(f, "out"), 1e-5, 1e-6)) << "forward";
      backward_with(out, fixture_tensor(f, "g"));
      EXPECT_TRUE(all_close(x.grad(), fixture_tensor(f, "grad_x"), 1e-5, 1e-6)) << "grad_x";
      ++checked;
    }
    EXPECT_GE(checked, 39);
  }
  kernels::force_backend("");
}
