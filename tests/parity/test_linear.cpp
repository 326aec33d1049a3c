// linear against PyTorch: output and the gradients of sum(out * g) for x, weight, bias,
// over the shapes of python/fixtures/linear.py, on the default (BLAS) and reference backends.
#include "convnet/ops/linear.h"
#include "kernels/registry.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;

namespace {

void check_all(const std::string& backend) {
  kernels::force_backend(backend);
  for (const auto& file : fixture_files("linear_")) {
    SCOPED_TRACE(file + " backend=" + backend);
    auto f = load_fixture(file);
    auto cfg = fixture_config(f);
    Tensor x = fixture_tensor(f, "x").clone().requires_grad_();
    Tensor w = fixture_tensor(f, "weight").clone().requires_grad_();
    Tensor b;
    if (cfg["bias"].get<bool>()) b = fixture_tensor(f, "bias").clone().requires_grad_();
    Tensor y = ops::linear(x, w, b);
    EXPECT_TRUE(all_close(y, fixture_tensor(f, "out"), 1e-4, 1e-5));
    y.backward(fixture_tensor(f, "g"));
    EXPECT_TRUE(all_close(x.grad(), fixture_tensor(f, "grad_x"), 1e-4, 1e-5));
    EXPECT_TRUE(all_close(w.grad(), fixture_tensor(f, "grad_weight"), 1e-4, 1e-4));
    if (b.defined()) {
      EXPECT_TRUE(all_close(b.grad(), fixture_tensor(f, "grad_bias"), 1e-4, 1e-4));
    }
  }
  kernels::force_backend("");
}

}  // namespace

TEST(LinearParity, DefaultBackendMatchesPyTorch) {
  check_all("");
}
TEST(LinearParity, ReferenceBackendMatchesPyTorch) {
  check_all("ref");
}
