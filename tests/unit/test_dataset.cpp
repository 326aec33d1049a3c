// Dataset helpers: select, subset_classes (the CIFAR-2 relabelling), the seeded stratified
// train/val split and the per-channel statistics, checked against values worked out by hand.
#include <algorithm>
#include <cmath>
#include <set>

#include "convnet/core/error.h"
#include "convnet/data/dataset.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::data;
using convnet::testing::expect_error;

namespace {

// n images of shape (1, 1, 2): pixels (i, -i), label labels[i].
Dataset make(const std::vector<int64_t>& labels, std::vector<std::string> names = {}) {
  Dataset d;
  const auto n = static_cast<int64_t>(labels.size());
  d.images = Tensor::empty({n, 1, 1, 2});
  for (int64_t i = 0; i < n; ++i) {
    d.images.data()[2 * i] = static_cast<float>(i);
    d.images.data()[2 * i + 1] = static_cast<float>(-i);
  }
  d.labels = labels;
  d.class_names = std::move(names);
  return d;
}

std::vector<int64_t> ids(const Dataset& d) {  // the original index of each sample, from its pixels
  std::vector<int64_t> v;
  for (int64_t i = 0; i < d.size(); ++i) v.push_back(static_cast<int64_t>(d.images.data()[2 * i]));
  return v;
}

}  // namespace

TEST(Dataset, Select) {
  const Dataset d = make({0, 1, 2, 0}, {"a", "b", "c"});
  const Dataset s = select(d, {3, 1, 1});
  EXPECT_EQ(ids(s), (std::vector<int64_t>{3, 1, 1}));
  EXPECT_EQ(s.labels, (std::vector<int64_t>{0, 1, 1}));
  EXPECT_EQ(s.images.at({0, 0, 0, 1}), -3.f);
  EXPECT_EQ(s.class_names, d.class_names);
  expect_error([&] { select(d, {4}); }, {"select", "index 4", "4 samples"});
}

TEST(Dataset, SubsetClassesRemapsInTheGivenOrder) {
  const std::vector<std::string> names = {"airplane", "automobile", "bird", "cat", "deer", "dog"};
  const Dataset d = make({3, 0, 5, 5, 2, 3, 1}, names);
  const Dataset s = subset_classes(d, {3, 5});
  EXPECT_EQ(ids(s), (std::vector<int64_t>{0, 2, 3, 5}));
  EXPECT_EQ(s.labels, (std::vector<int64_t>{0, 1, 1, 0}));
  EXPECT_EQ(s.class_names, (std::vector<std::string>{"cat", "dog"}));
  const Dataset r = subset_classes(d, {5, 3});
  EXPECT_EQ(r.labels, (std::vector<int64_t>{1, 0, 0, 1}));
  EXPECT_EQ(r.class_names, (std::vector<std::string>{"dog", "cat"}));
  // Without names the labels decide the class count and the names are the old labels.
  EXPECT_EQ(subset_classes(make({2, 0, 2}), {2}).class_names, (std::vector<std::string>{"2"}));
  expect_error([&] { subset_classes(d, {3, 6}); }, {"subset_classes", "class 6", "6 classes"});
  expect_error([&] { subset_classes(d, {3, 3}); }, {"subset_classes", "class 3", "twice"});
  expect_error([&] { subset_classes(d, {}); }, {"subset_classes", "no classes"});
}

// --per-class N: exactly N of each class (all of a smaller class), the images travelling
// with their labels, the same choice for the same seed, another for another seed, and the
// N-subset inside the (N + k)-subset.
TEST(Dataset, PerClassSubsetIsExactSeededAndNested) {
  // 12 of class 0, 3 of class 1, 7 of class 2, interleaved.
  std::vector<int64_t> labels;
  for (int i = 0; i < 12; ++i) labels.push_back(0);
  for (int i = 0; i < 3; ++i) labels.insert(labels.begin() + 4 * i + 1, 1);
  for (int i = 0; i < 7; ++i) labels.insert(labels.begin() + 3 * i + 2, 2);
  const Dataset d = make(labels, {"a", "b", "c"});
  auto counts = [](const Dataset& s) {
    std::vector<int64_t> c(3, 0);
    for (int64_t y : s.labels) ++c[y];
    return c;
  };
  const Dataset s5 = per_class_subset(d, 5, 42);
  EXPECT_EQ(counts(s5), (std::vector<int64_t>{5, 3, 5}));
  const auto chosen = ids(s5);
  EXPECT_TRUE(std::is_sorted(chosen.begin(), chosen.end()));  // the original order
  for (int64_t i = 0; i < s5.size(); ++i) EXPECT_EQ(s5.labels[i], labels[chosen[i]]) << "sample " << chosen[i];
  EXPECT_EQ(ids(per_class_subset(d, 5, 42)), chosen);  // seeded: the same again
  EXPECT_NE(ids(per_class_subset(d, 5, 43)), chosen);  // another seed, another choice
  const auto s8 = ids(per_class_subset(d, 8, 42));
  EXPECT_EQ(counts(per_class_subset(d, 8, 42)), (std::vector<int64_t>{8, 3, 7}));
  EXPECT_TRUE(std::includes(s8.begin(), s8.end(), chosen.begin(), chosen.end()));
  // Not the first N of each class: a shuffle, not a prefix (12 choose 5 ways for class 0).
  std::vector<int64_t> first_zeros;
  for (int64_t i = 0; i < d.size() && first_zeros.size() < 5; ++i)
    if (labels[i] == 0) first_zeros.push_back(i);
  std::vector<int64_t> zeros;
  for (int64_t i = 0; i < s5.size(); ++i)
    if (s5.labels[i] == 0) zeros.push_back(chosen[i]);
  EXPECT_NE(zeros, first_zeros);
  expect_error([&] { per_class_subset(d, 0, 1); }, {"per_class_subset", "at least 1", "got 0"});
}

