// The caching allocator (core/storage.h) as README describes it: after the first training
// step, a step asks the system for no new buffer, every request is served from the cache,
// and what is live plus cached stays constant; empty_cache() gives the cache back and a
// limit of 0 turns caching off.
#include "convnet/core/rng.h"
#include "convnet/core/storage.h"
#include "convnet/models/registry.h"
#include "convnet/ops/loss.h"
#include "convnet/optim/sgd.h"
#include "util/test_util.h"

using namespace convnet;

namespace {
struct Step {
  nn::ModulePtr model;
  std::unique_ptr<optim::SGD> opt;
  Tensor x;
  Labels y{0, 1, 2, 3};
  Step() {
    manual_seed(1);
    model = models::create("resnet20", {.num_classes = 10, .in_channels = 3});
    opt = std::make_unique<optim::SGD>(model->parameters(), optim::SGDOptions{.lr = 0.01, .momentum = 0.9});
    Generator gen(1);
    x = Tensor::randn({4, 3, 16, 16}, gen);
    model->train();
  }
  void operator()() {
    opt->zero_grad();
    ops::cross_entropy((*model)(x), y).backward();
    opt->step();
  }
};
}  // namespace

TEST(CachingAllocator, TrainingStepsReuseBuffersAfterTheFirst) {
  memory::set_cache_limit(int64_t{2} << 30);
  Step step;
  step();  // the first step allocates; the momentum buffers appear
  step();
  const memory::Stats s0 = memory::stats();
  for (int i = 0; i < 3; ++i) step();
  const memory::Stats s1 = memory::stats();
  EXPECT_EQ(s1.system_allocs, s0.system_allocs) << "a steady-state step asked the system for memory";
  // resnet20: dozens of activations and gradients per step, all from the cache.
  EXPECT_GT(s1.reuses - s0.reuses, 3 * 100);
  EXPECT_EQ(s1.live_bytes + s1.cached_bytes, s0.live_bytes + s0.cached_bytes);
  EXPECT_EQ(s1.peak_bytes, s0.peak_bytes);
  EXPECT_GT(s1.cached_bytes, 0);
  memory::empty_cache();
  EXPECT_EQ(memory::stats().cached_bytes, 0);
}

TEST(CachingAllocator, LimitZeroTurnsCachingOff) {
  Step step;
  memory::set_cache_limit(0);
  memory::empty_cache();
  step();
  const memory::Stats s0 = memory::stats();
  step();
  const memory::Stats s1 = memory::stats();
  EXPECT_EQ(s1.reuses, s0.reuses) << "nothing is cached, so nothing is reused";
  EXPECT_GT(s1.system_allocs - s0.system_allocs, 100);
  EXPECT_EQ(s1.cached_bytes, 0);
  memory::set_cache_limit(int64_t{2} << 30);
}
