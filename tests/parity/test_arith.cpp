// div, maximum, minimum, pow (two tensors and a scalar exponent), where and batched matmul
// against PyTorch: outputs and the gradients of sum(out * g) over the cases of
// python/fixtures/arith.py (ties, zero bases, 0^0), on the default and reference backends.
#include "convnet/ops/elementwise.h"
#include "convnet/ops/linear.h"
#include "kernels/registry.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;

namespace {

void check_arith(const std::string& backend) {
  kernels::force_backend(backend);
  int count = 0;
  for (const auto& file : fixture_files("arith_")) {
    SCOPED_TRACE(file + " backend=" + backend);
    auto f = load_fixture(file);
    auto cfg = fixture_config(f);
    const std::string op = cfg["op"].get<std::string>();
    Tensor a = fixture_tensor(f, "a").clone().requires_grad_(), b, y;
    if (op == "pow_scalar") {
      y = ops::pow(a, cfg["exponent"].get<float>());
    } else {
      b = fixture_tensor(f, "b").clone().requires_grad_();
      if (op == "div") y = ops::div(a, b);
      if (op == "maximum") y = ops::maximum(a, b);
      if (op == "minimum") y = ops::minimum(a, b);
      if (op == "pow") y = ops::pow(a, b);
      if (op == "where") y = ops::where(fixture_tensor(f, "c"), a, b);
      if (op == "matmul") y = ops::matmul(a, b);
    }
    ASSERT_TRUE(y.defined()) << "unknown op " << op;
    EXPECT_TRUE(all_close(y, fixture_tensor(f, "out"), 1e-5, 1e-6));
    y.backward(fixture_tensor(f, "g"));
    EXPECT_TRUE(all_close(a.grad(), fixture_tensor(f, "grad_a"), 1e-5, 1e-6));
    if (b.defined()) {
      EXPECT_TRUE(all_close(b.grad(), fixture_tensor(f, "grad_b"), 1e-5, 1e-6));
    }
    ++count;
  }
  EXPECT_GE(count, 28);  // 6 ops x 4 shapes, 4 matmuls
  kernels::force_backend("");
}

}  // namespace

TEST(ArithParity, DefaultBackendMatchesPyTorch) {
  check_arith("");
}
TEST(ArithParity, ReferenceBackendMatchesPyTorch) {
  check_arith("ref");
}
