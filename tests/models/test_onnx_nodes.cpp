// ONNX's backend test data (Debian's libonnx-testdata): every test listed in
// tests/models/onnx_node_tests.txt is a directory with model.onnx and test_data_set_*/
// {input,output}_<i>.pb TensorProtos; the imported model, in eval mode, must reproduce
// the outputs. The list holds only tests of supported operators, so a listed test that
// cannot run (unsupported, error) is a failure. Prints how many ran and passed.
// CONVNET_ONNX_NODE_MANIFEST=<file> runs another list (to try more tests).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "convnet/autograd/autograd.h"
#include "convnet/io/onnx.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;
namespace fs = std::filesystem;

namespace {

const fs::path kDataDir = "/usr/share/libonnx-testdata/data";

std::vector<std::string> manifest() {
  const char* env = std::getenv("CONVNET_ONNX_NODE_MANIFEST");
  const std::string path =
      env ? std::string(env) : std::string(CONVNET_SOURCE_DIR) + "/tests/models/onnx_node_tests.txt";
  std::ifstream f(path);
  EXPECT_TRUE(f) << "cannot read " << path;
  std::vector<std::string> out;
  for (std::string line; std::getline(f, line);) {
    line.erase(0, line.find_first_not_of(" \t"));
    line.erase(line.find_last_not_of(" \t\r") + 1);
    if (!line.empty() && line[0] != '#') out.push_back(line);
  }
  return out;
}

// input_0.pb, input_1.pb, ... in numeric order.
std::vector<fs::path> numbered(const fs::path& dir, const std::string& prefix) {
  std::vector<fs::path> out;
  for (int i = 0; fs::exists(dir / (prefix + std::to_string(i) + ".pb")); ++i)
    out.push_back(dir / (prefix + std::to_string(i) + ".pb"));
  return out;
}

// Empty when the outputs match: float elementwise |a - b| <= atol + rtol |b| (NaN equal
// to NaN, infinities equal), integers exactly; else what differs.
std::string compare(const io::OnnxValue& got, const io::OnnxValue& want) {
  if (got.shape() != want.shape()) return "shape " + shape_str(got.shape()) + ", expected " + shape_str(want.shape());
  if (want.is_int) {
    if (!got.is_int) return "float data, expected integers";
    return got.ints == want.ints ? "" : "integer values differ";
  }
  if (got.is_int) return "integer data, expected float";
  const float* a = got.tensor.data();
  const float* b = want.tensor.data();
  for (int64_t i = 0; i < want.tensor.numel(); ++i) {
    if (std::isnan(b[i]) ? std::isnan(a[i]) : (a[i] == b[i] || std::abs(a[i] - b[i]) <= 1e-5 + 1e-4 * std::abs(b[i])))
      continue;
    return "element " + std::to_string(i) + ": " + std::to_string(a[i]) + ", expected " + std::to_string(b[i]);
  }
  return "";
}

// Runs one test directory; returns "" on success, else why it failed.
std::string run_node_test(const fs::path& dir) {
  try {
    auto net = io::load_onnx((dir / "model.onnx").string());
    net->eval();
    NoGradGuard no_grad;
    int sets = 0;
    for (int s = 0; fs::exists(dir / ("test_data_set_" + std::to_string(s))); ++s, ++sets) {
      const fs::path data = dir / ("test_data_set_" + std::to_string(s));
      std::vector<io::OnnxValue> inputs, expected;
      for (const auto& p : numbered(data, "input_")) inputs.push_back(io::load_onnx_tensor(p.string()));
      for (const auto& p : numbered(data, "output_")) expected.push_back(io::load_onnx_tensor(p.string()));
      const auto outputs = net->run(inputs);
      if (outputs.size() < expected.size())
        return std::to_string(outputs.size()) + " outputs, expected " + std::to_string(expected.size());
      for (size_t i = 0; i < expected.size(); ++i)
        if (auto why = compare(outputs[i], expected[i]); !why.empty())
          return "test_data_set_" + std::to_string(s) + " output " + std::to_string(i) + ": " + why;
    }
    return sets > 0 ? "" : "no test_data_set_* directory";
  } catch (const std::exception& e) {
    return e.what();
  }
}

}  // namespace

TEST(OnnxNodeTests, EveryListedBackendTestPasses) {
  if (!fs::exists(kDataDir / "node"))
    GTEST_SKIP() << "ONNX backend test data not found at " << kDataDir.string()
                 << " (Debian package libonnx-testdata is not installed)";
  const auto tests = manifest();
  ASSERT_FALSE(tests.empty());
  int run = 0, passed = 0;
  for (const auto& t : tests) {
    const fs::path dir = kDataDir / t;
    ++run;
    if (!fs::exists(dir / "model.onnx")) {
      ADD_FAILURE() << t << ": no such test in " << kDataDir.string();
      continue;
    }
    const std::string why = run_node_test(dir);
    if (why.empty())
      ++passed;
    else
      ADD_FAILURE() << t << ": " << why;
  }
  std::printf("ONNX backend tests (libonnx-testdata): %d run, %d passed\n", run, passed);
  RecordProperty("run", run);
  RecordProperty("passed", passed);
  EXPECT_EQ(run, passed);
}

TEST(OnnxNodeTests, ManifestHasNoDuplicates) {
  auto tests = manifest();
  std::sort(tests.begin(), tests.end());
  EXPECT_EQ(std::adjacent_find(tests.begin(), tests.end()), tests.end());
}
