// DataLoader: batch shapes, the last partial batch vs drop_last, every sample exactly once
// per epoch, images and labels kept together, the seed/epoch determinism of shuffling; with
// worker threads: bit-identical batches for 0, 1 or 3 workers, per-sample augmentation
// seeds, normalization, soft targets, exceptions rethrown by next(), clean shutdown.
#include <algorithm>
#include <numeric>

#include "convnet/core/error.h"
#include "convnet/data/dataloader.h"
#include "convnet/data/transforms.h"
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

  const Dataset eight = make_dataset(8);  // the loader keeps a reference: not a temporary
  DataLoader exact(eight, 4, true, 1, true);
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

// ---- workers, augmentation, normalization, MixUp/CutMix ---------------------------------

namespace {

// n images (C, 6, 6) with values in [0, 1] that differ per sample and pixel; label i % K.
Dataset make_images(int64_t n, int64_t C, int64_t K) {
  Dataset d;
  d.images = Tensor::empty({n, C, 6, 6});
  const int64_t S = C * 36;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < S; ++k) d.images.data()[i * S + k] = static_cast<float>((i * 31 + k * 7) % 97) / 96.f;
  for (int64_t i = 0; i < n; ++i) d.labels.push_back(i % K);
  for (int64_t k = 0; k < K; ++k) d.class_names.push_back(std::string("c").append(std::to_string(k)));
  return d;
}

struct Epoch {
  std::vector<std::vector<float>> x, soft;
  std::vector<std::vector<int64_t>> y;
};

Epoch run_epoch(DataLoader& loader) {
  Epoch e;
  for (Batch b; loader.next(b);) {
    e.x.push_back(b.x.to_vector());
    e.y.push_back(b.y);
    e.soft.push_back(b.y_soft.defined() ? b.y_soft.to_vector() : std::vector<float>{});
  }
  return e;
}

LoaderOptions full_options(int workers) {
  LoaderOptions o;
  o.batch_size = 7;
  o.seed = 123;
  o.workers = workers;
  o.augment = Augment::parse("crop:2,flip,rotate:10,jitter:0.3:0.3:0.3,erasing:0.5");
  o.mean = {0.5f, 0.4f, 0.3f};
  o.std = {0.2f, 0.25f, 0.3f};
  o.mixup_alpha = 0.4;
  o.cutmix_alpha = 1.0;
  return o;
}

}  // namespace

TEST(DataLoaderWorkers, BitIdenticalForAnyNumberOfWorkers) {
  const Dataset d = make_images(40, 3, 5);
  DataLoader l0(d, full_options(0)), l1(d, full_options(1)), l3(d, full_options(3));
  for (int64_t epoch : {0, 1, 4}) {
    l0.start_epoch(epoch);
    l1.start_epoch(epoch);
    l3.start_epoch(epoch);
    const Epoch a = run_epoch(l0), b = run_epoch(l1), c = run_epoch(l3);
    ASSERT_EQ(a.x.size(), 6u);  // ceil(40 / 7)
    EXPECT_EQ(a.x, b.x) << "epoch " << epoch;
    EXPECT_EQ(a.x, c.x) << "epoch " << epoch;
    EXPECT_EQ(a.y, c.y);
    EXPECT_EQ(a.soft, c.soft);
    EXPECT_EQ(a.soft[0].size(), 7u * 5u);  // (B, K) soft targets
  }
  // Resuming straight at epoch 4 repeats it; another epoch draws other augmentations.
  DataLoader fresh(d, full_options(2));
  fresh.start_epoch(4);
  const Epoch r = run_epoch(fresh);
  l0.start_epoch(4);
  EXPECT_EQ(r.x, run_epoch(l0).x);
  l0.start_epoch(3);
  EXPECT_NE(r.x, run_epoch(l0).x);
}

TEST(DataLoaderWorkers, SampleAugmentationDependsOnTheSampleNotItsPosition) {
  // With and without shuffling, sample k of epoch e gets the same augmented image.
  const Dataset d = make_images(12, 3, 3);
  LoaderOptions o;
  o.batch_size = 5;
  o.seed = 9;
  o.workers = 2;
  o.augment = Augment::parse("crop:2,flip,erasing:0.7");
  LoaderOptions plain = o;
  plain.shuffle = false;
  DataLoader shuffled(d, o), ordered(d, plain);
  std::vector<std::vector<float>> by_sample(12);
  int64_t pos = 0;
  for (Batch b; ordered.next(b);)
    for (int64_t j = 0; j < b.x.size(0); ++j, ++pos) {
      const float* p = b.x.data() + j * 108;
      by_sample[pos].assign(p, p + 108);
    }
  pos = 0;
  for (Batch b; shuffled.next(b);)
    for (int64_t j = 0; j < b.x.size(0); ++j, ++pos) {
      const int64_t k = shuffled.order()[pos];
      const float* p = b.x.data() + j * 108;
      EXPECT_EQ(std::vector<float>(p, p + 108), by_sample[k]) << "sample " << k;
    }
  EXPECT_EQ(pos, 12);
}

