// Model parity on the GPU against the CPU: the same zoo model built twice from one seed, one
// copy moved to the GPU with Module::to, one batch through both in train and eval mode; the
// logits, the loss, every parameter gradient, the running statistics and the parameters after
// an SGD step must agree to float32 rounding (different summation orders: cuDNN's algorithms,
// the GPU's reductions). Skipped where no GPU is found.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "convnet/core/rng.h"
#include "convnet/core/tensor.h"
#include "convnet/models/registry.h"
#include "convnet/nn/module.h"
#include "convnet/ops/autocast.h"
#include "convnet/ops/loss.h"
#include "convnet/optim/sgd.h"
#include "core/cuda_backend.h"
#include "util/variants.h"

namespace convnet {
namespace {

using testing::close;

class CudaModels : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device: " << cuda_backend::no_device_reason();
  }
};

void expect_same(const std::vector<float>& gpu, const std::vector<float>& cpu, const std::string& what, double rtol,
                 double atol) {
  EXPECT_TRUE(close(gpu, cpu, rtol, atol)) << what;
}

TEST_P(CudaModels, TrainAndEvalMatchTheCpu) {
  const std::string name = GetParam();
  models::ModelArgs args;
  args.num_classes = 10;
  args.in_channels = 3;
  const int64_t size = name == "resnet20_b" ? 32 : 64;
  manual_seed(7);
  nn::ModulePtr cpu = models::create(name, args);
  manual_seed(7);
  nn::ModulePtr gpu = models::create(name, args);
  gpu->to(Device::cuda());
  for (const auto& [n, t] : gpu->named_parameters()) ASSERT_EQ(t.device(), Device::cuda()) << n;

  Generator gen(11);
  const Tensor x = Tensor::randn({8, 3, size, size}, gen);
  const Labels labels = {0, 1, 2, 3, 4, 5, 6, 7};
  optim::SGD opt_cpu(cpu->parameters(), {.lr = 0.1, .momentum = 0.9});
  optim::SGD opt_gpu(gpu->parameters(), {.lr = 0.1, .momentum = 0.9});
  for (bool training : {true, false}) {
    SCOPED_TRACE(training ? "train mode" : "eval mode");
    cpu->train(training);
    gpu->train(training);
    // The same dropout masks on both: one seed before each forward (the masks are counter-based).
    manual_seed(99);
    Tensor yc = cpu->forward(x);
    manual_seed(99);
    Tensor yg = gpu->forward(x.to(Device::cuda()));
    ASSERT_EQ(yg.device(), Device::cuda());
    expect_same(yg.to_vector(), yc.to_vector(), "logits", 1e-3, 1e-4);
    Tensor lc = ops::cross_entropy(yc, labels), lg = ops::cross_entropy(yg, labels);
    EXPECT_NEAR(lg.item(), lc.item(), 1e-4 * (1 + std::abs(lc.item())));
    if (!training) continue;
    lc.backward();
    lg.backward();
    const auto pc = cpu->named_parameters(), pg = gpu->named_parameters();
    ASSERT_EQ(pc.size(), pg.size());
    for (size_t i = 0; i < pc.size(); ++i) {
      ASSERT_TRUE(pg[i].second.grad().defined()) << pg[i].first;
      expect_same(pg[i].second.grad().to_vector(), pc[i].second.grad().to_vector(), "gradient of " + pc[i].first, 1e-3,
                  1e-4);
    }
    const auto bc = cpu->named_buffers(), bg = gpu->named_buffers();
    for (size_t i = 0; i < bc.size(); ++i)
      if (bc[i].second.dtype() == DType::float32)
        expect_same(bg[i].second.to_vector(), bc[i].second.to_vector(), "buffer " + bc[i].first, 1e-4, 1e-5);
    opt_cpu.step();
    opt_gpu.step();
    for (size_t i = 0; i < pc.size(); ++i)
      expect_same(pg[i].second.to_vector(), pc[i].second.to_vector(), "after SGD: " + pc[i].first, 1e-4, 1e-5);
  }
}