TEST(Dataset, TrainValSplitIsSeededAndStratified) {
  // 30 samples of class 0, 10 of class 1, interleaved.
  std::vector<int64_t> labels;
  for (int i = 0; i < 40; ++i) labels.push_back(i % 4 == 3 ? 1 : 0);
  const Dataset d = make(labels, {"x", "y"});
  const auto [tr, va] = train_val_split(d, 0.2, 7);
  // round(30 * 0.2) = 6 and round(10 * 0.2) = 2 go to validation.
  EXPECT_EQ(va.size(), 8);
  EXPECT_EQ(tr.size(), 32);
  EXPECT_EQ(std::count(va.labels.begin(), va.labels.end(), 1), 2);
  EXPECT_EQ(std::count(tr.labels.begin(), tr.labels.end(), 1), 8);
  // Disjoint, together everything, each in the original order, labels still with their images.
  std::vector<int64_t> all = ids(tr);
  const std::vector<int64_t> v = ids(va);
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end()));
  EXPECT_TRUE(std::is_sorted(v.begin(), v.end()));
  all.insert(all.end(), v.begin(), v.end());
  EXPECT_EQ(std::set<int64_t>(all.begin(), all.end()).size(), 40u);
  for (const Dataset* s : {&tr, &va})
    for (int64_t i = 0; i < s->size(); ++i) EXPECT_EQ(s->labels[i], labels[ids(*s)[i]]);
  EXPECT_EQ(va.class_names, d.class_names);
  // The same seed gives the same split; another seed (almost surely) another one.
  EXPECT_EQ(ids(train_val_split(d, 0.2, 7).second), v);
  EXPECT_NE(ids(train_val_split(d, 0.2, 8).second), v);
  expect_error([&] { train_val_split(d, 1.0, 0); }, {"train_val_split", "val_fraction", "(0, 1)"});
  expect_error([&] { train_val_split(make({0, 1}), 0.1, 0); }, {"train_val_split", "0 for validation"});
}

TEST(Dataset, ChannelStats) {
  // Two 3-channel 1x2 images: channel 0 holds {0, 1, 2, 3} -> mean 1.5, population std
  // sqrt(1.25); channel 1 is constant 5 -> std 0; channel 2 holds {-1, 1, -1, 1} -> 0, 1.
  Dataset d;
  d.images = Tensor::from_vector({2, 3, 1, 2}, {0, 1, 5, 5, -1, 1, 2, 3, 5, 5, -1, 1});
  d.labels = {0, 0};
  const ChannelStats s = channel_stats(d);
  ASSERT_EQ(s.mean.size(), 3u);
  EXPECT_FLOAT_EQ(s.mean[0], 1.5f);
  EXPECT_FLOAT_EQ(s.std[0], std::sqrt(1.25f));
  EXPECT_FLOAT_EQ(s.mean[1], 5.f);
  EXPECT_FLOAT_EQ(s.std[1], 0.f);
  EXPECT_FLOAT_EQ(s.mean[2], 0.f);
  EXPECT_FLOAT_EQ(s.std[2], 1.f);
  // normalize() with them gives mean 0 and std 1 in channel 0.
  Dataset n = d;
  n.images = d.images.clone();
  normalize(n, {s.mean[0], 0.f, 0.f}, {s.std[0], 1.f, 1.f});
  const ChannelStats after = channel_stats(n);
  EXPECT_NEAR(after.mean[0], 0.f, 1e-6);
  EXPECT_NEAR(after.std[0], 1.f, 1e-6);
  expect_error([] { channel_stats(Dataset{}); }, {"channel_stats", "undefined"});
}
