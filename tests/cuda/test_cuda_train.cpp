// The command line on a GPU: LeNet-5 on Fashion-MNIST learns there as on the CPU, a run moves
// between devices through its checkpoint (resumed on the other device, and evaluated on the
// CPU), and running out of GPU memory is an error that names what asked. Skipped where no GPU
// is found.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "convnet/core/dtype.h"
#include "core/cuda_backend.h"
#include "util/test_util.h"

namespace convnet {
namespace {

namespace fs = std::filesystem;
using testing::final_accuracy;
using testing::run_cli;
// Debian's dataset-fashion-mnist, or the subset scripts/gpu_bundle.sh carries to a GPU machine.
const std::string kData = [] {
  const char* e = std::getenv("CONVNET_FASHION_MNIST_DIR");
  return std::string(e ? e : "/usr/share/datasets/fashion-mnist");
}();

// "top-1 accuracy: 77.27%" of `convnet eval --quiet`, as a fraction; -1 if absent.
double top1(const std::string& out) {
  const auto at = out.find("top-1 accuracy: ");
  return at == std::string::npos ? -1 : std::stod(out.substr(at + 16)) / 100.0;
}

class CudaTrain : public ::testing::Test {
 protected:
  void SetUp() override {
    if (cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device: " << cuda_backend::no_device_reason();
    if (!fs::exists(kData)) GTEST_SKIP() << "dataset-fashion-mnist is not installed at " << kData;
  }
};

const std::string kRun =
    " --model lenet5 --seed 1 --limit-train 6000 --limit-test 1000 --batch-size 64 --data-dir " + kData;

TEST_F(CudaTrain, LeNetLearnsOnTheGpuAsOnTheCpu) {
  const fs::path dir = fs::temp_directory_path() / "convnet_cuda_train";
  fs::remove_all(dir);
  auto gpu = run_cli("train --device cuda --epochs 2" + kRun + " --out " + (dir / "gpu").string());
  ASSERT_EQ(gpu.status, 0) << gpu.out;
  EXPECT_NE(gpu.out.find("training on cuda:0"), std::string::npos) << gpu.out;
  auto cpu = run_cli("train --device cpu --epochs 2" + kRun + " --out " + (dir / "cpu").string());
  ASSERT_EQ(cpu.status, 0) << cpu.out;
  // Not bit-identical (cuDNN's and the GPU's summation orders), but the same learning.
  EXPECT_GE(final_accuracy(gpu.out), 0.70) << gpu.out;
  EXPECT_NEAR(final_accuracy(gpu.out), final_accuracy(cpu.out), 0.03) << gpu.out << cpu.out;
  // Soft targets on the GPU: MixUp and CutMix, with label smoothing, and Adam.
  auto mix = run_cli(
      "train --device cuda --epochs 1 --mixup 0.2 --cutmix 1.0 --label-smoothing 0.1 --optimizer adam "
      "--lr 0.001" +
      kRun + " --out " + (dir / "mix").string());
  ASSERT_EQ(mix.status, 0) << mix.out;
  EXPECT_GE(final_accuracy(mix.out), 0.50) << mix.out;
  fs::remove_all(dir);
}

// Mixed precision on the GPU: bfloat16, and float16 with dynamic loss scaling, learn as
// float32 does; and bench times a bfloat16 training step there.
TEST_F(CudaTrain, MixedPrecisionLearnsOnTheGpu) {
  const fs::path dir = fs::temp_directory_path() / "convnet_cuda_amp";
  fs::remove_all(dir);
  auto f32 = run_cli("train --device cuda --epochs 2" + kRun + " --out " + (dir / "f32").string());
  ASSERT_EQ(f32.status, 0) << f32.out;
  for (const std::string prec : {"bf16", "fp16"}) {
    SCOPED_TRACE(prec);
    auto r = run_cli("train --device cuda --epochs 2 --precision " + prec + kRun + " --out " + (dir / prec).string());
    ASSERT_EQ(r.status, 0) << r.out;
    EXPECT_GE(final_accuracy(r.out), 0.70) << r.out;
    EXPECT_NEAR(final_accuracy(r.out), final_accuracy(f32.out), 0.03) << r.out << f32.out;
    if (prec == "fp16") {
      EXPECT_NE(r.out.find("loss scaling: dynamic"), std::string::npos) << r.out;
    }
    // The checkpoint of a mixed-precision GPU run evaluates on the CPU.
    auto e = run_cli("eval --quiet --checkpoint " + (dir / prec / "best.safetensors").string());
    EXPECT_EQ(e.status, 0) << e.out;
    EXPECT_GE(top1(e.out), 0.70) << e.out;
  }
  auto b = run_cli("bench --device cuda --model resnet20_b --precision bf16 --batch 64 --seconds 1");
  EXPECT_EQ(b.status, 0) << b.out;
  EXPECT_NE(b.out.find("\"precision\": \"bf16\""), std::string::npos) << b.out;
  fs::remove_all(dir);
}

TEST_F(CudaTrain, ACheckpointResumesOnTheOtherDevice) {
  const fs::path dir = fs::temp_directory_path() / "convnet_cuda_resume";
  for (const auto& [first, second] : {std::pair<std::string, std::string>{"cuda", "cpu"}, {"cpu", "cuda"}}) {
    SCOPED_TRACE(first + " -> " + second);
    fs::remove_all(dir);
    auto a = run_cli("train --device " + first + " --epochs 1" + kRun + " --out " + dir.string());
    ASSERT_EQ(a.status, 0) << a.out;
    auto b = run_cli("train --device " + second + " --epochs 2" + kRun + " --resume " + dir.string());
    ASSERT_EQ(b.status, 0) << b.out;
    EXPECT_NE(b.out.find("epoch 2/2"), std::string::npos) << b.out;
    EXPECT_GE(final_accuracy(b.out), 0.70) << b.out;
    // Either device's checkpoint is an ordinary one: evaluated on the CPU and on the GPU alike.
    auto e = run_cli("eval --quiet --checkpoint " + (dir / "best.safetensors").string());
    EXPECT_EQ(e.status, 0) << e.out;
    auto eg = run_cli("eval --quiet --device cuda --checkpoint " + (dir / "best.safetensors").string());
    EXPECT_EQ(eg.status, 0) << eg.out;
    EXPECT_NEAR(top1(eg.out), top1(e.out), 0.002) << e.out << eg.out;
    EXPECT_GE(top1(e.out), 0.70) << e.out;
  }
  fs::remove_all(dir);
}

// Out of GPU memory is an error message, not a crash: the model, the batch and the bytes
// asked for. ResNet-50 at 224x224 needs about 100 MB of activations per image, so 20,000
// images ask for more than any GPU has.
TEST(CudaCli, OutOfMemoryNamesTheModelTheBatchAndTheBytes) {
  if (cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device: " << cuda_backend::no_device_reason();
  auto r = run_cli("bench --device cuda --model resnet50 --input-size 224 --batch 20000 --seconds 1");
  EXPECT_EQ(r.status, 1) << r.out;  // the CLI's error exit, not a signal
  EXPECT_NE(r.out.find("bench resnet50 at batch 20000: out of GPU memory on cuda:0: asked for "), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("try a smaller --batch"), std::string::npos) << r.out;
  // And a device that does not exist names those that do.
  r = run_cli("bench --device cuda:" + std::to_string(cuda_device_count()) + " --model lenet5 --seconds 0.1");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("no such device; this machine has cpu, cuda:0"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace convnet
