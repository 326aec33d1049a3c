// CIFAR-10 / CIFAR-100 binary files: tiny files written here in the published record layout
// (label byte(s), then 1024 R, 1024 G, 1024 B bytes of a row-major 32x32 image), read back
// pixel by pixel; the class-name files; every error by its message.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "convnet/core/error.h"
#include "convnet/data/cifar.h"
#include "convnet/data/datasets.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::data;
using convnet::testing::TempDir;
using convnet::testing::test_name;
using convnet::testing::expect_error;
namespace fs = std::filesystem;

namespace {

using Bytes = std::vector<unsigned char>;

// The byte of record `id`, channel c, row y, column x: distinct enough that a transposed
// or shifted reading cannot pass.
unsigned char pixel(int id, int c, int y, int x) {
  return static_cast<unsigned char>((id * 37 + c * 91 + y * 5 + x) % 256);
}

// One record in the published layout.
Bytes record(const Bytes& labels, int id) {
  Bytes r = labels;
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 32; ++y)
      for (int x = 0; x < 32; ++x) r.push_back(pixel(id, c, y, x));
  return r;
}

void write(const fs::path& p, const Bytes& b) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary)
      .write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

void write_text(const fs::path& p, const std::string& s) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << s;
}

class Cifar : public ::testing::Test {
 protected:
  TempDir tmp_{"cifar_" + test_name()};
  const fs::path& dir_ = tmp_.path;

  // CIFAR-10 under dir_/cifar-10-batches-bin: batch b (1..5) holds records with ids 10 b,
  // 10 b + 1 (labels kTrainLabels in that order), the test batch ids 100, 101, 102 (labels
  // id % 10).
  static constexpr int kTrainIds[10] = {10, 11, 20, 21, 30, 31, 40, 41, 50, 51};
  static constexpr int kTrainLabels[10] = {3, 5, 0, 3, 9, 5, 5, 1, 3, 7};
  fs::path write_cifar10() {
    const fs::path d = dir_ / "cifar-10-batches-bin";
    for (int b = 1; b <= 5; ++b) {
      Bytes f;
      for (int k : {2 * b - 2, 2 * b - 1}) {
        const Bytes r = record({static_cast<unsigned char>(kTrainLabels[k])}, kTrainIds[k]);
        f.insert(f.end(), r.begin(), r.end());
      }
      write(d / ("data_batch_" + std::to_string(b) + ".bin"), f);
    }
    Bytes t;
    for (int id : {100, 101, 102}) {
      const Bytes r = record({static_cast<unsigned char>(id % 10)}, id);
      t.insert(t.end(), r.begin(), r.end());
    }
    write(d / "test_batch.bin", t);
    return d;
  }

  void expect_pixels(const Dataset& d, int64_t n, int id) {
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < 32; y += 7)
        for (int x = 0; x < 32; x += 3)
          ASSERT_EQ(d.images.at({n, c, y, x}), pixel(id, c, y, x) / 255.f)
              << "sample " << n << " c" << c << " y" << y << " x" << x;
    ASSERT_EQ(d.images.at({n, 2, 31, 31}), pixel(id, 2, 31, 31) / 255.f);
  }

};

}  // namespace

TEST_F(Cifar, Cifar10LayoutLabelsAndOrder) {
  const fs::path d = write_cifar10();
  const Dataset train = load_cifar10(d.string(), true);
  ASSERT_EQ(train.images.shape(), (Shape{10, 3, 32, 32}));
  // data_batch_1 .. data_batch_5 in that order
  for (int64_t n = 0; n < 10; ++n) {
    EXPECT_EQ(train.labels[n], kTrainLabels[n]);
    expect_pixels(train, n, kTrainIds[n]);
  }
  EXPECT_EQ(train.class_names, cifar10_classes());
  EXPECT_EQ(train.class_names[3], "cat");
  EXPECT_EQ(train.class_names[5], "dog");

  // The parent folder works too, and the test split is test_batch.bin.
  const Dataset test = load_cifar10(dir_.string(), false);
  ASSERT_EQ(test.size(), 3);
  for (int64_t n = 0; n < 3; ++n) {
    EXPECT_EQ(test.labels[n], (100 + n) % 10);
    expect_pixels(test, n, 100 + static_cast<int>(n));
  }
}

TEST_F(Cifar, Cifar10NamesFromMetaFile) {
  const fs::path d = write_cifar10();
  write_text(d / "batches.meta.txt", "a0\nb1\r\nc2\nd3\ne4\nf5\ng6\nh7\ni8\nj9\n\n");
  const Dataset t = load_cifar10(d.string(), false);
  EXPECT_EQ(t.class_names, (std::vector<std::string>{"a0", "b1", "c2", "d3", "e4", "f5", "g6", "h7", "i8", "j9"}));
}

