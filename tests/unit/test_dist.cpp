// Data parallelism in one process (src/dist/): the process group of a process started
// without mpirun, the post-accumulate gradient hook that starts a bucket's allreduce, the
// gradient reducer's bucketing and weighting, the sharded data loader, and sync batch norm
// against batch norm. The multi-process behaviour is tested under mpirun in
// tests/e2e/test_distributed.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <numeric>

#include "convnet/autograd/autograd.h"
#include "convnet/core/error.h"
#include "convnet/core/rng.h"
#include "convnet/data/dataloader.h"
#include "convnet/dist/data_parallel.h"
#include "convnet/dist/dist.h"
#include "convnet/ops/activation.h"
#include "convnet/ops/batch_norm.h"
#include "convnet/ops/conv2d.h"
#include "convnet/ops/elementwise.h"
#include "convnet/ops/linear.h"
#include "util/test_util.h"

using namespace convnet;
using convnet::testing::all_close;

namespace {
Tensor param(const Shape& s, uint64_t seed) {
  Generator g(seed);
  Tensor t = Tensor::randn(s, g);
  t.requires_grad_(true);
  return t;
}
double sum_of(const Tensor& t) {
  const auto v = t.to_vector();
  return std::accumulate(v.begin(), v.end(), 0.0);
}
}  // namespace

TEST(Dist, WithoutLauncherTheWorldIsOneProcessAndMakesNoMpiCall) {
  ASSERT_EQ(std::getenv("OMPI_COMM_WORLD_SIZE"), nullptr) << "run this test without mpirun";
  dist::ProcessGroup& pg = dist::world();
  EXPECT_EQ(pg.size(), 1);
  EXPECT_EQ(pg.rank(), 0);
  EXPECT_EQ(pg.backend(), "local");
  EXPECT_FALSE(dist::launched());
  EXPECT_EQ(dist::rank_prefix(), "");
  float v[3] = {1.f, -2.f, 3.5f};
  pg.allreduce(v, 3, dist::ReduceOp::average);
  EXPECT_EQ(v[0], 1.f);
  EXPECT_EQ(v[1], -2.f);
  EXPECT_EQ(v[2], 3.5f);
  EXPECT_EQ(pg.allgather("abc"), std::vector<std::string>{"abc"});
  EXPECT_EQ(pg.broadcast(std::string("xyz")), "xyz");
  EXPECT_THROW(pg.broadcast(v, sizeof v, 1), Error);
  EXPECT_TRUE(pg.allreduce_async(v, 3, dist::ReduceOp::sum)->done());
}

TEST(Dist, PostAccumulateHookSeesTheFinalGradientOncePerBackward) {
  // w is used twice: the hook must run once, after both contributions are summed.
  Tensor w = param({4, 3}, 1), b = param({4}, 2);
  Generator g(3);
  const Tensor x = Tensor::randn({5, 3}, g);
  std::vector<std::string> calls;
  double w_sum_at_hook = 0;
  const int64_t id_w = w.register_post_accumulate_grad_hook([&](const Tensor& leaf) {
    calls.push_back("w");
    w_sum_at_hook = sum_of(leaf.grad());
  });
  b.register_post_accumulate_grad_hook([&](const Tensor&) { calls.push_back("b"); });
  Tensor y = ops::add(ops::linear(x, w, b), ops::linear(x, w, Tensor()));
  ops::sum(y).backward();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_DOUBLE_EQ(w_sum_at_hook, sum_of(w.grad()));
  // The gradient of sum(2 x w^T): every row of dw is 2 * the column sums of x.
  const auto xv = x.to_vector();
  double expect = 0;
  for (float e : xv) expect += 2.0 * e * 4;
  EXPECT_NEAR(w_sum_at_hook, expect, 1e-4);
  w.remove_post_accumulate_grad_hook(id_w);
  calls.clear();
  ops::sum(ops::linear(x, w, b)).backward();
  EXPECT_EQ(calls, std::vector<std::string>{"b"});
  // Not a leaf: refused.
  Tensor z = ops::linear(x, w, b);
  EXPECT_THROW(z.register_post_accumulate_grad_hook([](const Tensor&) {}), Error);
}

