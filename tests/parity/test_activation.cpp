// Activations against PyTorch: output and gradient of sum(out * g) for relu, leaky_relu
// (slopes 0.01 and 0.2), relu6, tanh, sigmoid, hardsigmoid, hardswish, silu, gelu (erf and
// tanh), elu, selu, softplus (beta 1 and 2), softsign, erf, exp, abs, sqrt, floor, ceil, reciprocal and log over the
// shapes of python/fixtures/activation.py (inputs with exact zeros, exact sixes for relu6, and saturating values), on
// the default and reference backends.
#include "convnet/ops/activation.h"
#include "kernels/registry.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;

namespace {

Tensor run_activation(const nlohmann::json& cfg, const Tensor& x) {
  const std::string op = cfg["op"].get<std::string>();
  if (op == "relu") return ops::relu(x);
  if (op == "leaky_relu") return ops::leaky_relu(x, cfg["negative_slope"].get<double>());
  if (op == "relu6") return ops::relu6(x);
  if (op == "tanh") return ops::tanh(x);
  if (op == "hardsigmoid") return ops::hardsigmoid(x);
  if (op == "hardswish") return ops::hardswish(x);
  if (op == "silu") return ops::silu(x);
  if (op == "gelu") return ops::gelu(x, cfg["approximate"].get<std::string>());
  if (op == "elu") return ops::elu(x, cfg["alpha"].get<double>());
  if (op == "selu") return ops::selu(x);
  if (op == "softplus") return ops::softplus(x, cfg["beta"].get<double>());
  if (op == "softsign") return ops::softsign(x);
  if (op == "erf") return ops::erf(x);
  if (op == "exp") return ops::exp(x);
  if (op == "abs") return ops::abs(x);
  if (op == "sqrt") return ops::sqrt(x);
  if (op == "floor") return ops::floor(x);
  if (op == "ceil") return ops::ceil(x);
  if (op == "reciprocal") return ops::reciprocal(x);
  if (op == "log") return ops::log(x);
  EXPECT_EQ(op, "sigmoid");
  return ops::sigmoid(x);
}

void check_all(const std::string& backend) {
  kernels::force_backend(backend);
  int count = 0;
  for (const auto& file : fixture_files("activation_")) {
    SCOPED_TRACE(file + " backend=" + backend);
    auto f = load_fixture(file);
    auto cfg = fixture_config(f);
    Tensor x = fixture_tensor(f, "x").clone().requires_grad_();
    Tensor y = run_activation(cfg, x);
    EXPECT_TRUE(all_close(y, fixture_tensor(f, "out"), 1e-5, 1e-6));
    y.backward(fixture_tensor(f, "g"));
    EXPECT_TRUE(all_close(x.grad(), fixture_tensor(f, "grad_x"), 1e-5, 1e-6));
    ++count;
  }
  EXPECT_GE(count, 125);  // all 25 functions (relu, leaky_relu x2, relu6, tanh, sigmoid, hardsigmoid, hardswish,
                          // silu, gelu x2, elu x2, selu, softplus x2, softsign, erf, exp, abs, sqrt, floor, ceil,
                          // reciprocal, log), 5 shapes each
  kernels::force_backend("");
}

}  // namespace

TEST(ActivationParity, DefaultBackendMatchesPyTorch) {
  check_all("");
}
TEST(ActivationParity, ReferenceBackendMatchesPyTorch) {
  check_all("ref");
}

// PReLU against PyTorch (float64, rounded once): the output and the gradients of x and of
// the slopes, with one slope and one per channel, 4-D, 2-D and 1-D inputs.
TEST(PreluParity, MatchesPyTorchOnBothBackends) {
  for (const char* backend : {"", "ref"}) {
    kernels::force_backend(backend);
    int count = 0;
    for (const auto& file : fixture_files("prelu_")) {
      SCOPED_TRACE(file + " backend=" + backend);
      auto f = load_fixture(file);
      Tensor x = fixture_tensor(f, "x").clone().requires_grad_();
      Tensor w = fixture_tensor(f, "weight").clone().requires_grad_();
      Tensor y = ops::prelu(x, w);
      EXPECT_TRUE(all_close(y, fixture_tensor(f, "out"), 1e-6, 1e-7));
      y.backward(fixture_tensor(f, "g"));
      EXPECT_TRUE(all_close(x.grad(), fixture_tensor(f, "grad_x"), 1e-6, 1e-7));
      EXPECT_TRUE(all_close(w.grad(), fixture_tensor(f, "grad_weight"), 1e-5, 1e-6));
      ++count;
    }
    EXPECT_EQ(count, 5);
    kernels::force_backend("");
  }
}
