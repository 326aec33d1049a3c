// `convnet infer --onnx` as a user runs it: a small CNN exported by torch.onnx.export
// (python/onnx_fixture.py small) gives PyTorch's logits; the option combinations that make
// no sense are refused with a message.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "convnet/io/safetensors.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;
namespace fs = std::filesystem;

namespace {
}  // namespace

TEST(CliInferOnnx, WritesTheLogitsOfTheOnnxGraph) {
  const fs::path dir = fs::temp_directory_path() / ("convnet_e2e_onnx_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto gen =
      run_command("/usr/bin/python3 " + std::string(CONVNET_SOURCE_DIR) + "/python/onnx_fixture.py small " + dir.string());
  ASSERT_EQ(gen.status, 0) << gen.out;
  const std::string model = (dir / "mix.onnx").string(), data = (dir / "mix.safetensors").string(),
                    out = (dir / "out.safetensors").string();

  auto r = run_cli("infer --onnx " + model + " --input " + data + " --input-key input --output " + out);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("wrote logits (3, 6)"), std::string::npos) << r.out;
  auto expected = load_fixture(data);
  auto got = io::load_safetensors(out);
  ASSERT_TRUE(got.tensors.count("logits"));
  EXPECT_TRUE(all_close(got.tensors.at("logits"), fixture_tensor(expected, "logits"), 1e-4, 1e-5));

  // Neither a zoo model nor an ONNX file.
  r = run_cli("infer --input " + data + " --output " + out);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("--onnx"), std::string::npos) << r.out;
  // Both.
  r = run_cli("infer --onnx " + model + " --model resnet18 --input " + data + " --output " + out);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("excludes"), std::string::npos) << r.out;
  // A broken graph: the library's message reaches the user.
  r = run_cli("infer --onnx " + (dir / "cycle.onnx").string() + " --input " + data + " --input-key input --output " + out);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("cycle"), std::string::npos) << r.out;
  fs::remove_all(dir);
}
