// safetensors: round trip, atomic writes, and corrupt or hostile files reported by name
// and reason without reading out of bounds; strict and non-strict weight loading.
#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "convnet/core/rng.h"
#include "convnet/io/safetensors.h"
#include "convnet/io/weights.h"
#include "convnet/models/registry.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;
namespace fs = std::filesystem;

namespace {
fs::path tmp(const std::string& name) { return fs::temp_directory_path() / ("convnet_st_" + name); }

// Writes a file with the given JSON header and data bytes (header length as given, or the real one).
std::string write_raw(const std::string& name, const std::string& header, size_t data_bytes,
                      int64_t declared_len = -1) {
  const auto p = tmp(name).string();
  std::ofstream f(p, std::ios::binary);
  uint64_t len = declared_len >= 0 ? static_cast<uint64_t>(declared_len) : header.size();
  for (int i = 0; i < 8; ++i) f.put(static_cast<char>((len >> (8 * i)) & 0xff));
  f << header << std::string(data_bytes, '\0');
  return p;
}
}  // namespace

TEST(SafeTensors, RoundTripKeepsNamesShapesValuesAndMetadata) {
  Generator gen(1);
  std::map<std::string, Tensor> t{{"a.weight", Tensor::randn({3, 4, 2, 2}, gen)}, {"b", Tensor::randn({5}, gen)},
                                  {"scalar", Tensor::scalar(2.5f)}};
  const auto p = tmp("roundtrip.safetensors").string();
  io::save_safetensors(p, t, {{"model", "x"}});
  EXPECT_FALSE(fs::exists(p + ".tmp"));
  auto r = io::load_safetensors(p);
  ASSERT_EQ(r.tensors.size(), 3u);
  for (auto& [k, v] : t) {
    EXPECT_EQ(r.tensors.at(k).shape(), v.shape()) << k;
    EXPECT_EQ(r.tensors.at(k).to_vector(), v.to_vector()) << k;
    EXPECT_EQ(r.dtypes.at(k), "F32");
  }
  EXPECT_EQ(r.metadata.at("model"), "x");
  // The header length is little-endian and the data starts 8-byte aligned.
  std::ifstream f(p, std::ios::binary);
  unsigned char b[8];
  f.read(reinterpret_cast<char*>(b), 8);
  uint64_t len = 0;
  for (int i = 7; i >= 0; --i) len = (len << 8) | b[i];
  EXPECT_EQ((len + 8) % 8, 0u);
  fs::remove(p);
}

TEST(SafeTensors, CorruptFilesAreReportedClearly) {
  expect_error([] { io::load_safetensors(tmp("does_not_exist").string()); }, {"does_not_exist", "cannot open"});
  {
    const auto p = tmp("short").string();
    std::ofstream(p) << "abc";
    expect_error([&] { io::load_safetensors(p); }, {p, "too short"});
  }
  const std::string ok = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  expect_error([&] { io::load_safetensors(write_raw("biglen", ok, 8, 1 << 30)); }, {"biglen", "header", "truncated"});
  expect_error([&] { io::load_safetensors(write_raw("notjson", "{not json", 0)); }, {"notjson", "not valid JSON"});
  expect_error([&] { io::load_safetensors(write_raw("array", "[1, 2]", 0)); }, {"array", "not a JSON object"});
  expect_error([&] { io::load_safetensors(write_raw("past_end", ok, 4)); }, {"past_end", "'a'", "outside"});
  expect_error(
      [&] {
        io::load_safetensors(write_raw(
            "overlap",
            R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
            12));
      },
      {"overlap", "overlapping", "'a'", "'b'"});
  expect_error(
      [&] { io::load_safetensors(write_raw("dtype", R"({"a":{"dtype":"Q7","shape":[2],"data_offsets":[0,2]}})", 2)); },
      {"dtype", "unsupported dtype Q7"});
  expect_error(
      [&] { io::load_safetensors(write_raw("size", R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8)); },
      {"'a'", "needs 12 bytes"});
  expect_error(
      [&] { io::load_safetensors(write_raw("neg", R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8)); },
      {"'a'", "shape"});
  for (const char* n : {"short", "biglen", "notjson", "array", "past_end", "overlap", "dtype", "size", "neg"})
    fs::remove(tmp(n));
}

