// Image files and folders: PNG and JPEG files written here with stb_image_write, decoded
// back; the class folder layout; PIL-compatible grayscale, bilinear resize and center crop
// against values worked out by hand; bad files, empty folders and mismatched sizes by the
// text of their warnings and errors.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "convnet/core/error.h"
#include "convnet/data/datasets.h"
#include "convnet/data/image.h"
#include "convnet/data/image_folder.h"
#include "util/test_util.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Warray-bounds"
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>
#pragma GCC diagnostic pop

using namespace convnet;
using namespace convnet::data;
using convnet::testing::expect_error;
using convnet::testing::TempDir;
using convnet::testing::test_name;
namespace fs = std::filesystem;

namespace {

using Bytes = std::vector<unsigned char>;

// Interleaved (H, W, comp) bytes, as the file formats store them; value(y, x, c).
template <class F>
Bytes pixels(int H, int W, int comp, F value) {
  Bytes b;
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x)
      for (int c = 0; c < comp; ++c) b.push_back(static_cast<unsigned char>(value(y, x, c)));
  return b;
}

void png(const fs::path& p, int H, int W, int comp, const Bytes& px) {
  fs::create_directories(p.parent_path());
  ASSERT_NE(stbi_write_png(p.c_str(), W, H, comp, px.data(), W * comp), 0) << p;
}

void jpg(const fs::path& p, int H, int W, int comp, const Bytes& px) {
  fs::create_directories(p.parent_path());
  ASSERT_NE(stbi_write_jpg(p.c_str(), W, H, comp, px.data(), 100), 0) << p;
}

void text(const fs::path& p, const std::string& s) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << s;
}

bool mentions(const std::vector<std::string>& warnings, const std::string& what) {
  return std::any_of(warnings.begin(), warnings.end(),
                     [&](const std::string& w) { return w.find(what) != std::string::npos; });
}

class ImageFolder : public ::testing::Test {
 protected:
  TempDir tmp_{"imgf_" + test_name()};
  const fs::path& dir_ = tmp_.path;
};

// A smooth 8x8 RGB picture (JPEG reproduces smooth content closely at quality 100).
int smooth(int y, int x, int c) {
  return 20 + 12 * y + 8 * x + 30 * c;
}  // at most 220: one byte

}  // namespace

TEST_F(ImageFolder, DecodePngExactlyAndJpegClosely) {
  const Bytes rgb = pixels(3, 4, 3, [](int y, int x, int c) { return 10 * (y * 4 + x) + c; });
  png(dir_ / "a.png", 3, 4, 3, rgb);
  const Image a = decode_image((dir_ / "a.png").string(), 3);
  ASSERT_EQ(a.channels, 3);
  ASSERT_EQ(a.height, 3);
  ASSERT_EQ(a.width, 4);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 3; ++y)
      for (int x = 0; x < 4; ++x) EXPECT_EQ(a.data[(c * 3 + y) * 4 + x], (10 * (y * 4 + x) + c) / 255.f);

  jpg(dir_ / "b.jpg", 8, 8, 3, pixels(8, 8, 3, smooth));
  const Image b = decode_image((dir_ / "b.jpg").string(), 3);
  ASSERT_EQ(b.height, 8);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 8; ++y)
      for (int x = 0; x < 8; ++x) EXPECT_NEAR(b.data[(c * 8 + y) * 8 + x] * 255.f, smooth(y, x, c), 6.0);
}

