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
