// idx files: tiny files written here in the published format (big-endian header), raw and
// gzip'd; every error by its message; the real Fashion-MNIST when it is installed.
#include <sys/resource.h>
#include <zlib.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "convnet/core/error.h"
#include "convnet/data/idx.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::data;
using convnet::testing::expect_error;
using convnet::testing::TempDir;
using convnet::testing::test_name;
namespace fs = std::filesystem;

namespace {

using Bytes = std::vector<unsigned char>;

void put_u32(Bytes& b, uint32_t v) {  // big-endian, as the idx format specifies
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<unsigned char>(v >> s));
}

Bytes images_bytes(uint32_t n, uint32_t rows, uint32_t cols, const Bytes& pixels, uint32_t magic = 0x00000803) {
  Bytes b;
  put_u32(b, magic);
  put_u32(b, n);
  put_u32(b, rows);
  put_u32(b, cols);
  b.insert(b.end(), pixels.begin(), pixels.end());
  return b;
}

Bytes labels_bytes(uint32_t n, const Bytes& labels, uint32_t magic = 0x00000801) {
  Bytes b;
  put_u32(b, magic);
  put_u32(b, n);
  b.insert(b.end(), labels.begin(), labels.end());
  return b;
}

// A fresh directory per test, removed at the end.
class IdxTest : public ::testing::Test {
 protected:
  TempDir tmp_{"idx_" + test_name()};
  const fs::path& dir_ = tmp_.path;

  std::string write(const std::string& name, const Bytes& b, bool gz = false) {
    const std::string path = (dir_ / name).string();
    if (gz) {
      gzFile f = gzopen(path.c_str(), "wb");
      EXPECT_NE(f, nullptr);
      EXPECT_EQ(gzwrite(f, b.data(), static_cast<unsigned>(b.size())), static_cast<int>(b.size()));
      gzclose(f);
    } else {
      std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), b.size());
    }
    return path;
  }

};

// 3 images of 2x3 pixels: pixel k of image i is 40*i + k (and 255 for the last one).
const Bytes kPixels = {0, 1, 2, 3, 4, 5, 40, 41, 42, 43, 44, 45, 80, 81, 82, 83, 84, 255};
const Bytes kLabels = {2, 0, 1};

}  // namespace

