// Elementwise ops and concat against PyTorch: a + b, a - b, a * b, a * s, sum, mean,
// x * x + x (a tensor used twice) and torch.cat along several dims, output and gradients
// of sum(out * g), over the grid of python/fixtures/elementwise.py.
#include "convnet/ops/concat.h"
#include "convnet/ops/elementwise.h"
#include "kernels/registry.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;

namespace {

// python/safetensors_io.py stores 0-d tensors as shape (1); sum and mean are 0-d.
Tensor like(const Tensor& fixture, const Tensor& ours) {
  return fixture.shape() == ours.shape() ? fixture : fixture.reshape(ours.shape());
}

void check_elementwise(const std::string& backend) {
  kernels::force_backend(backend);
  int count = 0;
  for (const auto& file : fixture_files("elementwise_")) {
    SCOPED_TRACE(file + " backend=" + backend);
    auto f = load_fixture(file);
    auto cfg = fixture_config(f);
    const std::string op = cfg["op"].get<std::string>();
    Tensor a = fixture_tensor(f, "a").clone().requires_grad_(), b, y;
    if (op == "add" || op == "sub" || op == "mul") {
      b = fixture_tensor(f, "b").clone().requires_grad_();
      y = op == "add" ? a + b : op == "sub" ? a - b : a * b;
    } else if (op == "scale") {
      y = a * cfg["scalar"].get<float>();
    } else if (op == "sum" || op == "mean") {
      y = op == "sum" ? ops::sum(a) : ops::mean(a);
      EXPECT_EQ(y.shape(), Shape{});
    } else {
      ASSERT_EQ(op, "twice");
      y = a * a + a;
    }
    EXPECT_TRUE(all_close(y, like(fixture_tensor(f, "out"), y), 1e-5, 1e-5));
    y.backward(like(fixture_tensor(f, "g"), y));
    EXPECT_TRUE(all_close(a.grad(), fixture_tensor(f, "grad_a"), 1e-5, 1e-6));
    if (b.defined()) {
      EXPECT_TRUE(all_close(b.grad(), fixture_tensor(f, "grad_b"), 1e-5, 1e-6));
    }
    ++count;
  }
  EXPECT_GE(count, 40);
  kernels::force_backend("");
}

void check_concat(const std::string& backend) {
  kernels::force_backend(backend);
  for (const auto& file : fixture_files("concat_")) {
    SCOPED_TRACE(file + " backend=" + backend);
    auto f = load_fixture(file);
    auto cfg = fixture_config(f);
    std::vector<Tensor> xs;
    for (int j = 0; j < cfg["count"].get<int>(); ++j)
      xs.push_back(fixture_tensor(f, "x" + std::to_string(j)).clone().requires_grad_());
    Tensor y = ops::concat(xs, cfg["dim"].get<int64_t>());
    EXPECT_TRUE(all_close(y, fixture_tensor(f, "out"), 0, 0));  // a copy: exact
    y.backward(fixture_tensor(f, "g"));
    for (size_t j = 0; j < xs.size(); ++j)
      EXPECT_TRUE(all_close(xs[j].grad(), fixture_tensor(f, "grad_x" + std::to_string(j)), 0, 0)) << "input " << j;
  }
  kernels::force_backend("");
}

}  // namespace

TEST(ElementwiseParity, DefaultBackendMatchesPyTorch) {
  check_elementwise("");
}
TEST(ElementwiseParity, ReferenceBackendMatchesPyTorch) {
  check_elementwise("ref");
}
TEST(ConcatParity, DefaultBackendMatchesPyTorch) {
  check_concat("");
}
TEST(ConcatParity, ReferenceBackendMatchesPyTorch) {
  check_concat("ref");
}
