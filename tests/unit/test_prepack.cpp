// Weights prepacked once (kernels/cpu/onednn_common.h, packed_weights): a convolution's weight
// is reordered into the primitive's layout on the first call and kept while the weight's
// storage and contents version stay the same. Counted with the profiler's "weight_reorder"
// row: once per weight over 100 inference calls, again after the weight changes (and the
// output is then that of the new weight), and the version moves exactly when a tensor hands
// out mutable access to its bytes.
#include "convnet/autograd/autograd.h"
#include "convnet/core/profiler.h"
#include "convnet/core/rng.h"
#include "convnet/nn/layers.h"
#include "convnet/nn/sequential.h"
#include "convnet/ops/activation.h"
#include "convnet/ops/autocast.h"
#include "kernels/conv2d.h"
#include "kernels/registry.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;

namespace {

int64_t reorders() {
  for (const auto& r : profiler::rows())
    if (r.name == "weight_reorder") return r.calls;
  return 0;
}

// Two convolutions whose weights oneDNN wants in a blocked layout of its own.
struct Net {
  nn::Conv2d a{nn::Conv2dOptions(16, 32, 3).padding(1)}, b{nn::Conv2dOptions(32, 32, 3).padding(1)};
  Tensor operator()(const Tensor& x) { return b(ops::relu(a(x))); }
};

// The packing happens only where a backend packs; the reference computes on the user's layout.
bool packs() {
  return kernels::keys::conv2d_fwd_blocked.selected_backend() == "onednn";
}

}  // namespace

TEST(Prepack, VersionMovesOnMutableAccessOnly) {
  Tensor t = Tensor::zeros({4});
  const uint64_t v0 = t.version(), id = t.storage_id();
  const Tensor& c = t;
  (void)c.data(), (void)c.raw_ptr(), (void)c.stored_ptr();
  EXPECT_EQ(t.version(), v0);  // reads do not move it
  t.data()[0] = 1;
  EXPECT_GT(t.version(), v0);
  const uint64_t v1 = t.version();
  Tensor view = t.detach();  // another handle on the same bytes
  view.data()[1] = 2;
  EXPECT_GT(t.version(), v1);
  EXPECT_EQ(view.storage_id(), id);
  EXPECT_NE(Tensor::zeros({4}).storage_id(), id);  // ids are never reused
}

TEST(Prepack, WeightsAreReorderedOncePerWeightAndAgainAfterTheyChange) {
  if (!packs()) GTEST_SKIP() << "the selected conv2d backend packs no weights here";
  for (DType precision : {DType::float32, DType::bfloat16}) {
    SCOPED_TRACE(dtype_name(precision));
    manual_seed(1);
    Net net;
    Generator gen(2);
    const Tensor x = Tensor::randn({1, 16, 8, 8}, gen);
    NoGradGuard no_grad;
    autocast guard(precision);
    Tensor y0 = net(x).to(DType::float32);
    profiler::reset();
    profiler::enable(true);
    for (int i = 0; i < 100; ++i) net(x);
    EXPECT_EQ(reorders(), 0) << "the weights were packed by the first call, before the count";
    // A changed weight (an optimizer step, a load): repacked once, and the output follows.
    net.a.weight.data()[0] += 0.5f;
    Tensor y1 = net(x).to(DType::float32);
    for (int i = 0; i < 10; ++i) net(x);
    profiler::enable(false);
    EXPECT_EQ(reorders(), 1) << "only the changed weight is packed again, once";
    EXPECT_FALSE(all_close(y1, y0, 0, 0));
    kernels::force_backend("ref");
    const Tensor want = net(x).to(DType::float32);
    kernels::force_backend("");
    const double tol = precision == DType::float32 ? 1e-4 : 2e-2;
    EXPECT_TRUE(all_close(y1, want, tol, tol));
  }
}

// Training updates every weight each step: the packed copies follow (the step's output is
// that of the updated weights, as the reference computes it).
TEST(Prepack, TrainingStepsSeeTheUpdatedWeights) {
  manual_seed(3);
  Net net;
  Generator gen(4);
  const Tensor x = Tensor::randn({2, 16, 6, 6}, gen);
  for (int step = 0; step < 3; ++step) {
    Tensor y = net(x);
    ops::relu(y).backward(Tensor::ones(y.shape()));
    for (nn::Conv2d* c : {&net.a, &net.b}) {
      float* w = c->weight.data();  // an SGD step by hand
      const float* g = c->weight.grad().data();
      for (int64_t i = 0; i < c->weight.numel(); ++i) w[i] -= 0.01f * g[i];
      c->weight.zero_grad(), c->bias.zero_grad();
    }
  }
  NoGradGuard no_grad;
  const Tensor got = net(x);
  kernels::force_backend("ref");
  const Tensor want = net(x);
  kernels::force_backend("");
  EXPECT_TRUE(all_close(got, want, 1e-4, 1e-4));
}
