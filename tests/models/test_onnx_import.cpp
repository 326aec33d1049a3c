// ONNX import against PyTorch: torchvision classifiers exported by torch.onnx.export
// (torch 1.13, opset 13; one at 17) give the logits torchvision computes; a graph exported
// with its BatchNorm layers kept trains like torchvision (train-mode logits, gradients,
// running statistics); a small CNN covers the operators the classifiers do not use and a
// dynamic batch size. Bad files fail with messages that name the file and the node.
// Fixtures are written on demand by python/onnx_fixture.py and deleted after use.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "convnet/autograd/autograd.h"
#include "convnet/core/error.h"
#include "convnet/inference/session.h"
#include "convnet/io/onnx.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;
namespace fs = std::filesystem;

namespace {

void onnx_fixture(const std::string& args) { run_python("onnx_fixture.py " + args); }

std::map<std::string, Tensor> params_of(const nn::Module& m) {
  std::map<std::string, Tensor> out;
  for (auto& [n, p] : m.named_parameters()) out[n] = p;
  return out;
}

struct Case {
  std::string model;
  int64_t size, batch, opset;
};
std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  return info.param.model + "_opset" + std::to_string(info.param.opset);
}
class OnnxTorchvision : public ::testing::TestWithParam<Case> {};

// alexnet and vgg11_bn at 224: torch.onnx.export cannot write their adaptive average
// pooling (to 6x6, 7x7) for smaller inputs; one image keeps them cheap.
const std::vector<Case> kCases = {{"resnet18", 64, 2, 13},     {"vgg11_bn", 224, 1, 13},    {"densenet121", 64, 2, 13},
                                  {"googlenet", 64, 2, 13},    {"mobilenet_v2", 64, 2, 13}, {"alexnet", 224, 1, 13},
                                  {"mobilenet_v2", 64, 2, 17}, {"resnet18", 64, 2, 15}};

}  // namespace

TEST_P(OnnxTorchvision, LogitsMatchTorchvision) {
  const Case& c = GetParam();
  TempDir dir("onnx_" + c.model + std::to_string(c.opset));
  onnx_fixture("model " + c.model + " " + (dir / "m") + " --size " + std::to_string(c.size) + " --batch " +
             std::to_string(c.batch) + " --opset " + std::to_string(c.opset));
  auto net = io::load_onnx(dir / "m.onnx");
  auto f = load_fixture(dir / "m.safetensors");
  EXPECT_EQ(net->opset(), c.opset);
  net->eval();
  NoGradGuard no_grad;
  Tensor y = (*net)(fixture_tensor(f, "input"));
  EXPECT_TRUE(all_close(y, fixture_tensor(f, "logits"), 1e-4, 1e-4));
  // The classifier keeps torchvision's names (exporters fold BatchNorm into the
  // convolutions, whose weights get new names) and is trainable.
  const auto params = params_of(*net);
  const std::string head = c.model == "resnet18" || c.model == "googlenet" ? "fc" : "classifier";
  const std::string key = c.model == "mobilenet_v2" || c.model == "alexnet" || c.model == "vgg11_bn"
                              ? head + (c.model == "mobilenet_v2" ? ".1" : ".6")
                              : head;
  ASSERT_TRUE(params.count(key + ".weight")) << key;
  EXPECT_TRUE(params.at(key + ".weight").requires_grad());
  EXPECT_EQ(params.at(key + ".bias").shape(), Shape{10});
}

INSTANTIATE_TEST_SUITE_P(Torchvision, OnnxTorchvision, ::testing::ValuesIn(kCases), case_name);