TEST_F(IdxTest, ReadsRawAndGzipped) {
  for (bool gz : {false, true}) {
    SCOPED_TRACE(gz ? "gzip" : "raw");
    const auto im = write(gz ? "im.gz" : "im", images_bytes(3, 2, 3, kPixels), gz);
    const auto lb = write(gz ? "lb.gz" : "lb", labels_bytes(3, kLabels), gz);
    const Dataset d = load_idx(im, lb, {"a", "b", "c"});
    ASSERT_EQ(d.images.shape(), (Shape{3, 1, 2, 3}));
    EXPECT_EQ(d.size(), 3);
    EXPECT_EQ(d.labels, (std::vector<int64_t>{2, 0, 1}));
    EXPECT_EQ(d.class_names, (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_FLOAT_EQ(d.images.at({0, 0, 0, 1}), 1.f / 255);
    EXPECT_FLOAT_EQ(d.images.at({1, 0, 1, 0}), 43.f / 255);  // row-major: (row 1, col 0) is pixel 3
    EXPECT_FLOAT_EQ(d.images.at({2, 0, 1, 2}), 1.f);
    EXPECT_FLOAT_EQ(d.images.at({0, 0, 0, 0}), 0.f);
  }
}

TEST_F(IdxTest, TruncatedPixels) {
  for (bool gz : {false, true}) {
    Bytes short_pixels(kPixels.begin(), kPixels.begin() + 12);  // 2 of the 3 images
    const auto im = write(gz ? "short.gz" : "short", images_bytes(3, 2, 3, short_pixels), gz);
    const auto lb = write("lb", labels_bytes(3, kLabels));
    expect_error([&] { load_idx(im, lb); }, {im, "truncated images file", "expected 18 bytes", "got 12"});
  }
}

// A 16-byte header claiming a million 1000x1000 images (a terabyte): found truncated after
// reading what is there, never allocated up front (the peak resident size barely moves).
TEST_F(IdxTest, HugeClaimedCountCostsOnlyWhatTheFileHas) {
  rusage before{}, after{};
  getrusage(RUSAGE_SELF, &before);
  const auto im = write("huge", images_bytes(1'000'000, 1000, 1000, {}));
  const auto lb = write("lb", labels_bytes(3, kLabels));
  expect_error([&] { load_idx(im, lb); }, {im, "truncated images file", "expected 1000000000000 bytes", "got 0"});
  getrusage(RUSAGE_SELF, &after);
  EXPECT_LT(after.ru_maxrss - before.ru_maxrss, 200 * 1024) << "KiB of peak resident memory for a 16-byte file";
}

TEST_F(IdxTest, GzipStreamCutShort) {
  // A download cut off mid-stream: the gzip data itself ends early.
  Bytes pixels(28 * 28 * 50);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<unsigned char>((i * 7919) % 251);
  const auto full = write("full.gz", images_bytes(50, 28, 28, pixels), true);
  const auto size = fs::file_size(full);
  fs::resize_file(full, size / 2);
  const auto lb = write("lb", labels_bytes(3, kLabels));
  expect_error([&] { load_idx(full, lb); }, {full, "truncated images file", "expected 39200 bytes"});
}

TEST_F(IdxTest, TruncatedHeaderAndLabels) {
  const auto im = write("im", images_bytes(3, 2, 3, kPixels));
  Bytes stub = images_bytes(3, 2, 3, {});
  stub.resize(5);
  const auto bad = write("stub", stub);
  const auto lb = write("lb", labels_bytes(3, kLabels));
  expect_error([&] { load_idx(bad, lb); }, {bad, "truncated images file", "16-byte header", "got 5 bytes"});
  const auto short_lb = write("short_lb.gz", labels_bytes(3, {2, 0}), true);
  expect_error([&] { load_idx(im, short_lb); }, {short_lb, "truncated labels file", "expected 3", "got 2"});
}

TEST_F(IdxTest, WrongMagic) {
  const auto im = write("im", images_bytes(3, 2, 3, kPixels));
  const auto lb = write("lb", labels_bytes(3, kLabels));
  // The files swapped: each has the other's magic number.
  expect_error([&] { load_idx(lb, im); }, {lb, "wrong magic number 0x00000801", "expected 0x00000803"});
  expect_error([&] { load_idx(im, im); }, {im, "wrong magic number 0x00000803", "expected 0x00000801"});
  const auto odd = write("odd", images_bytes(3, 2, 3, kPixels, 0x12345678));
  expect_error([&] { load_idx(odd, lb); }, {odd, "wrong magic number 0x12345678"});
}

TEST_F(IdxTest, InconsistentCounts) {
  const auto im = write("im", images_bytes(3, 2, 3, kPixels));
  const auto lb = write("lb4", labels_bytes(4, {0, 1, 2, 3}));
  expect_error([&] { load_idx(im, lb); }, {"inconsistent counts", im, "3 images", lb, "4 labels"});
}

TEST_F(IdxTest, MissingFile) {
  const auto lb = write("lb", labels_bytes(3, kLabels));
  const std::string nope = (dir_ / "nope-idx3-ubyte").string();
  expect_error([&] { load_idx(nope, lb); }, {nope, "no such file"});
  const auto im = write("im", images_bytes(3, 2, 3, kPixels));
  expect_error([&] { load_idx(im, nope + ".gz"); }, {nope + ".gz", "no such file"});
}

TEST_F(IdxTest, LabelOutOfRange) {
  const auto im = write("im", images_bytes(3, 2, 3, kPixels));
  const auto lb = write("lb", labels_bytes(3, {0, 7, 1}));
  expect_error([&] { load_idx(im, lb, {"a", "b"}); }, {lb, "label 7 of sample 1", "out of range for 2 classes"});
  EXPECT_EQ(load_idx(im, lb).labels[1], 7);  // without class names any byte is a label
}

TEST_F(IdxTest, FashionMnistLayoutFromADirectory) {
  // Raw (not gzip'd) files under the standard names are found too.
  write("t10k-images-idx3-ubyte", images_bytes(3, 2, 3, kPixels));
  write("t10k-labels-idx1-ubyte.gz", labels_bytes(3, kLabels), true);
  const Dataset d = load_fashion_mnist(dir_.string(), false);
  EXPECT_EQ(d.size(), 3);
  EXPECT_EQ(d.class_names.size(), 10u);
  EXPECT_EQ(d.class_names[2], "Pullover");
  expect_error([&] { load_fashion_mnist(dir_.string(), true); },
               {"Fashion-MNIST not found at " + dir_.string(), "expected train-images-idx3-ubyte.gz",
                "apt-get install dataset-fashion-mnist", "--data-dir"});
  const std::string missing = (dir_ / "no-such-dir").string();
  expect_error([&] { load_fashion_mnist(missing, false); },
               {"Fashion-MNIST not found at " + missing, "expected t10k-images-idx3-ubyte",
                "install Debian's dataset-fashion-mnist package"});
}

TEST(FashionMnist, RealDataset) {
  if (!fs::is_directory(kFashionMnistDir))
    GTEST_SKIP() << "Fashion-MNIST is not installed at " << kFashionMnistDir
                 << " (apt-get install dataset-fashion-mnist)";
  const Dataset train = load_fashion_mnist(kFashionMnistDir, true);
  const Dataset test = load_fashion_mnist(kFashionMnistDir, false);
  ASSERT_EQ(train.images.shape(), (Shape{60000, 1, 28, 28}));
  ASSERT_EQ(test.images.shape(), (Shape{10000, 1, 28, 28}));
  EXPECT_EQ(train.class_names, (std::vector<std::string>{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}));
  for (const Dataset* d : {&train, &test}) {
    std::vector<int64_t> counts(10);
    for (int64_t y : d->labels) {
      ASSERT_TRUE(y >= 0 && y < 10) << y;
      ++counts[y];
    }
    EXPECT_EQ(counts, std::vector<int64_t>(10, d->size() / 10));  // 6000 (train), 1000 (test) per class
  }
  EXPECT_EQ(train.labels[0], 9);  // the first training image is an ankle boot
  // Pixel statistics: the published normalization constants (mean 0.2860, std 0.3530).
  double s = 0, s2 = 0;
  const float* x = train.images.data();
  float lo = 1, hi = 0;
  for (int64_t i = 0; i < train.images.numel(); ++i) {
    s += x[i];
    s2 += double{x[i]} * x[i];
    lo = std::min(lo, x[i]);
    hi = std::max(hi, x[i]);
  }
  const double n = static_cast<double>(train.images.numel()), mean = s / n;
  EXPECT_NEAR(mean, 0.2860, 1e-4);
  EXPECT_NEAR(std::sqrt(s2 / n - mean * mean), 0.3530, 1e-4);
  EXPECT_EQ(lo, 0.f);
  EXPECT_EQ(hi, 1.f);
}

// ---- normalize -------------------------------------------------------------------------

TEST(Normalize, PerChannel) {
  Dataset d;
  d.images = Tensor::from_vector({2, 2, 1, 2}, {0.f, 1.f, 0.5f, 0.25f, 1.f, 0.f, 0.75f, 0.5f});
  d.labels = {0, 1};
  normalize(d, {0.5f, 0.25f}, {0.5f, 0.25f});
  EXPECT_EQ(d.images.to_vector(), (std::vector<float>{-1.f, 1.f, 1.f, 0.f, 1.f, -1.f, 2.f, 1.f}));
}

TEST(Normalize, Errors) {
  Dataset d;
  d.images = Tensor::zeros({2, 1, 2, 2});
  d.labels = {0, 1};
  expect_error([&] { normalize(d, {0.5f, 0.5f, 0.5f}, {0.2f, 0.2f, 0.2f}); },
               {"normalize", "3 means and 3 stds", "(2, 1, 2, 2)", "1 channels"});
  expect_error([&] { normalize(d, {0.5f}, {0.f}); }, {"normalize", "std of channel 0 must be positive"});
  Dataset flat;
  flat.images = Tensor::zeros({2, 4});
  expect_error([&] { normalize(flat, {0.f}, {1.f}); }, {"normalize", "(N, C, H, W)", "(2, 4)"});
}
