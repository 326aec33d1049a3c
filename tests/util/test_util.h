#pragma once
// Shared test helpers: PyTorch fixtures, tensor comparison, finite differences.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "convnet/core/tensor.h"
#include "convnet/io/safetensors.h"

namespace convnet::testing {

// The exit code of a test executable in which a test was skipped and none failed
// (tests/util/test_main.cpp); ctest counts it as a skip.
inline constexpr int kSkipExitCode = 77;

// The zoo's larger depth and width variants whose code is a smaller member's with other layer
// lists (the torchvision parameter-count test checks every list): the per-model logit and
// export tests leave them out, as each costs seconds of writing and reading its weights for
// nothing more (make test has to fit 20 minutes on 2 cores). The smaller members stay:
// vgg11/vgg11_bn, resnet18/34/50, densenet121, efficientnet_b0/b1, the RegNets to 1.6GF,
// convnext_tiny.
inline const std::set<std::string>& larger_zoo_variants() {
  static const std::set<std::string> s = {"vgg13",           "vgg13_bn",       "vgg16",          "vgg16_bn",
                                          "vgg19",           "vgg19_bn",       "resnet101",      "resnet152",
                                          "densenet161",     "densenet169",    "densenet201",    "efficientnet_b2",
                                          "efficientnet_b3", "regnet_y_3_2gf", "regnet_x_3_2gf", "convnext_small"};
  return s;
}

// Fixtures written by python/gen_fixtures.py (PyTorch 1.13) into CONVNET_FIXTURE_DIR.
std::string fixture_dir();
// All fixture files whose name starts with `prefix` (sorted). Fails the test if none.
std::vector<std::string> fixture_files(const std::string& prefix);
io::SafeTensors load_fixture(const std::string& path);
// The "config" metadata entry (JSON) of a fixture.
nlohmann::json fixture_config(const io::SafeTensors& f);
const Tensor& fixture_tensor(const io::SafeTensors& f, const std::string& name);

// Elementwise |a - b| <= atol + rtol * |b|; the message names the worst element.
::testing::AssertionResult all_close(const Tensor& a, const Tensor& b, double rtol = 1e-4, double atol = 1e-5);
::testing::AssertionResult all_close(const std::vector<double>& a, const std::vector<double>& b, double rtol,
                                     double atol);

// out.backward(g): the gradient of sum(out * g), as the fixtures define it.
void backward_with(const Tensor& out, const Tensor& g);

// Doubles (inputs built for a double-precision reference) as float32 values.
inline std::vector<float> to_float(const std::vector<double>& v) {
  return std::vector<float>(v.begin(), v.end());
}
// A float32 tensor's values, row-major whatever its layout, as doubles.
inline std::vector<double> to_double(const Tensor& t) {
  const std::vector<float> f = t.to_vector();
  return std::vector<double>(f.begin(), f.end());
}

// Central finite differences of a scalar function of `x` (double precision):
// d f / d x_i ~ (f(x + h e_i) - f(x - h e_i)) / 2h.
std::vector<double> numeric_grad(const std::function<double(const std::vector<double>&)>& f, std::vector<double> x,
                                 double h = 1e-6);
// Random doubles in [-1, 1) from a seed.
std::vector<double> random_doubles(size_t n, uint64_t seed);
double dot(const std::vector<double>& a, const std::vector<double>& b);

// Runs a shell command; returns its exit status and stdout+stderr together.
struct CommandResult {
  int status;
  std::string out;
};
CommandResult run_command(const std::string& cmd);
// The convnet CLI built with the tests: run_cli("train --epochs 1").
CommandResult run_cli(const std::string& args);
// A script of python/ under Debian's python3 (the one with torch), run in the test program's
// python/test_worker.py (torch is imported once per program); throws with its output if it fails.
std::string run_python(const std::string& script_and_args);
// The accuracy in `convnet train`'s last line "final test accuracy: X%", as a fraction; -1 if absent.
double final_accuracy(const std::string& out);

// Expects `fn` to throw convnet::Error whose message contains every one of `parts`.
void expect_error(const std::function<void()>& fn, const std::vector<std::string>& parts);

// A fresh temporary directory convnet_<tag>_<pid>, removed at the end of its scope
// (ctest runs test executables in parallel, so the pid keeps them apart).
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& tag);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};
// The current gtest's name, for per-test directories: TempDir(prefix + test_name()).
std::string test_name();

}  // namespace convnet::testing
