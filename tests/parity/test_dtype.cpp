// dtype conversion (Tensor::to) against PyTorch 1.13 (python/fixtures/dtype.py): float32
// -> bfloat16 / float16 bit for bit (nearest even, ties, overflow, subnormals, NaN), back
// to float32, and to int64 / int32 / bool, on the default and the reference kernels.
#include <cmath>

#include "convnet/core/tensor.h"
#include "kernels/registry.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;

namespace {
template <class T>
std::vector<double> bits_of(const Tensor& t) {
  std::vector<double> v;
  const T* p = t.data_as<T>();
  for (int64_t i = 0; i < t.numel(); ++i) v.push_back(p[i].bits);
  return v;
}
std::vector<double> as_doubles(const Tensor& t) {
  const auto f = t.to_vector();
  return {f.begin(), f.end()};
}
// Bits compared as numbers, except NaN, where only NaN-ness matters (payloads may differ).
::testing::AssertionResult same_bits(const std::vector<double>& got, const std::vector<double>& want,
                                     uint32_t exp_mask) {
  if (got.size() != want.size()) return ::testing::AssertionFailure() << got.size() << " vs " << want.size();
  for (size_t i = 0; i < got.size(); ++i) {
    const auto g = static_cast<uint32_t>(got[i]), w = static_cast<uint32_t>(want[i]);
    const uint32_t man_mask = exp_mask == 0x7f80 ? 0x7f : 0x3ff;
    const bool gnan = (g & exp_mask) == exp_mask && (g & man_mask), wnan = (w & exp_mask) == exp_mask && (w & man_mask);
    if (gnan && wnan) continue;
    if (g != w) return ::testing::AssertionFailure() << "element " << i << ": bits " << std::hex << g << " vs " << w;
  }
  return ::testing::AssertionSuccess();
}
}  // namespace

TEST(DTypeParity, ConversionsMatchPyTorch) {
  const auto f = load_fixture(fixture_dir() + "/dtype_convert.safetensors");
  const Tensor& x = fixture_tensor(f, "x");
  for (const char* backend : {"", "ref"}) {
    kernels::force_backend(backend);
    SCOPED_TRACE(std::string("backend ") + (*backend ? backend : "default"));
    const Tensor b = x.to(DType::bfloat16), h = x.to(DType::float16);
    EXPECT_EQ(b.dtype(), DType::bfloat16);
    EXPECT_TRUE(same_bits(bits_of<bf16_t>(b), as_doubles(fixture_tensor(f, "bf16_bits")), 0x7f80));
    EXPECT_TRUE(same_bits(bits_of<f16_t>(h), as_doubles(fixture_tensor(f, "f16_bits")), 0x7c00));
    // Back to float32: exact, NaN where PyTorch has NaN.
    for (const auto& [t, key] : {std::pair{b, "bf16_back"}, std::pair{h, "f16_back"}}) {
      const auto got = as_doubles(t.to(DType::float32)), want = as_doubles(fixture_tensor(f, key));
      ASSERT_EQ(got.size(), want.size());
      for (size_t i = 0; i < got.size(); ++i) {
        if (std::isnan(want[i])) {
          EXPECT_TRUE(std::isnan(got[i])) << key << " " << i;
        } else {
          EXPECT_EQ(got[i], want[i]) << key << " " << i;
        }
      }
    }
    const Tensor& fin = fixture_tensor(f, "finite");
    const Tensor i64 = fin.to(DType::int64), i32 = fin.to(DType::int32);
    const auto want64 = fixture_tensor(f, "int64").to_vector(), want32 = fixture_tensor(f, "int32").to_vector();
    for (int64_t i = 0; i < fin.numel(); ++i) {
      ASSERT_EQ(static_cast<double>(i64.data_as<int64_t>()[i]), static_cast<double>(want64[i])) << i;
      ASSERT_EQ(static_cast<double>(i32.data_as<int32_t>()[i]), static_cast<double>(want32[i])) << i;
    }
    const Tensor bo = x.to(DType::bool_);
    const auto wantb = fixture_tensor(f, "bool").to_vector();
    for (int64_t i = 0; i < x.numel(); ++i) ASSERT_EQ(bo.data_as<uint8_t>()[i], wantb[i]) << i;
  }
  kernels::force_backend("");
}
