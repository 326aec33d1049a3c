// `convnet summary` and `convnet infer` as a user runs them.
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>

#include "convnet/autograd/autograd.h"
#include "convnet/core/rng.h"
#include "convnet/io/safetensors.h"
#include "convnet/io/weights.h"
#include "convnet/models/registry.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;
namespace fs = std::filesystem;

namespace {
}  // namespace

TEST(CliSummary, PrintsLayersAndTotals) {
  auto r = run_cli("summary lenet5");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("61,706 total"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("416,520 per image"), std::string::npos) << r.out;  // 117600 + 240000 + 48000 + 10080 + 840
  r = run_cli("summary lenet5 --input 3,32,32 --num-classes 4");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("(N, 4)"), std::string::npos) << r.out;
  r = run_cli("summary lenet5 --input 3,x,32");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("C,H,W"), std::string::npos) << r.out;
  r = run_cli("summary nosuchnet");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("known models"), std::string::npos) << r.out;
}

// A model is named the same way everywhere: positional or --model.
TEST(CliSummary, TakesTheModelEitherWay) {
  const auto a = run_cli("summary lenet5"), b = run_cli("summary --model lenet5"), c = run_cli("summary -m lenet5");
  ASSERT_EQ(a.status, 0) << a.out;
  EXPECT_EQ(b.status, 0) << b.out;
  EXPECT_EQ(a.out, b.out);
  EXPECT_EQ(a.out, c.out);
}

// Export with only a model name takes the model's own input (LeNet: 1x28x28); bench times the
// exported file, and reports call latencies with --latency.
TEST(CliExportBench, ModelDefaultsAndAnOnnxFileBenchmarked) {
  const fs::path dir = fs::temp_directory_path() / "convnet_e2e_export_bench";
  fs::create_directories(dir);
  const std::string onnx = (dir / "lenet5.onnx").string();
  auto r = run_cli("export --model lenet5 --onnx " + onnx);
  ASSERT_EQ(r.status, 0) << r.out;
  r = run_cli("export lenet5 --onnx " + onnx);  // positional, as summary
  ASSERT_EQ(r.status, 0) << r.out;
  r = run_cli("bench --onnx " + onnx + " --mode infer --batch 2 --seconds 0.2 --latency");
  ASSERT_EQ(r.status, 0) << r.out;
  for (const char* k : {"\"model\": \"", "\"engine\": \"session\"", "\"input_size\": 28",
                        "\"p50_ms\": ", "\"p90_ms\": ", "\"p99_ms\": "})
    EXPECT_NE(r.out.find(k), std::string::npos) << k << "\n" << r.out;
  EXPECT_NE(r.out.find(onnx), std::string::npos) << r.out;
  // The file's input is 1x28x28: another size is refused, naming both.
  r = run_cli("bench --onnx " + onnx + " --mode infer --input-size 32 --seconds 0.1");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find(onnx), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("its H is 28, not 32"), std::string::npos) << r.out;
  // --no-fold runs the session's graph unoptimized; an ONNX file is inferred without --mode.
  r = run_cli("bench --onnx " + onnx + " --no-fold --seconds 0.1");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("\"mode\": \"infer\""), std::string::npos) << r.out;
  r = run_cli("bench --onnx " + onnx + " --mode train --seconds 0.1");
  EXPECT_NE(r.status, 0) << "an ONNX file is not trained by bench";
  // --onnx and --model name two different things.
  r = run_cli("bench --onnx " + onnx + " --model resnet20 --mode infer");
  EXPECT_NE(r.status, 0);
  // The eager engine is the module op by op.
  r = run_cli("bench --model resnet20 --mode infer --engine eager --batch 2 --seconds 0.2");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("\"engine\": \"eager\""), std::string::npos) << r.out;
  fs::remove_all(dir);
}

TEST(CliInfer, WritesTheLogitsOfTheModelInEvalMode) {
  const fs::path dir = fs::temp_directory_path() / "convnet_e2e_infer";
  fs::create_directories(dir);
  manual_seed(3);
  models::ModelArgs a;
  a.num_classes = 7;
  auto net = models::create("lenet5", a);
  io::save_weights(*net, (dir / "w.safetensors").string());
  Generator gen(4);
  Tensor x = Tensor::randn({5, 1, 28, 28}, gen);
  io::save_safetensors((dir / "x.safetensors").string(), {{"input", x}});
  net->eval();
  Tensor expected;
  {
    NoGradGuard g;
    expected = (*net)(x);
  }
  auto r = run_cli("infer --model lenet5 --weights " + (dir / "w.safetensors").string() + " --input " +
               (dir / "x.safetensors").string() + " --output " + (dir / "y.safetensors").string());
  ASSERT_EQ(r.status, 0) << r.out;
  auto y = io::load_safetensors((dir / "y.safetensors").string());
  EXPECT_TRUE(all_close(y.tensors.at("logits"), expected, 1e-6, 1e-6));

  // Weights for another head: strict refuses and names the problem, non-strict loads the rest.
  models::ModelArgs b;
  b.num_classes = 7;
  auto other = models::create("lenet5_classic", b);
  auto sd = other->state_dict();
  sd.erase("11.bias");
  io::save_safetensors((dir / "partial.safetensors").string(), sd);
  r = run_cli("infer --model lenet5 --num-classes 7 --weights " + (dir / "partial.safetensors").string() + " --input " +
          (dir / "x.safetensors").string() + " --output " + (dir / "y2.safetensors").string());
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("missing in file: 11.bias"), std::string::npos) << r.out;
  r = run_cli("infer --model lenet5 --num-classes 7 --strict false --weights " + (dir / "partial.safetensors").string() +
          " --input " + (dir / "x.safetensors").string() + " --output " + (dir / "y2.safetensors").string());
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("11.bias"), std::string::npos) << r.out;
  fs::remove_all(dir);
}
