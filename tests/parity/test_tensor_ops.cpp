// The ops behind ONNX import against PyTorch: broadcast_to, permute, channel_shuffle, constant_pad (F.pad,
// including negative padding) and clamp, output and gradient of sum(out * g), over the
// grid of python/fixtures/tensor_ops.py. All but clamp are copies: exact.
#include <limits>

#include "convnet/ops/broadcast.h"
#include "convnet/ops/clamp.h"
#include "convnet/ops/pad.h"
#include "convnet/ops/permute.h"
#include "kernels/registry.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;

namespace {

template <class Op>
int check(const std::string& prefix, const std::string& backend, Op op, double rtol, double atol) {
  kernels::force_backend(backend);
  int count = 0;
  for (const auto& file : fixture_files(prefix)) {
    SCOPED_TRACE(file + " backend=" + backend);
    auto f = load_fixture(file);
    Tensor x = fixture_tensor(f, "x").clone().requires_grad_();
    Tensor y = op(x, fixture_config(f));
    EXPECT_TRUE(all_close(y, fixture_tensor(f, "out"), rtol, atol));
    y.backward(fixture_tensor(f, "g"));
    EXPECT_TRUE(all_close(x.grad(), fixture_tensor(f, "grad_x"), rtol, atol));
    ++count;
  }
  kernels::force_backend("");
  return count;
}

Tensor broadcast(const Tensor& x, const nlohmann::json& c) {
  return ops::broadcast_to(x, c["shape"].get<Shape>());
}
Tensor permute(const Tensor& x, const nlohmann::json& c) {
  return ops::permute(x, c["dims"].get<std::vector<int64_t>>());
}
Tensor index_pad(const Tensor& x, const nlohmann::json& c) {
  return ops::pad(x, c["pads"].get<std::vector<std::array<int64_t, 2>>>(), c["mode"].get<std::string>());
}
Tensor shuffle(const Tensor& x, const nlohmann::json& c) {
  return ops::channel_shuffle(x, c["groups"].get<int64_t>());
}
Tensor pad(const Tensor& x, const nlohmann::json& c) {
  return ops::constant_pad(x, c["pads"].get<std::vector<std::array<int64_t, 2>>>(), c["value"].get<float>());
}
// The generator writes +-1e30 for a missing bound (JSON has no infinity).
Tensor clamp(const Tensor& x, const nlohmann::json& c) {
  const double inf = std::numeric_limits<double>::infinity();
  const double lo = c["min"].get<double>(), hi = c["max"].get<double>();
  return ops::clamp(x, lo <= -1e30 ? -inf : lo, hi >= 1e30 ? inf : hi);
}

}  // namespace

TEST(TensorOpsParity, BroadcastToMatchesPyTorch) {
  for (const char* b : {"", "ref"}) EXPECT_EQ(check("broadcast_to_", b, broadcast, 0, 1e-6), 7);
}
TEST(TensorOpsParity, PermuteMatchesPyTorch) {
  for (const char* b : {"", "ref"}) EXPECT_EQ(check("permute_", b, permute, 0, 0), 5);
}
// F.pad's reflect, replicate and circular modes on 3-D, 4-D and 5-D inputs (sums in the
// gradient where borders are copied twice: float rounding only).
TEST(TensorOpsParity, ReflectReplicateCircularPadMatchPyTorch) {
  for (const char* b : {"", "ref"}) EXPECT_EQ(check("index_pad_", b, index_pad, 1e-6, 1e-6), 8);
}
TEST(TensorOpsParity, ChannelShuffleMatchesPyTorch) {
  for (const char* b : {"", "ref"}) EXPECT_EQ(check("channel_shuffle_", b, shuffle, 0, 0), 4);
}
TEST(TensorOpsParity, ConstantPadMatchesPyTorch) {
  for (const char* b : {"", "ref"}) EXPECT_EQ(check("constant_pad_", b, pad, 0, 0), 5);
}
TEST(TensorOpsParity, ClampMatchesPyTorch) {
  for (const char* b : {"", "ref"}) EXPECT_EQ(check("clamp_", b, clamp, 0, 0), 4);
}