// training=PRESERVE keeps BatchNormalization nodes with torchvision's names: the imported
// graph then fine-tunes like the original (batch statistics, running-stat updates, grads).
TEST(OnnxImport, PreservedBatchNormTrainsLikeTorchvision) {
  TempDir dir("onnx_preserve");
  onnx_fixture("model resnet18 " + (dir / "m") + " --preserve");
  auto net = io::load_onnx(dir / "m.onnx");
  auto f = load_fixture(dir / "m.safetensors");
  const Tensor& x = fixture_tensor(f, "input");
  const auto params = params_of(*net);
  for (const char* name : {"conv1.weight", "bn1.weight", "bn1.bias", "layer4.1.bn2.weight", "fc.weight", "fc.bias"}) {
    ASSERT_TRUE(params.count(name)) << name;
    EXPECT_TRUE(params.at(name).requires_grad()) << name;
  }
  std::map<std::string, Tensor> buffers;
  for (auto& [n, b] : net->named_buffers()) buffers[n] = b;
  EXPECT_EQ(buffers.size(), 40u);  // running mean and variance of 20 BatchNorm layers
  ASSERT_TRUE(buffers.count("bn1.running_var"));

  net->eval();
  {
    NoGradGuard no_grad;
    EXPECT_TRUE(all_close((*net)(x), fixture_tensor(f, "logits"), 1e-4, 1e-4));
  }
  net->train();
  Tensor y = (*net)(x);
  EXPECT_TRUE(all_close(y, fixture_tensor(f, "train_logits"), 1e-4, 1e-4));
  y.backward(fixture_tensor(f, "g"));
  // Against the float64 reference: relative L2 error of each gradient (the tolerance of
  // tests/models/test_torchvision.cpp, whose comment explains it).
  int checked = 0;
  for (auto& [n, p] : net->named_parameters()) {
    SCOPED_TRACE("grad of " + n);
    ASSERT_TRUE(f.tensors.count("grad." + n));
    ASSERT_TRUE(p.grad().defined());
    const auto ref = fixture_tensor(f, "grad." + n).to_vector(), got = p.grad().to_vector();
    ASSERT_EQ(got.size(), ref.size());
    double err2 = 0, ref2 = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
      err2 += (got[i] - ref[i]) * static_cast<double>(got[i] - ref[i]);
      ref2 += ref[i] * static_cast<double>(ref[i]);
    }
    EXPECT_LE(std::sqrt(err2), 2e-3 * std::sqrt(ref2) + 1e-5);
    ++checked;
  }
  EXPECT_EQ(checked, 62);  // 20 convolutions, 20 BatchNorm (weight, bias), fc (weight, bias)
  for (auto& [n, b] : buffers) {
    SCOPED_TRACE("buffer " + n);
    EXPECT_TRUE(all_close(b, fixture_tensor(f, "after." + n), 1e-4, 1e-5));
  }
}

// A small CNN with the operators the classifiers lack and a dynamic batch dimension, and
// the invalid models, from one fixture run.
class OnnxSmall : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("onnx_small");
    onnx_fixture("small " + dir_->path.string());
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::string file(const std::string& name) { return *dir_ / name; }
  static TempDir* dir_;
};
TempDir* OnnxSmall::dir_ = nullptr;

// Symbolic spatial dimensions: torchvision's mobilenet_v3_small exported with N, H and W
// dynamic runs at 64x64 and 96x80 (batch 2 and 1), eagerly and through an InferenceSession
// made for the second size, giving PyTorch's logits; the declaration says what is symbolic.
TEST_F(OnnxSmall, SymbolicSpatialDimensionsRunAtAnySize) {
  auto net = io::load_onnx(file("symbolic_hw.onnx"));
  const auto f = load_fixture(file("symbolic_hw.safetensors"));
  ASSERT_EQ(net->inputs().size(), 1u);
  EXPECT_EQ(net->inputs()[0].dims, (Shape{-1, 3, -1, -1}));
  net->eval();
  NoGradGuard g;
  EXPECT_TRUE(all_close((*net)(fixture_tensor(f, "xa")), fixture_tensor(f, "logits_a"), 1e-4, 1e-5));
  EXPECT_TRUE(all_close((*net)(fixture_tensor(f, "xb")), fixture_tensor(f, "logits_b"), 1e-4, 1e-5));
  auto session = InferenceSession::from_onnx(file("symbolic_hw.onnx"), {}, {1, 3, 96, 80});
  EXPECT_TRUE(all_close(session->run(fixture_tensor(f, "xb")), fixture_tensor(f, "logits_b"), 1e-4, 1e-5));
}

