// DataLoader: batch shapes, the last partial batch vs drop_last, every sample exactly once
// per epoch, images and labels kept together, and the seed/epoch determinism of shuffling.
#include <algorithm>
#include <numeric>

#include "convnet/core/error.h"
#include "convnet/data/dataloader.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::data;
using convnet::testing::expect_error;

namespace {

// N images of shape (C, 2, 2); every pixel of image i (channel c) is i + 1000 c; label i % 7.
Dataset make_dataset(int64_t n, int64_t C = 1) {
  Dataset d;
  d.images = Tensor::empty({n, C, 2, 2});
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t k = 0; k < 4; ++k) d.images.data()[(i * C + c) * 4 + k] = static_cast<float>(i + 1000 * c);
  for (int64_t i = 0; i < n; ++i) d.labels.push_back(i % 7);
  return d;
}

// The sample indices of one epoch, read back from the pixels; checks each batch is consistent.
std::vector<int64_t> epoch_indices(DataLoader& loader, std::vector<int64_t>* batch_sizes = nullptr) {
  std::vector<int64_t> idx;
  Batch b;
  while (loader.next(b)) {
    const int64_t B = b.x.size(0), C = b.x.size(1);
    EXPECT_EQ(static_cast<int64_t>(b.y.size()), B);
    if (batch_sizes) batch_sizes->push_back(B);
    for (int64_t j = 0; j < B; ++j) {
      const int64_t i = static_cast<int64_t>(b.x.at({j, 0, 0, 0}));
      EXPECT_EQ(b.y[j], i % 7) << "label of sample " << i << " travelled apart from its image";
      for (int64_t c = 0; c < C; ++c) EXPECT_EQ(b.x.at({j, c, 1, 1}), static_cast<float>(i + 1000 * c));
      idx.push_back(i);
    }
  }
  return idx;
}

bool is_permutation_of_range(std::vector<int64_t> v, int64_t n) {
  std::sort(v.begin(), v.end());
  std::vector<int64_t> r(static_cast<size_t>(n));
  std::iota(r.begin(), r.end(), int64_t{0});
  return v == r;
}

}  // namespace

TEST(DataLoader, BatchShapesAndPartialLastBatch) {
  const Dataset d = make_dataset(10, 3);
  DataLoader keep(d, 4, false);
  EXPECT_EQ(keep.num_batches(), 3);
  std::vector<int64_t> sizes;
  const auto idx = epoch_indices(keep, &sizes);
  EXPECT_EQ(sizes, (std::vector<int64_t>{4, 4, 2}));
  std::vector<int64_t> identity(10);
  std::iota(identity.begin(), identity.end(), int64_t{0});
  EXPECT_EQ(idx, identity);  // no shuffle: dataset order

  DataLoader drop(d, 4, false, 0, /*drop_last=*/true);
  EXPECT_EQ(drop.num_batches(), 2);
  sizes.clear();
  EXPECT_EQ(epoch_indices(drop, &sizes).size(), 8u);
  EXPECT_EQ(sizes, (std::vector<int64_t>{4, 4}));

  Batch b;
  DataLoader one(d, 4, false);
  ASSERT_TRUE(one.next(b));
  EXPECT_EQ(b.x.shape(), (Shape{4, 3, 2, 2}));

  DataLoader exact(make_dataset(8), 4, true, 1, true);
  EXPECT_EQ(exact.num_batches(), 2);
  DataLoader big(d, 64, true);
  EXPECT_EQ(big.num_batches(), 1);
  sizes.clear();
  EXPECT_TRUE(is_permutation_of_range(epoch_indices(big, &sizes), 10));
  EXPECT_EQ(sizes, (std::vector<int64_t>{10}));
  DataLoader big_drop(d, 64, true, 0, true);
  EXPECT_EQ(big_drop.num_batches(), 0);
  EXPECT_FALSE(big_drop.next(b));
}

TEST(DataLoader, EverySampleOncePerEpoch) {
  const Dataset d = make_dataset(103);
  DataLoader loader(d, 16, true, 42);
  for (int64_t e = 0; e < 4; ++e) {
    loader.start_epoch(e);
    const auto idx = epoch_indices(loader);
    EXPECT_TRUE(is_permutation_of_range(idx, 103)) << "epoch " << e;
    EXPECT_EQ(idx, loader.order()) << "epoch " << e;
    Batch b;
    EXPECT_FALSE(loader.next(b)) << "the epoch is over";
  }
}

TEST(DataLoader, ShuffleIsAFunctionOfSeedAndEpoch) {
  const Dataset d = make_dataset(50);
  DataLoader a(d, 8, true, 7), b(d, 8, true, 7), other_seed(d, 8, true, 8);
  const auto a0 = epoch_indices(a), b0 = epoch_indices(b), s0 = epoch_indices(other_seed);
  EXPECT_EQ(a0, b0);  // same seed, same order
  EXPECT_NE(a0, s0);  // another seed, another order
  std::vector<int64_t> identity(50);
  std::iota(identity.begin(), identity.end(), int64_t{0});
  EXPECT_NE(a0, identity);  // it does shuffle

  a.start_epoch(1);
  const auto a1 = epoch_indices(a);
  EXPECT_NE(a0, a1);  // a new permutation each epoch
  // Resumable: epoch 1 straight away (no epoch 0 first) gives the same order.
  DataLoader resumed(d, 8, true, 7);
  resumed.start_epoch(1);
  EXPECT_EQ(epoch_indices(resumed), a1);
  // And going back to epoch 0 repeats it.
  a.start_epoch(0);
  EXPECT_EQ(epoch_indices(a), a0);
  EXPECT_EQ(a.epoch(), 0);
}

TEST(DataLoader, RestartMidEpoch) {
  const Dataset d = make_dataset(20);
  DataLoader loader(d, 6, true, 3);
  Batch b;
  ASSERT_TRUE(loader.next(b));
  loader.start_epoch(0);
  EXPECT_EQ(epoch_indices(loader).size(), 20u);  // starts again at the first batch
}

TEST(DataLoader, Errors) {
  const Dataset d = make_dataset(5);
  expect_error([&] { DataLoader(d, 0, false); }, {"DataLoader", "batch_size must be positive, got 0"});
  Dataset bad = make_dataset(5);
  bad.labels.pop_back();
  expect_error([&] { DataLoader(bad, 2, false); }, {"DataLoader", "5 images", "(5, 1, 2, 2)", "4 labels"});
  DataLoader loader(d, 2, true);
  expect_error([&] { loader.start_epoch(-1); }, {"start_epoch", "-1"});
  Dataset empty;
  expect_error([&] { DataLoader(empty, 2, false); }, {"DataLoader", "no images"});
}
