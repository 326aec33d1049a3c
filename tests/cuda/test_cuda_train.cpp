// Training on a GPU from the command line: LeNet-5 on Fashion-MNIST learns there as on the
// CPU, and a run moves between devices through its checkpoint (resumed on the other device,
// and evaluated on the CPU). Skipped where no GPU is found.
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
    // The GPU-trained checkpoint is an ordinary one: evaluated on the CPU.
    auto e = run_cli("eval --checkpoint " + (dir / "best.safetensors").string());
    EXPECT_EQ(e.status, 0) << e.out;
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace convnet
