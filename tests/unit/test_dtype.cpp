// Tensors carry a DType and a Device (core/dtype.h): construction, the element accessors
// that refuse another dtype or device by name, to(DType) with its gradient, to(Device)
// and parse_device on a build without CUDA, Module::to in place, the per-device allocator,
// safetensors in BF16/F16/integer dtypes, and ops that name both operands when their
// dtypes or devices differ.
#include <cmath>
#include <filesystem>

#include "convnet/core/rng.h"
#include "convnet/core/storage.h"
#include "convnet/core/tensor.h"
#include "convnet/io/safetensors.h"
#include "convnet/nn/layers.h"
#include "convnet/ops/activation.h"
#include "convnet/ops/autocast.h"
#include "convnet/ops/concat.h"
#include "convnet/ops/conv2d.h"
#include "convnet/ops/elementwise.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;

TEST(DType, NamesSizesAndParsing) {
  EXPECT_EQ(dtype_size(DType::bfloat16), 2);
  EXPECT_EQ(dtype_size(DType::int64), 8);
  EXPECT_EQ(std::string(dtype_name(DType::bool_)), "bool");
  EXPECT_EQ(parse_dtype("bf16"), DType::bfloat16);
  EXPECT_EQ(parse_dtype("float16"), DType::float16);
  expect_error([] { parse_dtype("fp8"); }, {"unknown dtype 'fp8'", "bfloat16 (bf16)"});
  // Round to nearest even: 1 + 2^-8 is halfway between bf16 1 and 1 + 2^-7, and goes to 1;
  // 1 + 3 * 2^-8 is halfway between 1 + 2^-7 and 1 + 2^-6, and goes to the even 1 + 2^-6.
  EXPECT_EQ(from_bf16(to_bf16(1.f + 1.f / 256)), 1.f);
  EXPECT_EQ(from_bf16(to_bf16(1.f + 3.f / 256)), 1.f + 1.f / 64);
  EXPECT_EQ(from_f16(to_f16(65504.f)), 65504.f);
  EXPECT_TRUE(std::isinf(from_f16(to_f16(65520.f))));
  EXPECT_TRUE(std::isnan(from_bf16(to_bf16(NAN))));
}

TEST(DType, TensorsCarryDTypeAndDeviceAndRefuseTheWrongAccessor) {
  Tensor f = Tensor::zeros({2, 3});
  EXPECT_EQ(f.dtype(), DType::float32);
  EXPECT_TRUE(f.device().is_cpu());
  Tensor b = Tensor::empty({2, 3}, DType::bfloat16);
  EXPECT_EQ(b.dtype(), DType::bfloat16);
  EXPECT_NE(b.data_as<bf16_t>(), nullptr);
  expect_error([&] { b.data(); }, {"Tensor::data", "expected a float32 tensor on the cpu", "got bfloat16 on cpu"});
  expect_error([&] { f.data_as<int64_t>(); }, {"data_as<int64>", "the tensor is float32 on cpu"});
  EXPECT_EQ(b.reshape({3, 2}).dtype(), DType::bfloat16);
  EXPECT_EQ(b.detach().dtype(), DType::bfloat16);
  EXPECT_EQ(b.clone().dtype(), DType::bfloat16);
}

TEST(DType, ToConvertsAndItsGradientComesBack) {
  Generator gen(3);
  Tensor x = Tensor::randn({64}, gen).requires_grad_();
  EXPECT_EQ(x.to(DType::float32).impl(), x.impl());  // the same tensor
  Tensor y = x.to(DType::bfloat16).to(DType::float32);
  const Tensor g = Tensor::randn({64}, gen);
  y.backward(g);
  for (int64_t i = 0; i < 64; ++i) {
    EXPECT_EQ(y.data()[i], from_bf16(to_bf16(x.data()[i])));
    // d y / d x = 1, through two roundings of g: to bf16 on the way back, then to float32.
    EXPECT_EQ(x.grad().data()[i], from_bf16(to_bf16(g.data()[i])));
  }
  Tensor i = Tensor::from_vector({3}, {-2.7f, 0.f, 3.9f}).to(DType::int64);
  EXPECT_EQ(i.data_as<int64_t>()[0], -2);
  EXPECT_EQ(i.data_as<int64_t>()[2], 3);
  EXPECT_EQ(i.to(DType::float32).to_vector(), (std::vector<float>{-2.f, 0.f, 3.f}));
}

