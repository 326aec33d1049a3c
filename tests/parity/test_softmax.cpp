// softmax / log_softmax against PyTorch: output and gradient of sum(out * g) over the
// ranks, dims and scales of python/fixtures/softmax.py (incl. dim=1 of (N, C, H, W),
// dim=-1 of (N, K) and logits of magnitude 1000), on the default and reference backends.
#include "convnet/ops/softmax.h"
#include "kernels/registry.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;

namespace {

void check_all(const std::string& backend) {
  kernels::force_backend(backend);
  int count = 0;
  for (const auto& file : fixture_files("softmax_")) {
    SCOPED_TRACE(file + " backend=" + backend);
    auto f = load_fixture(file);
    auto cfg = fixture_config(f);
    Tensor x = fixture_tensor(f, "x").clone().requires_grad_();
    const int64_t dim = cfg["dim"].get<int64_t>();
    Tensor y = cfg["op"].get<std::string>() == "softmax" ? ops::softmax(x, dim) : ops::log_softmax(x, dim);
    EXPECT_TRUE(all_close(y, fixture_tensor(f, "out"), 1e-5, 1e-6));
    y.backward(fixture_tensor(f, "g"));
    EXPECT_TRUE(all_close(x.grad(), fixture_tensor(f, "grad_x"), 1e-5, 1e-6));
    ++count;
  }
  EXPECT_GE(count, 22);  // both ops over every case
  kernels::force_backend("");
}

}  // namespace

TEST(SoftmaxParity, DefaultBackendMatchesPyTorch) {
  check_all("");
}
TEST(SoftmaxParity, ReferenceBackendMatchesPyTorch) {
  check_all("ref");
}