TEST(DataLoaderWorkers, EverySampleOnceWithWorkersAndNormalization) {
  const Dataset d = make_dataset(103, 2);  // pixel = i + 1000 c
  LoaderOptions o;
  o.batch_size = 10;
  o.seed = 5;
  o.workers = 3;
  o.prefetch = 1;
  o.mean = {0.f, 1000.f};
  o.std = {1.f, 2.f};
  DataLoader loader(d, o);
  for (int64_t e = 0; e < 3; ++e) {
    loader.start_epoch(e);
    std::vector<int64_t> seen;
    for (Batch b; loader.next(b);)
      for (int64_t j = 0; j < b.x.size(0); ++j) {
        const auto i = static_cast<int64_t>(b.x.at({j, 0, 0, 0}));
        EXPECT_EQ(b.y[j], i % 7);
        EXPECT_EQ(b.x.at({j, 1, 1, 1}), static_cast<float>(i) / 2.f);  // (i + 1000 - 1000) / 2
        EXPECT_FALSE(b.y_soft.defined());
        seen.push_back(i);
      }
    EXPECT_EQ(seen, loader.order());
    EXPECT_TRUE(is_permutation_of_range(seen, 103));
  }
  // prepare() is what next() returns.
  loader.start_epoch(1);
  Batch first, again;
  ASSERT_TRUE(loader.next(first));
  loader.prepare(0, again);
  EXPECT_EQ(first.x.to_vector(), again.x.to_vector());
}

TEST(DataLoaderWorkers, WorkerExceptionIsRethrownByNext) {
  // ColorJitter's contrast needs 1 or 3 channels: on 2-channel images it throws inside the
  // batch preparation, i.e. in a worker thread.
  const Dataset d = make_images(20, 2, 2);
  for (int workers : {0, 1, 3}) {
    LoaderOptions o;
    o.batch_size = 4;
    o.workers = workers;
    o.augment = Augment::parse("jitter:0:0.5");
    DataLoader loader(d, o);
    Batch b;
    expect_error([&] { loader.next(b); }, {"adjust_contrast", "1 or 3 channels, got 2"});
    expect_error([&] { loader.next(b); }, {"adjust_contrast"});  // and again, until start_epoch
    loader.start_epoch(1);
    expect_error([&] { loader.next(b); }, {"adjust_contrast"});
  }
}

TEST(DataLoaderWorkers, StopsCleanlyMidEpoch) {
  const Dataset d = make_images(200, 3, 4);
  for (int i = 0; i < 5; ++i) {
    LoaderOptions o = full_options(3);
    o.batch_size = 8;
    DataLoader loader(d, o);
    Batch b;
    ASSERT_TRUE(loader.next(b));
    loader.start_epoch(2);  // abandons the batches in flight
    ASSERT_TRUE(loader.next(b));
    ASSERT_TRUE(loader.next(b));
  }  // the destructor joins workers that may be waiting for room in the queue
}

TEST(DataLoaderWorkers, OptionErrors) {
  const Dataset d = make_images(10, 3, 2);
  LoaderOptions o;
  o.mean = {0.5f};
  o.std = {0.5f};
  expect_error([&] { DataLoader(d, o); }, {"DataLoader", "1 means and 1 stds", "3 channels"});
  o.mean = {0, 0, 0};
  o.std = {1, 0, 1};
  expect_error([&] { DataLoader(d, o); }, {"std of channel 1 must be positive"});
  LoaderOptions w;
  w.workers = -1;
  expect_error([&] { DataLoader(d, w); }, {"workers must be non-negative, got -1"});
  Dataset unnamed = d;
  unnamed.class_names.clear();
  LoaderOptions m;
  m.mixup_alpha = 0.2;
  expect_error([&] { DataLoader(unnamed, m); }, {"MixUp/CutMix need the number of classes"});
  m.num_classes = 1;
  expect_error([&] { DataLoader(unnamed, m); }, {"label 1 of sample 1", "1 classes"});
}