// Image bytes in memory (as a server receives them) decode exactly as the file does, with the
// same header checks: a BMP claiming a height of INT_MIN, a PNG whose chunk runs past the end,
// text, and a header over the pixel limit are refused naming the bytes, before decoding.
TEST_F(ImageFolder, BytesInMemoryDecodeAsTheFileWithTheSameChecks) {
  png(dir_ / "m.png", 5, 6, 3, pixels(5, 6, 3, smooth));
  jpg(dir_ / "m.jpg", 8, 8, 3, pixels(8, 8, 3, smooth));
  for (const char* name : {"m.png", "m.jpg"}) {
    std::ifstream f(dir_ / name, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    for (int64_t ch : {1, 3}) {
      const Image a = decode_image((dir_ / name).string(), ch), b = decode_image_bytes(bytes, ch, name);
      EXPECT_EQ(a.data, b.data) << name;
      EXPECT_EQ(a.height, b.height);
    }
    const ImageInfo i = image_info_bytes(bytes);
    EXPECT_EQ(i.width, name == std::string("m.png") ? 6 : 8);
    // Truncated to its first half: stb's reason, naming the bytes' stand-in name.
    expect_error([&] { decode_image_bytes(bytes.substr(0, bytes.size() / 2), 3, "upload 7"); }, {"upload 7"});
  }
  std::string bmp(54, '\0');
  bmp[0] = 'B', bmp[1] = 'M';
  bmp[18] = 4;                                              // width 4
  bmp[22] = 0, bmp[23] = 0, bmp[24] = 0, bmp[25] = '\x80';  // height INT_MIN
  expect_error([&] { decode_image_bytes(bmp, 3, "upload.bmp"); }, {"upload.bmp", "BMP header claims"});
  std::string bad_png = "\x89PNG\r\n\x1a\n";
  bad_png += std::string("\x7f\xff\xff\xf0IHDR", 8) + std::string(20, 'x');
  expect_error([&] { decode_image_bytes(bad_png, 3); }, {"image bytes", "PNG chunk", "past the end"});
  expect_error([&] { decode_image_bytes("hello, world", 3); }, {"cannot decode image 'image bytes'"});
  const int64_t limit = max_image_pixels();
  set_max_image_pixels(20);
  std::ifstream f(dir_ / "m.png", std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  expect_error([&] { decode_image_bytes(bytes, 3); }, {"6x5", "over the limit of 20"});
  set_max_image_pixels(limit);
}

TEST_F(ImageFolder, ChannelConversion) {
  // PIL's convert("L") of pure red, green, blue: 76, 150, 29 (ITU-R 601-2 luma, rounded).
  const Bytes rgb = {255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255};
  png(dir_ / "rgb.png", 1, 4, 3, rgb);
  const Image g = decode_image((dir_ / "rgb.png").string(), 1);
  ASSERT_EQ(g.channels, 1);
  EXPECT_EQ(g.data, (std::vector<float>{76 / 255.f, 150 / 255.f, 29 / 255.f, 1.f}));
  // Gray with alpha -> RGB repeats the gray value, drops alpha.
  png(dir_ / "ga.png", 1, 2, 2, {7, 255, 200, 0});
  const Image c = decode_image((dir_ / "ga.png").string(), 3);
  EXPECT_EQ(c.data, (std::vector<float>{7 / 255.f, 200 / 255.f, 7 / 255.f, 200 / 255.f, 7 / 255.f, 200 / 255.f}));
  const Tensor t = load_image((dir_ / "rgb.png").string(), 3, 0);
  EXPECT_EQ(t.shape(), (Shape{3, 1, 4}));
  EXPECT_EQ(t.at({1, 0, 1}), 1.f);
  expect_error([&] { decode_image((dir_ / "rgb.png").string(), 2); }, {"channels must be 1 or 3, got 2"});
}

TEST(ImageResize, BilinearByHand) {
  // Enlarging 1x2 -> 1x4: output centres at 0.25, 0.75, 1.25, 1.75 in input pixels; edges
  // clamp, so [0, 1] becomes [0, 0.25, 0.75, 1].
  Image a{1, 1, 2, {0.f, 1.f}};
  EXPECT_EQ(resize_bilinear(a, 1, 4).data, (std::vector<float>{0.f, 0.25f, 0.75f, 1.f}));
  // Shrinking 1x4 -> 1x2 with PIL's antialiasing: output 0 is centred at input 1.0, the
  // triangle is stretched to support 2, so inputs 0, 1, 2 weigh 0.75, 0.75, 0.25 (/ 1.75):
  // [0, 1, 2, 3] -> [1.25 / 1.75, (0.25 * 1 + 0.75 * 2 + 0.75 * 3) / 1.75].
  Image b{1, 1, 4, {0.f, 1.f, 2.f, 3.f}};
  const Image r = resize_bilinear(b, 1, 2);
  ASSERT_EQ(r.data.size(), 2u);
  EXPECT_NEAR(r.data[0], 1.25 / 1.75, 1e-6);
  EXPECT_NEAR(r.data[1], 4.0 / 1.75, 1e-6);
  // Separable: a constant stays constant whatever the sizes.
  Image k{2, 3, 5, std::vector<float>(30, 0.3f)};
  for (float v : resize_bilinear(k, 7, 2).data) EXPECT_NEAR(v, 0.3f, 1e-6);
}

TEST(ImageResize, CenterCropAndShorterSide) {
  // 1x6 row 0..5: crop to 1x3 starts at round((6 - 3) / 2) = round(1.5) = 2 (halves to even).
  Image a{1, 1, 6, {0, 1, 2, 3, 4, 5}};
  EXPECT_EQ(center_crop(a, 1, 3).data, (std::vector<float>{2, 3, 4}));
  EXPECT_EQ(center_crop(a, 1, 5).data, (std::vector<float>{0, 1, 2, 3, 4}));  // round(0.5) = 0
  // center-crop mode on a 2x4 image to 2: the shorter side is already 2, then the middle
  // two columns.
  Image b{1, 2, 4, {0, 1, 2, 3, 4, 5, 6, 7}};
  EXPECT_EQ(resize_to(b, 2, "center-crop").data, (std::vector<float>{1, 2, 5, 6}));
  EXPECT_EQ(resize_to(b, 4, "resize").height, 4);
  // 4x8 to 2: shorter side 4 -> 2 (halving both), 2x4, then the middle 2x2.
  Image c{1, 4, 8, std::vector<float>(32, 0.5f)};
  const Image cc = resize_to(c, 2, "center-crop");
  EXPECT_EQ(cc.height, 2);
  EXPECT_EQ(cc.width, 2);
  expect_error([&] { center_crop(a, 2, 1); }, {"center_crop", "2x1", "1x6"});
  expect_error([&] { resize_to(a, 2, "stretch"); }, {"resize mode", "'stretch'"});
}

TEST_F(ImageFolder, ClassesSortedLabelsAndPixels) {
  // Class folders in byte order: "Moose" < "ant" < "zebra"; a PNG and a JPEG per class,
  // plus one in a nested folder.
  const fs::path root = dir_ / "data";
  const std::vector<std::string> classes = {"zebra", "ant", "Moose"};
  for (size_t k = 0; k < classes.size(); ++k) {
    const int v = 50 * static_cast<int>(k);
    png(root / classes[k] / "1.png", 8, 8, 3, pixels(8, 8, 3, [&](int, int, int c) { return v + c; }));
    jpg(root / classes[k] / "2.jpg", 8, 8, 3, pixels(8, 8, 3, smooth));
  }
  png(root / "ant" / "more" / "0.png", 8, 8, 1, pixels(8, 8, 1, [](int, int, int) { return 9; }));
  text(root / "ant" / ".DS_Store", "not an image, but hidden");
  std::vector<std::string> warnings;
  const Dataset d = load_image_folder(root.string(), {}, &warnings);
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"Moose", "ant", "zebra"}));
  ASSERT_EQ(d.images.shape(), (Shape{7, 3, 8, 8}));
  EXPECT_EQ(d.labels, (std::vector<int64_t>{0, 0, 1, 1, 1, 2, 2}));
  // Files sorted by path within a class: ant/1.png, ant/2.jpg, ant/more/0.png.
  EXPECT_EQ(d.images.at({0, 1, 3, 3}), 101 / 255.f);  // Moose = classes[2], value 100 + c
  EXPECT_EQ(d.images.at({2, 2, 0, 7}), 52 / 255.f);   // ant = classes[1], value 50 + c
  EXPECT_NEAR(d.images.at({3, 0, 2, 5}) * 255.f, smooth(2, 5, 0), 6.0);
  EXPECT_EQ(d.images.at({4, 2, 7, 7}), 9 / 255.f);  // gray PNG as RGB
  EXPECT_EQ(d.images.at({5, 0, 0, 0}), 0.f);        // zebra, value 0 + c

  ImageFolderOptions o;
  o.grayscale = true;
  o.image_size = 4;
  const Dataset g = load_image_folder(root.string(), o);
  EXPECT_EQ(g.images.shape(), (Shape{7, 1, 4, 4}));
  // zebra/1.png is RGB (0, 1, 2): L = (1 * 38470 + 2 * 7471 + 32768) >> 16 = 1, and resizing
  // a constant image keeps it.
  EXPECT_NEAR(g.images.at({5, 0, 1, 1}), 1 / 255.f, 1e-6);
}

