// `convnet infer --onnx` as a user runs it: a small CNN exported by torch.onnx.export
// (python/onnx_fixture.py small) gives PyTorch's logits; a graph of two inputs and three
// outputs writes each output under its name; the option combinations that make
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
  EXPECT_NE(r.out.find("(3, 6)"), std::string::npos) << r.out;
  auto expected = load_fixture(data);
  auto got = io::load_safetensors(out);
  ASSERT_TRUE(got.tensors.count("logits"));
  EXPECT_TRUE(all_close(got.tensors.at("logits"), fixture_tensor(expected, "logits"), 1e-4, 1e-5));

  // Two inputs, named in the file as in the graph, and three outputs (one of them int64), each
  // written under its ONNX name; the first also as "logits".
  const std::string multi = (dir / "multi.onnx").string(), mdata = (dir / "multi.safetensors").string();
  r = run_cli("infer --onnx " + multi + " --input " + mdata + " --output " + out);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("probs (2, 5), sum (2, 5), x_shape (2)"), std::string::npos) << r.out;
  {
    auto m = load_fixture(mdata);
    auto o = io::load_safetensors(out, /*keep_dtypes=*/true);
    ASSERT_TRUE(o.tensors.count("probs") && o.tensors.count("sum") && o.tensors.count("x_shape"));
    EXPECT_TRUE(all_close(o.tensors.at("probs"), fixture_tensor(m, "want_probs"), 1e-5, 1e-6));
    EXPECT_TRUE(all_close(o.tensors.at("sum"), fixture_tensor(m, "want_sum"), 1e-6, 1e-6));
    EXPECT_TRUE(all_close(o.tensors.at("logits"), fixture_tensor(m, "want_probs"), 1e-5, 1e-6));
    const Tensor& shp = o.tensors.at("x_shape");
    ASSERT_EQ(shp.dtype(), DType::int64);
    EXPECT_EQ(shp.data_as<int64_t>()[0], 2);
    EXPECT_EQ(shp.data_as<int64_t>()[1], 5);
  }
  // A graph input the file does not hold: both names in the message.
  r = run_cli("infer --onnx " + multi + " --input " + data + " --output " + out);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("'x', 'bias'"), std::string::npos) << r.out;

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