TEST_F(Cifar, Cifar100FineAndCoarse) {
  const fs::path d = dir_ / "cifar-100-binary";
  Bytes f;
  for (int id = 0; id < 4; ++id) {  // coarse = id + 16, fine = 99 - id
    const Bytes r = record({static_cast<unsigned char>(id + 16), static_cast<unsigned char>(99 - id)}, id);
    f.insert(f.end(), r.begin(), r.end());
  }
  write(d / "train.bin", f);
  write(d / "test.bin", Bytes(f.begin(), f.begin() + 3074));
  const Dataset fine = load_cifar100(dir_.string(), true);
  ASSERT_EQ(fine.images.shape(), (Shape{4, 3, 32, 32}));
  EXPECT_EQ(fine.labels, (std::vector<int64_t>{99, 98, 97, 96}));
  for (int n = 0; n < 4; ++n) expect_pixels(fine, n, n);
  EXPECT_EQ(fine.class_names.size(), 100u);
  EXPECT_EQ(fine.class_names[0], "apple");
  EXPECT_EQ(fine.class_names[99], "worm");
  const Dataset coarse = load_cifar100(d.string(), true, /*coarse=*/true);
  EXPECT_EQ(coarse.labels, (std::vector<int64_t>{16, 17, 18, 19}));
  EXPECT_EQ(coarse.class_names.size(), 20u);
  EXPECT_EQ(coarse.class_names[19], "vehicles_2");
  EXPECT_EQ(load_cifar100(d.string(), false).size(), 1);

  // Names files override the built-in lists.
  std::string names;
  for (int i = 0; i < 100; ++i) names += "fine" + std::to_string(i) + "\n";
  write_text(d / "fine_label_names.txt", names);
  EXPECT_EQ(load_cifar100(d.string(), false).class_names[99], "fine99");
}

TEST_F(Cifar, StandardNameListsAreWellFormed) {
  // Both CIFAR-100 lists are in alphabetical order (as the dataset's meta files are) and
  // distinct: a typo or a dropped name breaks the count or the order.
  for (const auto* names : {&cifar100_fine_classes(), &cifar100_coarse_classes(), &cifar10_classes()}) {
    EXPECT_TRUE(std::is_sorted(names->begin(), names->end()));
    EXPECT_EQ(std::set<std::string>(names->begin(), names->end()).size(), names->size());
  }
  EXPECT_EQ(cifar100_fine_classes().size(), 100u);
  EXPECT_EQ(cifar100_coarse_classes().size(), 20u);
}

TEST_F(Cifar, WrongSizeFileNamesFileSizeAndRecordSize) {
  const fs::path d = write_cifar10();
  Bytes f = record({1}, 0);
  f.push_back(7);  // 3074 bytes: one byte too many
  write(d / "data_batch_3.bin", f);
  expect_error([&] { load_cifar10(d.string(), true); }, {"data_batch_3.bin", "3074 bytes", "record size 3073"});
  write(d / "test.bin", Bytes(5000, 0));
  expect_error([&] { load_cifar_file((d / "test.bin").string(), 2, 1, 100); },
               {"test.bin", "5000 bytes", "record size 3074"});
  write(d / "empty.bin", Bytes());
  expect_error([&] { load_cifar_file((d / "empty.bin").string(), 1, 0, 10); }, {"empty.bin", "0 bytes"});
}

TEST_F(Cifar, Errors) {
  const fs::path d = write_cifar10();
  Bytes f = record({3}, 0), g = record({10}, 1);  // label 10 is not a CIFAR-10 class
  f.insert(f.end(), g.begin(), g.end());
  write(d / "test_batch.bin", f);
  expect_error([&] { load_cifar10(d.string(), false); }, {"test_batch.bin", "record 1", "label 10", "10 classes"});
  expect_error([&] { load_cifar10((dir_ / "nowhere").string(), true); },
               {"CIFAR-10 not found", "nowhere", "data_batch_1.bin"});
  expect_error([&] { load_cifar100(dir_.string(), false); }, {"CIFAR-100 not found", "test.bin"});
  expect_error([&] { load_cifar10("", true); }, {"CIFAR-10", "no data directory"});
  fs::remove(d / "data_batch_4.bin");
  expect_error([&] { load_cifar10(d.string(), true); }, {"data_batch_4.bin", "no such file"});
}

TEST_F(Cifar, LoadDatasetCifar2Subset) {
  const fs::path d = write_cifar10();
  DatasetSpec spec;
  spec.kind = "cifar10";
  spec.dir = d.string();
  spec.classes = {3, 5};  // cat -> 0, dog -> 1
  const Dataset train = load_dataset(spec, true);
  // kTrainLabels {3, 5, 0, 3, 9, 5, 5, 1, 3, 7}: samples 0, 1, 3, 5, 6, 8 stay, in order.
  EXPECT_EQ(train.labels, (std::vector<int64_t>{0, 1, 0, 1, 1, 0}));
  EXPECT_EQ(train.class_names, (std::vector<std::string>{"cat", "dog"}));
  const std::vector<int> kept = {0, 1, 3, 5, 6, 8};
  for (int64_t n = 0; n < 6; ++n) expect_pixels(train, n, kTrainIds[kept[n]]);
  // The order given is the new label order.
  spec.classes = {5, 3};
  EXPECT_EQ(load_dataset(spec, true).labels, (std::vector<int64_t>{1, 0, 1, 0, 0, 1}));
  // Upscaled for an ImageNet-sized model: every kind takes image_size.
  spec.classes = {};
  spec.image_size = 64;
  const Dataset big = load_dataset(spec, false);
  EXPECT_EQ(big.images.shape(), (Shape{3, 3, 64, 64}));
  spec.grayscale = true;
  spec.image_size = 0;
  EXPECT_EQ(load_dataset(spec, false).images.shape(), (Shape{3, 1, 32, 32}));
  spec.kind = "cifar11";
  expect_error([&] { load_dataset(spec, true); }, {"unknown dataset kind 'cifar11'", "cifar10", "folder"});
}