TEST_F(OnnxSmall, MixedOperatorsMatchPyTorchForAnyBatchSize) {
  auto net = io::load_onnx(file("mix.onnx"));
  auto f = load_fixture(file("mix.safetensors"));
  const Tensor& x = fixture_tensor(f, "input");
  const Tensor& logits = fixture_tensor(f, "logits");
  net->eval();
  EXPECT_TRUE(all_close((*net)(x), logits, 1e-4, 1e-5));
  // The exported view(x.size(0), -1) computes the batch size at run time.
  const int64_t per = x.numel() / x.size(0);
  std::vector<float> second(x.data() + per, x.data() + 2 * per), second_logits(logits.data() + 6, logits.data() + 12);
  Tensor y1 = (*net)(Tensor::from_vector({1, 3, 16, 16}, second));
  EXPECT_TRUE(all_close(y1, Tensor::from_vector({1, 6}, second_logits), 1e-4, 1e-5));
  // Initializers that only feed Mul/Add are frozen parameters; the convolutions',
  // BatchNorm's affine and the Linear's are trainable; running statistics are buffers.
  const auto params = params_of(*net);
  EXPECT_FALSE(params.at("scale").requires_grad());
  EXPECT_TRUE(params.at("dw.weight").requires_grad());
  EXPECT_TRUE(params.at("bn.weight").requires_grad());
  EXPECT_EQ(net->named_buffers().size(), 2u);
  // Autograd runs through every operator of the graph, and gives PyTorch's gradients
  // (float64, eval mode as exported) of every trainable parameter, elementwise.
  Tensor y = (*net)(x);
  y.backward(fixture_tensor(f, "g"));
  int checked = 0;
  for (const char* n : {"conv.weight", "conv.bias", "dw.weight", "bn.weight", "bn.bias", "fc.weight", "fc.bias"}) {
    SCOPED_TRACE(std::string("grad of ") + n);
    ASSERT_TRUE(params.at(n).grad().defined());
    const Tensor& ref = fixture_tensor(f, std::string("grad.") + n);
    double scale = 0;
    for (float v : ref.to_vector()) scale = std::max(scale, static_cast<double>(std::abs(v)));
    EXPECT_TRUE(all_close(params.at(n).grad().reshape(ref.shape()), ref, 1e-4, 1e-5 * scale));
    ++checked;
  }
  EXPECT_EQ(checked, 7);
  EXPECT_NE(net->repr().find("OnnxModel('"), std::string::npos);
}

TEST_F(OnnxSmall, DropoutDropsInTrainModeOnly) {
  auto net = io::load_onnx(file("dropout.onnx"));
  const Tensor x = Tensor::ones({4, 1000});
  net->eval();
  EXPECT_TRUE(all_close((*net)(x), x, 0, 0));
  net->train();
  const Tensor y = (*net)(x);
  int64_t zeros = 0;
  for (float v : y.to_vector()) {
    if (v == 0.f)
      ++zeros;
    else
      EXPECT_FLOAT_EQ(v, 1.f / 0.75f);  // inverted dropout: survivors scaled by 1 / (1 - p)
  }
  EXPECT_NEAR(static_cast<double>(zeros) / 4000, 0.25, 0.03);
}

TEST_F(OnnxSmall, InputOfWrongRankOrChannelsNamesTheInputAndShapes) {
  auto net = io::load_onnx(file("mix.onnx"));
  expect_error(
      [&] {
        (*net)(Tensor::zeros({3, 16, 16}));
      },
      {"mix.onnx", "input 'input'", "(3, 16, 16)", "rank 3", "rank 4", "(?, 3, 16, 16)"});
  expect_error([&] { (*net)(Tensor::zeros({2, 4, 16, 16})); }, {"mix.onnx", "(2, 4, 16, 16)", "dimension 1"});
  expect_error([&] { net->run({}); }, {"mix.onnx", "expected 1 input(s)", "got 0"});
  // An op's error at run time names the node.
  auto reshape = io::load_onnx(file("reshape.onnx"));
  EXPECT_EQ((*reshape)(Tensor::zeros({4, 6})).shape(), (Shape{3, 8}));
  expect_error([&] { (*reshape)(Tensor::zeros({4, 5})); },
               {"reshape.onnx", "node 'rows_of_3' (Reshape)", "cannot reshape float (4, 5) to [3, -1]"});
}

TEST_F(OnnxSmall, FileThatIsNotProtobufIsRejected) {
  expect_error([&] { io::load_onnx(file("not_protobuf.onnx")); }, {"not_protobuf.onnx", "not an ONNX model"});
  { std::ofstream empty(file("empty.onnx")); }
  expect_error([&] { io::load_onnx(file("empty.onnx")); }, {"empty.onnx", "not an ONNX model", "no graph"});
  expect_error([&] { io::load_onnx(file("no_such_file.onnx")); }, {"no_such_file.onnx", "cannot open"});
}

TEST_F(OnnxSmall, MissingInitializerAndDanglingInputNameTheNode) {
  expect_error([&] { io::load_onnx(file("missing_initializer.onnx")); },
               {"missing_initializer.onnx", "node 'conv' (Conv) input 1 'conv.weight'", "missing initializer"});
  expect_error([&] { io::load_onnx(file("dangling.onnx")); },
               {"dangling.onnx", "node 'add' (Add) input 1 'ghost'", "produced by no node"});
}

