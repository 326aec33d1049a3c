// The caching allocator (core/storage.h) as README describes it: after the first training
// step, a step asks the system for no new buffer, every request is served from the cache,
// and what is live plus cached stays constant; empty_cache() gives the cache back and a
// limit of 0 turns caching off.
#include <malloc.h>

#include <cstring>

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

// The size classes (core/storage.cpp: multiples of 64 bytes up to 4 KiB, then four per power
// of two): a freed buffer is handed out again for a request of its own class, and never for a
// request of a larger class, which it would be too small for.
TEST(CachingAllocator, AFreedBufferServesItsOwnSizeClassOnly) {
  memory::set_cache_limit(int64_t{2} << 30);
  memory::empty_cache();
  memory::Allocator& a = memory::allocator(Device::cpu());
  // Each in a larger class than the one before: 64, 128, 4096, 5120, 6144, 7168, 8192, 10240
  // bytes, then 1.25, 1.5 and 40 MiB.
  const std::vector<size_t> sizes = {1, 65, 4033, 4097, 5121, 6145, 7169, 8193, (1 << 20) + 1, 1310721, 40 << 20};
  for (size_t i = 0; i < sizes.size(); ++i) {
    SCOPED_TRACE("size " + std::to_string(sizes[i]));
    void* p = a.allocate(sizes[i]);
    std::memset(p, 1, sizes[i]);
    a.release(p, sizes[i]);
    const memory::Stats s0 = memory::stats();
    void* again = a.allocate(sizes[i]);
    EXPECT_EQ(again, p) << "a buffer of the same size was not reused";
    EXPECT_EQ(memory::stats().reuses, s0.reuses + 1);
    a.release(again, sizes[i]);
    for (size_t j = i + 1; j < sizes.size(); ++j) {
      void* q = a.allocate(sizes[j]);
      EXPECT_NE(q, p) << "a " << sizes[i] << "-byte buffer served a request of " << sizes[j];
      ASSERT_GE(malloc_usable_size(q), sizes[j]) << "a buffer too small for a request of " << sizes[j];
      std::memset(q, 2, sizes[j]);
      a.release(q, sizes[j]);
    }
    memory::empty_cache();
  }
}
