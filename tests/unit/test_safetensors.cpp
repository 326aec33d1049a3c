// safetensors: round trip, atomic writes, and corrupt or hostile files reported by name
// and reason without reading out of bounds; strict and non-strict weight loading.
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
