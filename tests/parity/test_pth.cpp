// PyTorch .pth files (src/io/pth.cpp) against what torch.save wrote: python/fixtures/pth.py
// saves state dicts with Debian's torch 1.13 in both formats (zip and legacy), with every
// storage dtype, non-contiguous views, parameters, a wrapping training checkpoint and
// DataParallel names, and the float32 values each tensor must read as.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "convnet/core/error.h"
#include "convnet/io/pth.h"
#include "convnet/io/weights.h"
#include "convnet/nn/layers.h"
#include "convnet/nn/sequential.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;

namespace {

std::string fx(const std::string& name) {
  return fixture_dir() + "/" + name;
}

void check_case(const std::string& name) {
  const auto expect = load_fixture(fx("pth_" + name + ".safetensors"));
  const auto cfg = fixture_config(expect);
  for (const std::string& file : {"pth_" + name + ".pth", "pth_" + name + "_legacy.pth"}) {
    SCOPED_TRACE(file);
    ASSERT_TRUE(io::is_pth_file(fx(file)));
    const io::SafeTensors got = io::load_pth(fx(file));
    size_t expected_count = 0;
    for (const auto& [key, want] : expect.tensors) {
      if (key.rfind("expect.", 0) != 0) continue;  // the state_dict case also holds an input and logits
      ++expected_count;
      const std::string n = key.substr(7);  // "expect."
      SCOPED_TRACE(n);
      ASSERT_TRUE(got.tensors.count(n));
      const Tensor& t = got.tensors.at(n);
      EXPECT_EQ(t.dtype(), DType::float32);
      ASSERT_EQ(t.shape(), want.shape());
      EXPECT_TRUE(all_close(t, want, 0, 0));  // exact: each stored value as float32
      EXPECT_EQ(got.dtypes.at(n), cfg.at("dtypes").at(n).get<std::string>());
    }
    EXPECT_EQ(got.tensors.size(), expected_count);
    for (const auto& [k, v] : cfg.at("metadata").items()) {
      ASSERT_TRUE(got.metadata.count(k)) << k;
      EXPECT_EQ(got.metadata.at(k), v.get<std::string>()) << k;
    }
  }
}

}  // namespace

TEST(Pth, StateDictOfAModelInBothFormats) {
  check_case("state_dict");
}
TEST(Pth, EveryStorageDtype) {
  check_case("dtypes");
}
TEST(Pth, NonContiguousAndSharedStorages) {
  check_case("views");
}
TEST(Pth, ParametersAreRebuiltAsTensors) {
  check_case("parameters");
}
TEST(Pth, TrainingCheckpointWrappingTheStateDict) {
  check_case("wrapped");
}
TEST(Pth, DataParallelPrefixIsRemoved) {
  check_case("dataparallel");
}

TEST(Pth, KeepDtypesKeepsHalfBfloatAndIntegers) {
  const io::SafeTensors got = io::load_pth(fx("pth_dtypes.pth"), /*keep_dtypes=*/true);
  EXPECT_EQ(got.tensors.at("f16").dtype(), DType::float16);
  EXPECT_EQ(got.tensors.at("bf16").dtype(), DType::bfloat16);
  EXPECT_EQ(got.tensors.at("i64").dtype(), DType::int64);
  EXPECT_EQ(got.tensors.at("i32").dtype(), DType::int32);
  EXPECT_EQ(got.tensors.at("u8").dtype(), DType::uint8);
  EXPECT_EQ(got.tensors.at("bool").dtype(), DType::bool_);
  EXPECT_EQ(got.tensors.at("f64").dtype(), DType::float32);  // no float64 tensors
  EXPECT_EQ(got.tensors.at("i16").dtype(), DType::float32);
  // The kept values are those stored: the same as the float32 reading.
  const io::SafeTensors f32 = io::load_pth(fx("pth_dtypes.pth"));
  for (const char* n : {"f16", "bf16", "i64", "i32", "u8", "bool"}) {
    SCOPED_TRACE(n);
    EXPECT_TRUE(all_close(got.tensors.at(n).to(DType::float32), f32.tensors.at(n), 0, 0));
  }
}

TEST(Pth, LoadTensorFileTellsTheFormatsApart) {
  const auto a = io::load_tensor_file(fx("pth_state_dict.pth"));
  TempDir dir("pth_tf");
  const std::string out = dir / "w.safetensors";
  io::save_safetensors(out, a.tensors);
  EXPECT_FALSE(io::is_pth_file(out));
  const auto b = io::load_tensor_file(out);
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (const auto& [n, t] : a.tensors) EXPECT_TRUE(all_close(t, b.tensors.at(n), 0, 0)) << n;
}