TEST(DType, CudaIsRefusedByABuildWithoutIt) {
  if (cuda_built()) return;  // a CUDA build: CudaWithoutAGpuNamesWhatIsMissing, and tests/cuda
  const std::string msg = "this build of convnet has no CUDA support (configure with CUDA found)";
  expect_error([] { parse_device("cuda"); }, {"--device cuda", msg});
  expect_error([] { parse_device("cuda:3"); }, {msg});
  expect_error([] { parse_device("gpu"); }, {"unknown device 'gpu'", "cpu, cuda or cuda:N"});
  EXPECT_TRUE(parse_device("cpu").is_cpu());
  expect_error([] { Tensor::zeros({2}).to(Device::cuda(0)); }, {"Tensor::to(cuda:0)", msg});
  expect_error([] { memory::allocator(Device::cuda(0)); }, {"no allocator for cuda:0", msg});
  EXPECT_EQ(&memory::allocator(Device::cpu()), &memory::allocator(Device::cpu()));
  EXPECT_EQ(Tensor::zeros({2}).to(Device::cpu()).device(), Device::cpu());
}

// A build with the CUDA backend on a machine without a GPU (CI, the development machines):
// every way to reach a GPU says that none was found, with the driver's reason.
TEST(DType, CudaWithoutAGpuNamesWhatIsMissing) {
  if (!cuda_built() || cuda_device_count() > 0) return;  // CudaIsRefusedByABuildWithoutIt, or tests/cuda
  EXPECT_EQ(cuda_device_count(), 0);
  expect_error([] { parse_device("cuda"); }, {"--device cuda: no CUDA device was found ("});
  expect_error([] { parse_device("cuda:1"); }, {"--device cuda:1: no CUDA device was found ("});
  expect_error([] { Tensor::zeros({2}).to(Device::cuda(0)); }, {"Tensor::to(cuda:0): no CUDA device was found ("});
  expect_error([] { memory::allocator(Device::cuda(0)); }, {"cuda:0: no CUDA device was found"});
  expect_error([] { Tensor::empty({2}, DType::float32, Device::cuda(0)); }, {"no CUDA device was found"});
  EXPECT_EQ(Tensor::zeros({2}).to(Device::cpu()).device(), Device::cpu());
}

TEST(DType, ModuleToConvertsInPlaceAndKeepsHandles) {
  manual_seed(1);
  nn::Conv2d conv{nn::Conv2dOptions(3, 4, 3)};
  const std::vector<float> w32 = conv.weight.to_vector();
  Tensor handle = conv.weight;
  conv.to(DType::bfloat16);
  EXPECT_EQ(conv.weight.dtype(), DType::bfloat16);
  EXPECT_EQ(handle.dtype(), DType::bfloat16);  // the layer's own handle and ours: one tensor
  EXPECT_TRUE(handle.requires_grad());
  conv.to(DType::float32);
  const auto back = conv.weight.to_vector();
  for (size_t i = 0; i < w32.size(); ++i) EXPECT_EQ(back[i], from_bf16(to_bf16(w32[i])));
  nn::BatchNorm2d bn(4);
  bn.to(DType::float16);
  for (auto& [n, b] : bn.named_buffers())
    EXPECT_EQ(b.dtype(), is_floating(b.dtype()) ? DType::float16 : DType::int64) << n;
  expect_error([&] { conv.to(DType::int32); }, {"Conv2d.to(int32)", "floating dtype only"});
}