TEST_F(ImageFolder, BadFilesWarnOrFail) {
  const fs::path root = dir_ / "data";
  png(root / "a" / "ok.png", 4, 4, 3, pixels(4, 4, 3, [](int, int, int) { return 1; }));
  png(root / "b" / "ok.png", 4, 4, 3, pixels(4, 4, 3, [](int, int, int) { return 2; }));
  text(root / "a" / "notes.txt", "these are not pixels");
  // A PNG cut short after its signature and header chunk.
  png(root / "b" / "whole.png", 4, 4, 3, pixels(4, 4, 3, [](int, int, int) { return 3; }));
  {
    std::ifstream in(root / "b" / "whole.png", std::ios::binary);
    std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    text(root / "b" / "truncated.png", s.substr(0, 30));
  }
  std::vector<std::string> warnings;
  const Dataset d = load_image_folder(root.string(), {}, &warnings);
  EXPECT_EQ(d.size(), 3);  // a/ok, b/ok, b/whole
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_TRUE(mentions(warnings, (root / "a" / "notes.txt").string()));
  EXPECT_TRUE(mentions(warnings, (root / "b" / "truncated.png").string()));
  EXPECT_TRUE(mentions(warnings, "skipping"));

  ImageFolderOptions strict;
  strict.skip_bad_files = false;
  expect_error([&] { load_image_folder(root.string(), strict); },
               {"cannot decode image", (root / "a" / "notes.txt").string()});
  // The same through load_dataset.
  DatasetSpec spec;
  spec.kind = "folder";
  spec.dir = root.string();
  spec.skip_bad_files = false;
  expect_error([&] { load_dataset(spec, true); }, {(root / "a" / "notes.txt").string()});
}