TEST(Dist, ReducerBucketsInReverseOrderAndWeightsTheGradients) {
  Tensor w1 = param({100, 50}, 4), w2 = param({20, 100}, 5), unused = param({7}, 6);
  dist::ProcessGroup& pg = dist::world();
  dist::ReducerOptions o;
  o.bucket_mb = 100 * 50 * 4 / 1e6;  // w1 fills a bucket alone
  dist::GradientReducer r(pg, {unused, w1, w2}, o);
  EXPECT_EQ(r.num_buckets(), 3);  // reverse order: {w2}, {w1}, {unused}
  Generator g(7);
  const Tensor x = Tensor::randn({3, 50}, g);
  auto loss = [&] { return ops::sum(ops::linear(ops::linear(x, w1, Tensor()), w2, Tensor())); };

  loss().backward();
  const std::vector<float> g1 = w1.grad().to_vector(), g2 = w2.grad().to_vector();
  w1.zero_grad(), w2.zero_grad();

  // One rank holding the whole batch (weight 1): the gradients are unchanged, bit for bit;
  // the parameter that backward did not reach keeps no gradient.
  r.prepare(1.0);
  loss().backward();
  r.finish();
  EXPECT_EQ(w1.grad().to_vector(), g1);
  EXPECT_EQ(w2.grad().to_vector(), g2);
  EXPECT_FALSE(unused.grad().defined());
  EXPECT_EQ(r.stats().steps, 1);
  // The buckets of w2 and w1 were started from the hooks, during backward; the one of
  // `unused` (never ready) by finish().
  EXPECT_EQ(r.stats().launched_during_backward, 2);
  w1.zero_grad(), w2.zero_grad();

  // A rank with a quarter of the batch contributes a quarter of its gradient.
  r.prepare(0.25);
  loss().backward();
  r.finish();
  const auto q1 = w1.grad().to_vector();
  for (size_t i = 0; i < q1.size(); i += 97) EXPECT_EQ(q1[i], g1[i] * 0.25f);
  EXPECT_DOUBLE_EQ(dist::grad_weight(), 0.25);
  dist::set_grad_weight(1.0);
  w1.zero_grad(), w2.zero_grad();

  // An accumulation step communicates nothing and leaves the local gradients alone.
  r.prepare(0.5, /*sync=*/false);
  loss().backward();
  r.finish();
  EXPECT_EQ(w1.grad().to_vector(), g1);
  EXPECT_EQ(r.stats().steps, 2);

  EXPECT_THROW(dist::GradientReducer(pg, {w1}, dist::ReducerOptions{0}), Error);
  EXPECT_THROW(dist::GradientReducer(pg, {ops::add(w1, w1)}, o), Error);  // not a leaf
}

TEST(Dist, ShardsOfAGlobalBatchAreTheSingleRankBatchInOrder) {
  // 2 ranks of batch 3 see exactly what 1 rank of batch 6 sees, split in two; the last
  // global batch (5 of 17 images) is split 2 + 3; the order depends on the seed only.
  data::Dataset d;
  const int64_t n = 17;
  std::vector<float> px(static_cast<size_t>(n * 4));
  std::iota(px.begin(), px.end(), 0.f);
  d.images = Tensor::from_vector({n, 1, 2, 2}, px);
  for (int64_t i = 0; i < n; ++i) d.labels.push_back(i % 3);
  data::LoaderOptions o6;
  o6.batch_size = 6, o6.seed = 11, o6.workers = 0;
  data::DataLoader one(d, o6);
  one.start_epoch(2);
  data::LoaderOptions a = o6, b = o6;
  a.batch_size = b.batch_size = 3, a.world_size = b.world_size = 2, b.rank = 1;
  data::DataLoader r0(d, a), r1(d, b);
  r0.start_epoch(2), r1.start_epoch(2);
  EXPECT_EQ(one.num_batches(), 3);
  EXPECT_EQ(r0.num_batches(), 3);
  EXPECT_EQ(r0.global_batch_size(2), 5);
  for (int64_t i = 0; i < 3; ++i) {
    data::Batch whole, s0, s1;
    one.prepare(i, whole);
    r0.prepare(i, s0);
    r1.prepare(i, s1);
    const int64_t G = whole.x.size(0);
    ASSERT_EQ(s0.x.size(0) + s1.x.size(0), G);
    EXPECT_EQ(s0.x.size(0), G / 2);
    std::vector<float> joined = s0.x.to_vector(), tail = s1.x.to_vector();
    joined.insert(joined.end(), tail.begin(), tail.end());
    EXPECT_EQ(joined, whole.x.to_vector()) << "global batch " << i;
  }
  // A last global batch smaller than the world size is dropped: 17 = 2 * (4 * 2) + 1.
  data::LoaderOptions c = o6;
  c.batch_size = 4, c.world_size = 2;
  EXPECT_EQ(data::DataLoader(d, c).num_batches(), 2);
  c.world_size = 3, c.rank = 3;
  EXPECT_THROW(data::DataLoader(d, c), Error);
}