TEST(DType, SafetensorsKeepsEveryDType) {
  TempDir dir("dtype_st");
  std::map<std::string, Tensor> t;
  Generator gen(2);
  const Tensor x = Tensor::randn({5, 3}, gen);
  t["bf16"] = x.to(DType::bfloat16);
  t["f16"] = x.to(DType::float16);
  t["f32"] = x;
  t["i64"] = Tensor::from_vector({3}, {-5.f, 0.f, 123456.f}).to(DType::int64);
  t["i32"] = Tensor::from_vector({2}, {-1.f, 7.f}).to(DType::int32);
  t["u8"] = Tensor::from_vector({2}, {0.f, 255.f}).to(DType::uint8);
  t["bool"] = Tensor::from_vector({3}, {0.f, 2.f, -1.f}).to(DType::bool_);
  io::save_safetensors(dir / "a.safetensors", t);
  const auto kept = io::load_safetensors(dir / "a.safetensors", /*keep_dtypes=*/true);
  for (const auto& [name, v] : t) {
    SCOPED_TRACE(name);
    const Tensor& r = kept.tensors.at(name);
    ASSERT_EQ(r.dtype(), v.dtype());
    ASSERT_EQ(r.shape(), v.shape());
    EXPECT_EQ(std::memcmp(r.raw_ptr(), v.raw_ptr(), static_cast<size_t>(v.numel() * dtype_size(v.dtype()))), 0);
  }
  EXPECT_EQ(kept.dtypes.at("bf16"), "BF16");
  EXPECT_EQ(kept.dtypes.at("bool"), "BOOL");
  // Without keep_dtypes everything reads as float32 (what load_state_dict and the CLI use).
  const auto f = io::load_safetensors(dir / "a.safetensors");
  EXPECT_EQ(f.tensors.at("bf16").dtype(), DType::float32);
  EXPECT_EQ(f.tensors.at("bf16").to_vector(), t["bf16"].to(DType::float32).to_vector());
  EXPECT_EQ(f.tensors.at("i64").to_vector(), (std::vector<float>{-5.f, 0.f, 123456.f}));
  EXPECT_EQ(f.tensors.at("bool").to_vector(), (std::vector<float>{0.f, 1.f, 1.f}));
}

TEST(DType, OpsNameBothOperandsOfTwoDTypes) {
  const Tensor a = Tensor::ones({2, 2}), b = Tensor::ones({2, 2}).to(DType::bfloat16);
  expect_error([&] { ops::add(a, b); }, {"add: operands of two dtypes", "a is float32", "b is bfloat16"});
  const Tensor x = Tensor::ones({1, 3, 4, 4}), w = Tensor::ones({2, 3, 3, 3}).to(DType::float16);
  expect_error([&] { ops::conv2d(x, w, Tensor(), {}, "conv1 (Conv2d)"); },
               {"conv1 (Conv2d): operands of two dtypes", "input is float32", "weight is float16"});
  expect_error([&] { ops::concat({a, b}, 1, "cat"); }, {"cat: operands of two dtypes", "bfloat16"});
  // One reduced dtype computes in it; an op with float32 kernels only returns float32
  // (ops/autocast.h); under autocast two floating dtypes add in float32, as PyTorch.
  const Tensor bb = ops::add(b, b);
  EXPECT_EQ(bb.dtype(), DType::bfloat16);
  EXPECT_EQ(bb.to(DType::float32).to_vector(), std::vector<float>(4, 2.f));
  EXPECT_EQ(ops::sigmoid(b).dtype(), DType::float32);
  {
    autocast guard(DType::bfloat16);
    const Tensor ab = ops::add(a, b);
    EXPECT_EQ(ab.dtype(), DType::float32);
    EXPECT_EQ(ab.to_vector(), std::vector<float>(4, 2.f));
  }
}