// Hostile and broken files: each refused with a message naming the file and the problem.
TEST(Pth, HostileFilesAreRefusedWithTheReason) {
  for (const char* name :
       {"global", "deflated", "truncated", "crc", "past_storage", "torchscript", "values_cap", "views_cap"}) {
    SCOPED_TRACE(name);
    const auto cfg = fixture_config(load_fixture(fx(std::string("pth_bad_") + name + ".safetensors")));
    const std::string file = fx(std::string("pth_bad_") + name + ".pth");
    expect_error([&] { io::load_pth(file); }, {file, cfg.at("error").get<std::string>()});
  }
}

TEST(Pth, TheGlobalOfAnExploitIsNeverCalled) {
  // The pickle of pth_bad_global.pth calls posix.system("echo pwned!"); the refusal names the
  // global, and nothing ran (there is nothing in the reader that could run it).
  expect_error([] { io::load_pth(fx("pth_bad_global.pth")); },
               {"posix.system", "weights_only", "nothing was executed"});
}

TEST(Pth, NotAPytorchFile) {
  TempDir dir("pth_not");
  const std::string f = dir / "x.pth";
  std::ofstream(f) << "hello, not a pickle";
  EXPECT_FALSE(io::is_pth_file(f));
  expect_error([&] { io::load_pth(f); }, {f, "not a PyTorch file"});
  expect_error([&] { io::load_pth(dir / "missing.pth"); }, {"missing.pth", "cannot open"});
}

TEST(Pth, LoadWeightsTakesAPthFileAndTheModelGivesTorchsLogits) {
  // The fixture's model (Conv2d, BatchNorm2d, ReLU, Flatten, Linear) built in convnet, its
  // weights read from the .pth by content, and its eval-mode logits against PyTorch's.
  const auto expect = load_fixture(fx("pth_state_dict.safetensors"));
  for (const char* file : {"pth_state_dict.pth", "pth_state_dict_legacy.pth"}) {
    SCOPED_TRACE(file);
    nn::Sequential m;
    m.add(std::make_shared<nn::Conv2d>(3, 4, 3))
        .add(std::make_shared<nn::BatchNorm2d>(4))
        .add(std::make_shared<nn::ReLU>())
        .add(std::make_shared<nn::Flatten>())
        .add(std::make_shared<nn::Linear>(4 * 6 * 6, 5));
    const io::LoadReport r = io::load_weights(m, fx(file));
    EXPECT_TRUE(r.complete()) << r.describe();
    m.eval();
    EXPECT_TRUE(all_close(m(fixture_tensor(expect, "input")), fixture_tensor(expect, "logits"), 1e-5, 1e-6));
  }
  // A model the file does not fit: every problem named, with the file.
  nn::Sequential other;
  other.add(std::make_shared<nn::Linear>(3, 4));
  expect_error([&] { io::load_weights(other, fx("pth_state_dict.pth")); },
               {"pth_state_dict.pth", "unexpected in file: 1.running_mean", "mismatch: 0.weight"});
}

TEST(Pth, ConvertCommandWritesSafetensorsKeepingDtypes) {
  TempDir dir("pth_convert");
  const std::string out = dir / "d.safetensors";
  auto r = run_cli("convert " + fx("pth_dtypes_legacy.pth") + " " + out);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("12 tensors"), std::string::npos) << r.out;
  const io::SafeTensors kept = io::load_safetensors(out, /*keep_dtypes=*/true);
  EXPECT_EQ(kept.dtypes.at("f16"), "F16");
  EXPECT_EQ(kept.dtypes.at("bf16"), "BF16");
  EXPECT_EQ(kept.dtypes.at("i64"), "I64");
  EXPECT_EQ(kept.dtypes.at("f64"), "F32");
  const io::SafeTensors direct = io::load_pth(fx("pth_dtypes.pth"));
  const io::SafeTensors back = io::load_safetensors(out);
  for (const auto& [n, t] : direct.tensors) EXPECT_TRUE(all_close(back.tensors.at(n), t, 0, 0)) << n;

  r = run_cli("convert --float32 " + fx("pth_wrapped.pth") + " " + out);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("'state_dict' entry"), std::string::npos) << r.out;
  const io::SafeTensors w = io::load_safetensors(out, /*keep_dtypes=*/true);
  EXPECT_EQ(w.dtypes.at("1.num_batches_tracked"), "F32");
  EXPECT_EQ(w.metadata.at("epoch"), "7");

  r = run_cli("convert " + fx("pth_bad_global.pth") + " " + out);
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("posix.system"), std::string::npos) << r.out;
}