TEST(Dist, SyncBatchNormOfOneProcessIsBatchNorm) {
  // In a group of one the global batch is the batch: outputs, running statistics and every
  // gradient equal ops::batch_norm's (which has its own finite-difference and PyTorch tests).
  for (const Shape& s : {Shape{4, 3, 5, 5}, Shape{6, 8}, Shape{2, 5, 7}}) {
    const int64_t C = s[1];
    Generator g(9);
    Tensor x1 = Tensor::randn(s, g, 0.5f, 2.f);
    Tensor x2 = x1.clone();
    x1.requires_grad_(true), x2.requires_grad_(true);
    Tensor w1 = param({C}, 10), b1 = param({C}, 11);
    Tensor w2 = w1.detach().clone(), b2 = b1.detach().clone();
    w2.requires_grad_(true), b2.requires_grad_(true);
    Tensor rm1 = Tensor::zeros({C}), rv1 = Tensor::ones({C}), rm2 = rm1.clone(), rv2 = rv1.clone();
    const Tensor gy = Tensor::randn(s, g);
    Tensor y1 = ops::batch_norm(x1, rm1, rv1, w1, b1, true, 0.1, 1e-5);
    Tensor y2 = ops::sync_batch_norm(x2, rm2, rv2, w2, b2, 0.1, 1e-5, dist::world());
    EXPECT_TRUE(all_close(y2, y1, 1e-5, 1e-5)) << shape_str(s);
    EXPECT_TRUE(all_close(rm2, rm1, 1e-6, 1e-6));
    EXPECT_TRUE(all_close(rv2, rv1, 1e-5, 1e-6));
    convnet::testing::backward_with(y1, gy);
    convnet::testing::backward_with(y2, gy);
    EXPECT_TRUE(all_close(x2.grad(), x1.grad(), 1e-4, 1e-5)) << shape_str(s);
    EXPECT_TRUE(all_close(w2.grad(), w1.grad(), 1e-4, 1e-5));
    EXPECT_TRUE(all_close(b2.grad(), b1.grad(), 1e-5, 1e-5));
  }
  // As in a network: the input is a convolution's output (in the backend's blocked layout),
  // the output feeds a ReLU and another convolution.
  {
    Generator g(12);
    const Tensor x = Tensor::randn({4, 16, 7, 7}, g);
    Tensor k1 = param({64, 16, 3, 3}, 13), k2 = param({64, 64, 3, 3}, 14);
    Conv2dArgs a;
    a.padding = Padding(int64_t{1});
    std::vector<std::vector<float>> grads;
    for (int sync = 0; sync < 2; ++sync) {
      Tensor w = Tensor::ones({64}), b = Tensor::zeros({64});
      w.requires_grad_(true), b.requires_grad_(true);
      k1.zero_grad(), k2.zero_grad();
      Tensor h = ops::conv2d(x, k1, Tensor(), a);
      h = sync ? ops::sync_batch_norm(h, Tensor(), Tensor(), w, b, 0.1, 1e-5, dist::world())
               : ops::batch_norm(h, Tensor(), Tensor(), w, b, true, 0.1, 1e-5);
      Tensor y = ops::conv2d(ops::relu(h), k2, Tensor(), a);
      convnet::testing::backward_with(y, Tensor::randn(y.shape(), *std::make_unique<Generator>(15)));
      grads.push_back(k1.grad().to_vector());
      grads.push_back(b.grad().to_vector());
    }
    EXPECT_TRUE(all_close(std::vector<double>(grads[2].begin(), grads[2].end()),
                          std::vector<double>(grads[0].begin(), grads[0].end()), 1e-4, 1e-4));
    EXPECT_TRUE(all_close(std::vector<double>(grads[3].begin(), grads[3].end()),
                          std::vector<double>(grads[1].begin(), grads[1].end()), 1e-4, 1e-4));
  }
  Tensor one = Tensor::ones({1, 2});
  EXPECT_THROW(ops::sync_batch_norm(one, Tensor(), Tensor(), Tensor(), Tensor(), 0.1, 1e-5, dist::world()), Error);
}