TEST_F(ImageFolder, EmptyClassFolderAndOtherErrors) {
  const fs::path root = dir_ / "data";
  png(root / "a" / "ok.png", 4, 4, 3, pixels(4, 4, 3, [](int, int, int) { return 1; }));
  fs::create_directories(root / "b");
  expect_error([&] { load_image_folder(root.string(), {}); },
               {"class folder", (root / "b").string(), "no readable images"});
  // A class whose only file is bad is empty too, after the warning.
  text(root / "b" / "x.txt", "nope");
  std::vector<std::string> warnings;
  expect_error([&] { load_image_folder(root.string(), {}, &warnings); }, {(root / "b").string(), "no readable"});
  EXPECT_TRUE(mentions(warnings, "x.txt"));
  fs::remove(root / "b" / "x.txt");
  // Different sizes without an image size name both files.
  png(root / "b" / "big.png", 5, 6, 3, pixels(5, 6, 3, [](int, int, int) { return 1; }));
  expect_error([&] { load_image_folder(root.string(), {}); }, {"big.png", "5x6", "ok.png", "4x4", "image size"});
  ImageFolderOptions o;
  o.image_size = 3;
  o.resize_mode = "center-crop";
  EXPECT_EQ(load_image_folder(root.string(), o).images.shape(), (Shape{2, 3, 3, 3}));
  expect_error([&] { load_image_folder((dir_ / "nowhere").string(), {}); }, {"nowhere", "no such directory"});
  fs::create_directories(dir_ / "flat");
  text(dir_ / "flat" / "x.png", "");
  expect_error([&] { load_image_folder((dir_ / "flat").string(), {}); }, {"no class folders"});
  expect_error([&] { decode_image((dir_ / "missing.png").string(), 3); }, {"cannot decode image", "missing.png"});
}

TEST_F(ImageFolder, LoadDatasetTrainAndTestSplits) {
  for (const char* split : {"train", "val"})
    for (const char* cls : {"cat", "dog"})
      png(dir_ / split / cls / "0.png", 6, 6, 3, pixels(6, 6, 3, [&](int, int, int) { return cls[0]; }));
  DatasetSpec spec;
  spec.kind = "folder";
  spec.dir = dir_.string();
  spec.image_size = 4;
  const Dataset tr = load_dataset(spec, true), te = load_dataset(spec, false);  // val/ stands in for test/
  EXPECT_EQ(tr.class_names, (std::vector<std::string>{"cat", "dog"}));
  EXPECT_EQ(te.class_names, tr.class_names);
  EXPECT_EQ(te.labels, (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(te.images.shape(), (Shape{2, 3, 4, 4}));
  EXPECT_NEAR(te.images.at({1, 0, 2, 2}), 'd' / 255.f, 1e-6);
  spec.classes = {1};
  EXPECT_EQ(load_dataset(spec, false).class_names, (std::vector<std::string>{"dog"}));
  spec.classes = {};
  // A test split missing a class of the training split, or having an extra one.
  fs::remove_all(dir_ / "val" / "dog");
  expect_error([&] { load_dataset(spec, false); }, {"class folder 'dog'", "missing"});
  png(dir_ / "val" / "dog" / "0.png", 6, 6, 3, pixels(6, 6, 3, [](int, int, int) { return 1; }));
  png(dir_ / "val" / "emu" / "0.png", 6, 6, 3, pixels(6, 6, 3, [](int, int, int) { return 1; }));
  expect_error([&] { load_dataset(spec, false); }, {"'emu'", "not a class of the training split"});
  fs::remove_all(dir_ / "val");
  expect_error([&] { load_dataset(spec, false); }, {"no test/ or val/"});
}