// As strict as the reference implementation, and no allocation a file's size does not pay for.
TEST(SafeTensors, StrictFormatAndBoundedAllocation) {
  const std::string a8 = R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
  // Holes and trailing bytes: the ranges must tile the data section.
  expect_error(
      [&] {
        io::load_safetensors(write_raw("hole", R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12));
      },
      {"hole", "bytes [0, 4)", "belong to no tensor", "'a'"});
  expect_error([&] { io::load_safetensors(write_raw("trailing", "{" + a8 + "}", 16)); },
               {"trailing", "8 trailing bytes"});
  // Duplicate keys, at the top and inside an entry; nesting; metadata of strings only.
  expect_error([&] { io::load_safetensors(write_raw("dupkey", "{" + a8 + "," + a8 + "}", 8)); },
               {"dupkey", "key 'a' twice"});
  expect_error(
      [&] {
        io::load_safetensors(
            write_raw("dupfield", R"({"a":{"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 8));
      },
      {"dupfield", "key 'dtype' twice"});
  expect_error([&] { io::load_safetensors(write_raw("metanum", R"({"__metadata__":{"k":1},)" + a8 + "}", 8)); },
               {"metanum", "__metadata__ value 'k' must be a string"});
  expect_error(
      [&] {
        io::load_safetensors(write_raw(
            "deep", R"({"__metadata__":{"k":)" + std::string(100000, '[') + std::string(100000, ']') + "}}", 0));
      },
      {"deep", "deeper than 64 levels"});
  expect_error([&] { io::load_safetensors(write_raw("bom", "\xEF\xBB\xBF{" + a8 + "}", 8)); },
               {"bom", "must start with '{'"});
  expect_error(
      [&] {
        io::load_safetensors(
            write_raw("extrakey", R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}})", 8));
      },
      {"extrakey", "keys other than"});
  // Dimensions whose product wraps around 2^64 (4 * 2^62 = 2^64 = 0 mod 2^64): refused by
  // the overflow check, not accepted as a 0-byte tensor.
  expect_error(
      [&] {
        io::load_safetensors(
            write_raw("wrap", R"({"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}})", 0));
      },
      {"wrap", "'a'", "more than 2^63"});
  std::string ones = "1";
  for (int i = 1; i < 40; ++i) ones += ",1";
  expect_error(
      [&] {
        io::load_safetensors(
            write_raw("rank", R"({"a":{"dtype":"F32","shape":[)" + ones + R"(],"data_offsets":[0,4]}})", 4));
      },
      {"rank", "'a'", "rank 40", "limit is 32"});
  // A header over 100 MB, in a sparse file that really has the bytes.
  {
    const auto p = tmp("bighead").string();
    {
      std::ofstream f(p, std::ios::binary);
      const uint64_t len = 100'000'001;
      for (int i = 0; i < 8; ++i) f.put(static_cast<char>((len >> (8 * i)) & 0xff));
    }
    fs::resize_file(p, 8 + 100'000'001);
    expect_error([&] { io::load_safetensors(p); }, {"bighead", "100000001-byte header", "limit"});
  }
  // A FIFO is refused instead of read forever.
  {
    const auto p = tmp("fifo").string();
    fs::remove(p);
    ASSERT_EQ(mkfifo(p.c_str(), 0600), 0);
    expect_error([&] { io::load_safetensors(p); }, {"fifo", "not a regular file"});
  }
  for (const char* n : {"hole", "trailing", "dupkey", "dupfield", "metanum", "deep", "bom", "extrakey", "wrap", "rank",
                        "bighead", "fifo"})
    fs::remove(tmp(n));
}

TEST(Weights, StrictLoadReportsEveryProblemAndChangesNothing) {
  manual_seed(0);
  auto net = models::create("lenet5");
  auto sd = net->state_dict();
  io::SafeTensors st;
  for (auto& [k, v] : sd) st.tensors[k] = v.clone(), st.dtypes[k] = "F32";
  st.tensors.erase("0.bias");                       // missing
  st.tensors["extra.weight"] = Tensor::zeros({1});  // unexpected
  st.dtypes["extra.weight"] = "F32";
  st.tensors["7.weight"] = Tensor::zeros({120, 256});  // wrong shape
  st.tensors["3.weight"].fill_(42.f);
  st.dtypes["9.weight"] = "F64";  // wrong dtype
  const float before = net->state_dict().at("3.weight").to_vector()[0];
  expect_error([&] { io::load_state_dict(*net, st, true, "w.safetensors"); },
               {"w.safetensors", "missing in file: 0.bias", "unexpected in file: extra.weight",
                "7.weight: shape (120, 256) in file, (120, 400) in model", "9.weight: dtype F64", "--strict false"});
  EXPECT_EQ(net->state_dict().at("3.weight").to_vector()[0], before);  // nothing loaded
  auto r = io::load_state_dict(*net, st, false);
  EXPECT_EQ(r.missing, (std::vector<std::string>{"0.bias"}));
  EXPECT_EQ(r.unexpected, (std::vector<std::string>{"extra.weight"}));
  EXPECT_EQ(r.mismatched.size(), 2u);
  EXPECT_EQ(net->state_dict().at("3.weight").to_vector()[0], 42.f);  // the matching ones are loaded
}