// The three (convolutions, depthwise and grouped ones, ReLU6, dropout, concatenation,
// average pooling) and the CIFAR ResNet.
INSTANTIATE_TEST_SUITE_P(Zoo, CudaModels, ::testing::Values("resnet18", "mobilenet_v2", "densenet121", "resnet20_b"));

// Mixed precision on the GPU (bfloat16 and float16 autocast): its error against float32 is
// of the size of the CPU's own mixed-precision error. Both devices run the same model from the
// same seed on one batch in train mode; the float32 CPU run is the truth, and for the logits
// and every parameter gradient the GPU's relative error (L2) must be within 3x the CPU's at
// the same precision, plus 2e-3 (two implementations round differently: cuDNN writes its
// products in T and rounds the bias in a second step, the CPU's oneDNN or reference kernels
// do not).
double rel_err(const std::vector<float>& a, const std::vector<float>& e) {
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    num += (static_cast<double>(a[i]) - e[i]) * (static_cast<double>(a[i]) - e[i]);
    den += static_cast<double>(e[i]) * e[i];
  }
  return std::sqrt(num / (den + 1e-30));
}
struct Outputs {
  std::vector<float> logits;
  std::vector<std::vector<float>> grads;
};
Outputs run_once(const std::string& name, Device dev, DType precision) {
  models::ModelArgs args;
  args.num_classes = 10;
  args.in_channels = 3;
  manual_seed(7);
  nn::ModulePtr m = models::create(name, args);
  m->to(dev);
  m->train(true);
  Generator gen(11);
  const Tensor x = Tensor::randn({8, 3, 32, 32}, gen).to(dev);
  manual_seed(99);
  Tensor y;
  {
    autocast ac(precision);
    y = m->forward(x);
  }
  Outputs r;
  r.logits = y.to(DType::float32).to_vector();
  ops::cross_entropy(y.to(DType::float32), Labels{0, 1, 2, 3, 4, 5, 6, 7}).backward();
  for (const auto& [n, t] : m->named_parameters()) {
    EXPECT_TRUE(t.grad().defined()) << n;
    if (!t.grad().defined()) continue;
    EXPECT_EQ(t.grad().dtype(), DType::float32) << n;  // the masters' gradients stay float32
    r.grads.push_back(t.grad().to_vector());
  }
  return r;
}

class CudaMixedPrecision : public CudaModels {};

TEST_P(CudaMixedPrecision, ErrorAgainstFloat32IsTheCpusOwn) {
  const std::string name = GetParam();
  const Outputs truth = run_once(name, Device::cpu(), DType::float32);
  for (DType t : {DType::bfloat16, DType::float16}) {
    SCOPED_TRACE(dtype_name(t));
    const Outputs cpu = run_once(name, Device::cpu(), t);
    const Outputs gpu = run_once(name, Device::cuda(), t);
    ASSERT_EQ(gpu.grads.size(), truth.grads.size());
    const double ec = rel_err(cpu.logits, truth.logits), eg = rel_err(gpu.logits, truth.logits);
    EXPECT_LE(eg, 3 * ec + 2e-3) << "logits: gpu " << eg << ", cpu " << ec;
    EXPECT_GT(eg, 0) << "the GPU run computed in float32, not in " << dtype_name(t);
    for (size_t i = 0; i < truth.grads.size(); ++i) {
      const double gc = rel_err(cpu.grads[i], truth.grads[i]), gg = rel_err(gpu.grads[i], truth.grads[i]);
      EXPECT_LE(gg, 3 * gc + 2e-3) << "gradient " << i << ": gpu " << gg << ", cpu " << gc;
    }
  }
}

// Convolution, batch norm, ReLU, residual adds, pooling and linear in T (resnet20_b), and
// depthwise convolutions with ReLU6, which computes in float32 between them (mobilenet_v2).
INSTANTIATE_TEST_SUITE_P(Zoo, CudaMixedPrecision, ::testing::Values("resnet20_b", "mobilenet_v2"));

}  // namespace
}  // namespace convnet
