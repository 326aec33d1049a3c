// Losses against PyTorch: F.cross_entropy (labels, label smoothing, class probabilities),
// F.nll_loss and F.mse_loss, output and gradients of sum(out * g), for every reduction,
// over the grid of python/fixtures/loss.py.
#include "convnet/ops/loss.h"
#include "kernels/registry.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;

namespace {

Reduction reduction_of(const nlohmann::json& cfg) {
  const std::string r = cfg["reduction"].get<std::string>();
  if (r == "mean") return Reduction::Mean;
  if (r == "sum") return Reduction::Sum;
  EXPECT_EQ(r, "none");
  return Reduction::None;
}

// Labels are stored as int64 and read back as float (exact for class indices).
Labels labels_of(const Tensor& t) {
  Labels out;
  for (float v : t.to_vector()) out.push_back(static_cast<int64_t>(v));
  return out;
}

// python/safetensors_io.py stores PyTorch's 0-d losses (and their g) as shape (1)
// (np.ascontiguousarray makes arrays at least 1-D); ours are 0-d, as PyTorch's.
Tensor as_loss_shape(const Tensor& t, Reduction r) {
  if (r == Reduction::None) return t;
  EXPECT_EQ(t.numel(), 1);
  return t.reshape({});
}

}  // namespace

// Cross-entropy with labels has a CPU kernel besides the reference one: both against PyTorch.
TEST(LossParity, CrossEntropyWithLabels) {
  for (const char* backend : {"", "ref"}) {
    kernels::force_backend(backend);
    SCOPED_TRACE(std::string("backend ") + (*backend ? backend : "default"));
    for (const auto& file : fixture_files("loss_ce_")) {
      SCOPED_TRACE(file);
      auto f = load_fixture(file);
      auto cfg = fixture_config(f);
      Tensor x = fixture_tensor(f, "x").clone().requires_grad_();
      Tensor y = ops::cross_entropy(x, labels_of(fixture_tensor(f, "target")), reduction_of(cfg),
                                    cfg["label_smoothing"].get<double>());
      EXPECT_TRUE(all_close(y, as_loss_shape(fixture_tensor(f, "out"), reduction_of(cfg)), 1e-5, 1e-5));
      y.backward(as_loss_shape(fixture_tensor(f, "g"), reduction_of(cfg)));
      EXPECT_TRUE(all_close(x.grad(), fixture_tensor(f, "grad_x"), 1e-4, 1e-6));
    }
  }
  kernels::force_backend("");
}

TEST(LossParity, CrossEntropyWithProbabilities) {
  for (const auto& file : fixture_files("loss_softce_")) {
    SCOPED_TRACE(file);
    auto f = load_fixture(file);
    auto cfg = fixture_config(f);
    Tensor x = fixture_tensor(f, "x").clone().requires_grad_();
    Tensor p = fixture_tensor(f, "target_probs").clone().requires_grad_();
    Tensor y = ops::cross_entropy(x, p, reduction_of(cfg));
    EXPECT_TRUE(all_close(y, as_loss_shape(fixture_tensor(f, "out"), reduction_of(cfg)), 1e-5, 1e-5));
    y.backward(as_loss_shape(fixture_tensor(f, "g"), reduction_of(cfg)));
    EXPECT_TRUE(all_close(x.grad(), fixture_tensor(f, "grad_x"), 1e-4, 1e-6));
    EXPECT_TRUE(all_close(p.grad(), fixture_tensor(f, "grad_target_probs"), 1e-4, 1e-6));
  }
}

TEST(LossParity, NllLoss) {
  for (const auto& file : fixture_files("loss_nll_")) {
    SCOPED_TRACE(file);
    auto f = load_fixture(file);
    auto cfg = fixture_config(f);
    Tensor lp = fixture_tensor(f, "log_probs").clone().requires_grad_();
    Tensor y = ops::nll_loss(lp, labels_of(fixture_tensor(f, "target")), reduction_of(cfg));
    EXPECT_TRUE(all_close(y, as_loss_shape(fixture_tensor(f, "out"), reduction_of(cfg)), 1e-5, 1e-6));
    y.backward(as_loss_shape(fixture_tensor(f, "g"), reduction_of(cfg)));
    EXPECT_TRUE(all_close(lp.grad(), fixture_tensor(f, "grad_log_probs"), 1e-5, 1e-7));
  }
}

TEST(LossParity, MseLoss) {
  for (const auto& file : fixture_files("loss_mse_")) {
    SCOPED_TRACE(file);
    auto f = load_fixture(file);
    auto cfg = fixture_config(f);
    Tensor x = fixture_tensor(f, "input").clone().requires_grad_();
    Tensor t = fixture_tensor(f, "target").clone().requires_grad_();
    Tensor y = ops::mse_loss(x, t, reduction_of(cfg));
    EXPECT_TRUE(all_close(y, as_loss_shape(fixture_tensor(f, "out"), reduction_of(cfg)), 1e-5, 1e-6));
    y.backward(as_loss_shape(fixture_tensor(f, "g"), reduction_of(cfg)));
    EXPECT_TRUE(all_close(x.grad(), fixture_tensor(f, "grad_input"), 1e-5, 1e-6));
    EXPECT_TRUE(all_close(t.grad(), fixture_tensor(f, "grad_target"), 1e-5, 1e-6));
  }
}