TEST_F(OnnxSmall, CycleNamesItsNodes) {
  expect_error([&] { io::load_onnx(file("cycle.onnx")); },
               {"cycle.onnx", "cycle", "node 'loop_a' (Add)", "node 'loop_b' (Sigmoid)", "node 'loop_c' (Tanh)"});
}

TEST_F(OnnxSmall, AllUnsupportedOperatorsInOneError) {
  expect_error(
      [&] { io::load_onnx(file("unsupported.onnx")); },
      {"unsupported.onnx", "4 node(s) use 3 unsupported operator(s)",
       "\n  Round: 2 nodes, node 'round_1', node 'round_2'\n", "\n  ThresholdedRelu: 1 node, node 'thresholded_1'",
       "\n  Pad (mode 'mirror'", "1 node, node 'mirror_pad'", "Supported operators: "});
  // Grouped: one line per operator, not per node.
  try {
    io::load_onnx(file("unsupported.onnx"));
  } catch (const convnet::Error& e) {
    const std::string m = e.what();
    EXPECT_EQ(m.find("Round"), m.rfind("Round")) << m;
  }
}

// The activations and normalizations (LayerNormalization over the last dimension and over
// three, InstanceNormalization) of issue 18 in graphs written by onnx.helper rather than torch.onnx.export,
// with the attributes other exporters set (paddle2onnx's HardSigmoid alpha 0.2, ONNX's
// default alpha; Selu, HardSigmoid and PRelu with other constants and slopes than PyTorch's),
// GELU, SiLU and LayerNorm in the decomposed forms of older exporters, and a
// graph of Max, Min, Where, Greater, Floor, Reciprocal and batched MatMul; each against
// PyTorch's function on the same input (exact values at the kinks +-3 and 0 included).
TEST_F(OnnxSmall, ActivationsFromASecondExporterMatchPyTorch) {
  const auto f = load_fixture(file("activations.safetensors"));
  const Tensor& x = fixture_tensor(f, "x");
  int checked = 0;
  for (const auto& [key, want] : f.tensors) {
    if (key.rfind("y_", 0) != 0) continue;
    const std::string name = key.substr(2);
    SCOPED_TRACE(name);
    auto net = io::load_onnx(file("act_" + name + ".onnx"));
    net->eval();
    EXPECT_TRUE(all_close((*net)(x), want, 1e-5, 1e-6));
    ++checked;
  }
  EXPECT_EQ(checked, 21);
  expect_error([&] { io::load_onnx(file("act_cast_half.onnx")); },
               {"act_cast_half.onnx", "Cast", "float16", "to_half"});
}

// The inference optimizer fuses the decomposed GELU and SiLU of older exporters into one step
// each (two GELU orders: the 0.5 last, as torch.onnx.export writes it, and first), and the
// optimized graph still gives PyTorch's values; a decomposed LayerNorm is left alone.
TEST_F(OnnxSmall, DecomposedGeluAndSiluAreFusedForInference) {
  const auto f = load_fixture(file("activations.safetensors"));
  const Tensor& x = fixture_tensor(f, "x");
  for (const auto& [name, fusions] : std::vector<std::pair<std::string, int>>{
           {"gelu_decomposed", 1}, {"gelu_half_first", 1}, {"silu_decomposed", 1}, {"layernorm_decomposed", 0}}) {
    SCOPED_TRACE(name);
    auto net = io::load_onnx(file("act_" + name + ".onnx"));
    const int64_t before = net->num_nodes();
    const auto r = net->optimize_for_inference({1, 3, 4, 5});
    EXPECT_EQ(r.decomposed_fused, fusions) << r.describe();
    EXPECT_EQ(net->num_nodes(), fusions == 0 ? before : 1);
    NoGradGuard g;
    EXPECT_TRUE(all_close((*net)(x), fixture_tensor(f, "y_" + name), 1e-5, 1e-6));
  }
}

TEST(OnnxImport, SupportedOperatorsAreListed) {
  const auto ops = io::onnx_supported_ops();
  for (const char* op : {"Conv", "BatchNormalization", "Gemm", "MaxPool", "AveragePool", "GlobalAveragePool", "Clip",
                         "Reshape", "Shape", "Gather", "Unsqueeze", "Concat", "Pad", "Constant", "Identity"})
    EXPECT_NE(std::find(ops.begin(), ops.end(), op), ops.end()) << op;
}
