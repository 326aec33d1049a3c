// Transposed convolution against PyTorch (float64, rounded once): the output and the
// gradients of x, weight and bias over the cases of python/fixtures/conv_transpose.py
// (strides, paddings, output paddings larger than the padding, dilation, groups, no bias),
// on the default, cpu and reference kernels, through nn::ConvTranspose2d.
#include "convnet/nn/layers.h"
#include "kernels/registry.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;

namespace {
void check(const std::string& backend) {
  kernels::force_backend(backend);
  int count = 0;
  for (const auto& file : fixture_files("conv_transpose_")) {
    SCOPED_TRACE(file + " backend=" + backend);
    auto f = load_fixture(file);
    auto cfg = fixture_config(f);
    Tensor x = fixture_tensor(f, "x").clone().requires_grad_();
    const Tensor& w = fixture_tensor(f, "weight");
    ops::ConvTranspose2dArgs a;
    a.stride = {cfg["stride"].get<int64_t>(), cfg["stride"].get<int64_t>()};
    a.padding = {cfg["padding"].get<int64_t>(), cfg["padding"].get<int64_t>()};
    a.output_padding = {cfg["output_padding"].get<int64_t>(), cfg["output_padding"].get<int64_t>()};
    a.dilation = {cfg["dilation"].get<int64_t>(), cfg["dilation"].get<int64_t>()};
    a.groups = cfg["groups"].get<int64_t>();
    const bool bias = cfg["bias"].get<bool>();
    nn::ConvTranspose2d m(w.size(0), w.size(1) * a.groups, w.size(2), a, bias);
    m.weight.copy_(w);
    if (bias) m.bias.copy_(fixture_tensor(f, "bias"));
    Tensor y = m(x);
    EXPECT_TRUE(all_close(y, fixture_tensor(f, "out"), 1e-5, 1e-5));
    y.backward(fixture_tensor(f, "g"));
    EXPECT_TRUE(all_close(x.grad(), fixture_tensor(f, "grad_x"), 1e-4, 1e-5));
    EXPECT_TRUE(all_close(m.weight.grad(), fixture_tensor(f, "grad_weight"), 1e-4, 1e-5));
    if (bias) {
      EXPECT_TRUE(all_close(m.bias.grad(), fixture_tensor(f, "grad_bias"), 1e-4, 1e-5));
    }
    ++count;
  }
  EXPECT_EQ(count, 7);
  kernels::force_backend("");
}
}  // namespace

TEST(ConvTransposeParity, MatchesPyTorchOnEveryKernelSet) {
  for (const char* b : {"", "cpu", "ref"}) check(b);
}

TEST(ConvTranspose, ErrorsNameTheLayerAndShapes) {
  const Tensor x = Tensor::ones({1, 4, 3, 3});
  expect_error(
      [&] {
        ops::conv_transpose2d(x, Tensor::ones({3, 2, 3, 3}), {}, {}, "up");
      },
      {"up", "expected input with 3 channels", "(1, 4, 3, 3)"});
  ops::ConvTranspose2dArgs a;
  a.stride = {2, 2};
  a.output_padding = {2, 2};
  expect_error([&] { ops::conv_transpose2d(x, Tensor::ones({4, 2, 3, 3}), {}, a); }, {"output_padding", "stride"});
  expect_error([] { nn::ConvTranspose2d(4, 3, 3, {.groups = 2}); }, {"ConvTranspose2d", "divisible by groups"});
}
