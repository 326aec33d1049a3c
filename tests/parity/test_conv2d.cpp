// conv2d against PyTorch: output and the gradients of sum(out * g) for x, w, b, over the
// configuration grid of python/fixtures/conv2d.py, on the default (fast) backend and on
// the reference backend.
#include "convnet/ops/conv2d.h"
#include "kernels/registry.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;

namespace {

Conv2dArgs args_from(const nlohmann::json& c) {
  Conv2dArgs a;
  a.stride = {c["stride"][0].get<int64_t>(), c["stride"][1].get<int64_t>()};
  a.dilation = {c["dilation"][0].get<int64_t>(), c["dilation"][1].get<int64_t>()};
  a.groups = c["groups"].get<int64_t>();
  if (c["padding"].is_string())
    a.padding = Padding(c["padding"].get<std::string>());
  else
    a.padding = Padding(c["padding"][0].get<int64_t>(), c["padding"][1].get<int64_t>());
  return a;
}

void check_all(const std::string& backend) {
  kernels::force_backend(backend);
  for (const auto& file : fixture_files("conv2d_")) {
    SCOPED_TRACE(file + " backend=" + backend);
    auto f = load_fixture(file);
    auto cfg = fixture_config(f);
    Tensor x = fixture_tensor(f, "x").clone().requires_grad_();
    Tensor w = fixture_tensor(f, "w").clone().requires_grad_();
    Tensor b;
    if (cfg["bias"].get<bool>()) b = fixture_tensor(f, "b").clone().requires_grad_();
    Tensor y = ops::conv2d(x, w, b, args_from(cfg));
    EXPECT_TRUE(all_close(y, fixture_tensor(f, "out"), 1e-4, 1e-5));
    y.backward(fixture_tensor(f, "g"));
    EXPECT_TRUE(all_close(x.grad(), fixture_tensor(f, "grad_x"), 1e-4, 1e-5));
    EXPECT_TRUE(all_close(w.grad(), fixture_tensor(f, "grad_w"), 1e-4, 1e-4));
    if (b.defined()) {
      EXPECT_TRUE(all_close(b.grad(), fixture_tensor(f, "grad_b"), 1e-4, 1e-4));
    }
  }
  kernels::force_backend("");
}

}  // namespace

TEST(Conv2dParity, DefaultBackendMatchesPyTorch) { check_all(""); }
TEST(Conv2dParity, ReferenceBackendMatchesPyTorch) { check_all("ref"); }
