// ONNX export of every zoo model: each model (random weights, random BatchNorm running
// statistics, 5 classes, 3 channels, at its smallest input size) is exported by
// io::export_onnx with batch 1; onnx.checker (full_check, strict shape inference; Debian's
// python3-onnx) accepts every file; io::load_onnx reads it back with the same parameter
// names, and at batch 2 (the batch is dynamic) the imported graph gives the model's logits
// within 1e-5 of their scale. Export errors name the layer and the op.

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "convnet/autograd/autograd.h"
#include "convnet/core/rng.h"
#include "convnet/io/onnx.h"
#include "convnet/io/onnx_export.h"
#include "convnet/io/safetensors.h"
#include "convnet/models/registry.h"
#include "convnet/nn/layers.h"
#include "convnet/nn/sequential.h"
#include "convnet/nn/volumetric.h"
#include "convnet/ops/activation.h"
#include "convnet/ops/concat.h"
#include "convnet/ops/elementwise.h"
#include "convnet/ops/linear.h"
#include "convnet/ops/loss.h"
#include "convnet/ops/permute.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;
namespace fs = std::filesystem;

namespace {

// Running statistics away from (0, 1), so that exporting them wrongly shows in the logits.
void randomize_buffers(nn::Module& m, Generator& gen) {
  for (auto& [name, b] : m.named_buffers()) {
    if (name.ends_with("running_mean")) b.copy_(Tensor::rand(b.shape(), gen, -0.2f, 0.2f));
    if (name.ends_with("running_var")) b.copy_(Tensor::rand(b.shape(), gen, 0.5f, 1.5f));
  }
}

double max_abs(const Tensor& t) {
  double m = 0;
  for (float v : t.to_vector()) m = std::max(m, static_cast<double>(std::fabs(v)));
  return m;
}

int64_t export_size(const models::ModelInfo& info) {
  // The smallest size the geometry accepts keeps the ImageNet models cheap; LeNet-5 and
  // the CIFAR models are small anyway at their natural size.
  return std::max<int64_t>(info.min_input_size, std::min<int64_t>(info.default_input_size, 32));
}

// ONNX Runtime's output for `x` on dir/onnx_name (python/ort_run.py in the project's .venv).
Tensor ort_output(const TempDir& dir, const std::string& onnx_name, const Tensor& x) {
  io::save_safetensors(dir / "x.safetensors", {{"input", x}});
  const auto r = run_command(std::string(CONVNET_ORT_PYTHON) + " " + CONVNET_SOURCE_DIR + "/python/ort_run.py " +
                             (dir / onnx_name) + " " + (dir / "x.safetensors") + " " + (dir / "y.safetensors") + " 1");
  EXPECT_EQ(r.status, 0) << r.out;
  if (r.status != 0) return Tensor();
  return io::load_safetensors(dir / "y.safetensors").tensors.at("logits");
}

}  // namespace

class ExportZoo : public ::testing::TestWithParam<std::string> {};

TEST_P(ExportZoo, CheckerAcceptsAndReimportGivesTheLogits) {
  const std::string name = GetParam();
  const auto& info = models::info(name);
  const int64_t size = export_size(info);
  models::ModelArgs a;
  a.num_classes = 5;
  a.in_channels = 3;
  a.input_size = size;
  Generator gen(42);
  manual_seed(42);
  auto net = models::create(name, a);
  randomize_buffers(*net, gen);
  net->train();  // export must switch to eval itself and restore the mode

  TempDir dir("export_" + name);
  const std::string path = dir / (name + ".onnx");
  // The big ones (VGG's classifier alone is 400 MB) keep their weights beside the model, so
  // that the checker need not read them; our importer reads them back.
  io::OnnxExportOptions o;
  const bool external = net->num_parameters() > 20'000'000;
  if (external) o.external_data = name + ".data";
  io::export_onnx(*net, {1, 3, size, size}, path, o);
  if (external) {
    EXPECT_LT(fs::file_size(path), 1'000'000u);
  }
  EXPECT_TRUE(net->is_training()) << "export must restore the module's mode";

  // onnx.checker with full_check (strict shape inference) and the output shape.
  const std::string report = run_python("onnx_check.py " + path);
  EXPECT_NE(report.find("OK " + path), std::string::npos) << report;
  EXPECT_NE(report.find("input=[batch,3," + std::to_string(size) + "," + std::to_string(size) + "]"), std::string::npos)
      << report;
  EXPECT_NE(report.find("output=[batch,5] inferred=[batch,5]"), std::string::npos) << report;

  // Round trip through our importer at another batch size.
  auto back = io::load_onnx(path);
  // Opset 13, except ConvNeXt's LayerNormalization (an opset-17 operator).
  EXPECT_EQ(back->opset(), name.rfind("convnext", 0) == 0 ? 17 : 13);
  std::vector<std::string> ours, theirs;
  for (auto& [n, p] : net->named_parameters()) ours.push_back(n);
  for (auto& [n, p] : back->named_parameters()) theirs.push_back(n);
  std::sort(ours.begin(), ours.end());
  std::sort(theirs.begin(), theirs.end());
  EXPECT_EQ(ours, theirs) << "the initializers keep the state_dict names, one per parameter";

  net->eval();
  back->eval();
  NoGradGuard no_grad;
  Tensor x = Tensor::randn({2, 3, size, size}, gen);
  Tensor want = (*net)(x);
  Tensor got = (*back)(x);
  ASSERT_EQ(got.shape(), want.shape());
  const double scale = std::max(1.0, max_abs(want));
  EXPECT_TRUE(all_close(got, want, 0, 1e-5 * scale)) << name << " at " << size << "x" << size;

  // The second opinion: ONNX Runtime (CPU, 2 threads) runs the exported file on the same
  // batch, and its logits equal ours within 1e-4 of their scale.
  if (!fs::exists(CONVNET_ORT_PYTHON)) GTEST_SKIP() << CONVNET_ORT_PYTHON << " is missing: scripts/install-deps.sh makes it";
  io::save_safetensors(dir / "x.safetensors", {{"input", x}});
  const auto r = run_command(std::string(CONVNET_ORT_PYTHON) + " " + CONVNET_SOURCE_DIR + "/python/ort_run.py " + path +
                             " " + (dir / "x.safetensors") + " " + (dir / "ort.safetensors") + " 2");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto ort = io::load_safetensors(dir / "ort.safetensors");
  ASSERT_EQ(ort.tensors.count("logits"), 1u) << r.out;
  const Tensor theirs_logits = ort.tensors.at("logits");
  ASSERT_EQ(theirs_logits.shape(), want.shape()) << r.out;
  EXPECT_TRUE(all_close(theirs_logits, want, 0, 1e-4 * scale))
      << name << ": ONNX Runtime's logits differ from convnet's by more than 1e-4 * " << scale << "\n" << r.out;
}

// Every zoo model but the larger depth and width variants (testing::larger_zoo_variants):
// those are smaller members with more of the same layers, so the same export code, and VGG's
// cost 8 s each of writing and reading 550 MB (the 102M-parameter classifier) three times.
// vgg11, vgg11_bn, vgg16c and vgg16c_bn stay.
std::vector<std::string> export_zoo() {
  std::vector<std::string> out;
  for (const auto& n : models::names())
    if (!convnet::testing::larger_zoo_variants().count(n)) out.push_back(n);
  return out;
}
INSTANTIATE_TEST_SUITE_P(AllModels, ExportZoo, ::testing::ValuesIn(export_zoo()),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

// A model whose forward mixes modules and plain ops (residual add, concat, flatten, mul by
// a scalar, softmax): the trace sees all of them, and the dynamic batch works.
namespace {
class Mixed : public nn::Module {
 public:
  Mixed() {
    conv = register_module("conv", std::make_shared<nn::Conv2d>(2, 2, 3, 1, 1));
    fc = register_module("fc", std::make_shared<nn::Linear>(4 * 4 * 4, 3));
  }
  Tensor forward(const Tensor& x) override {
    Tensor r = ops::add(x, (*conv)(x));                       // residual
    Tensor c = ops::concat({r, ops::leaky_relu(x, 0.2)}, 1);  // (N, 4, 4, 4)
    Tensor y = (*fc)(ops::mul(c, 0.5f).flatten(1));
    return ops::sigmoid(y);
  }
  std::string type_name() const override { return "Mixed"; }
  std::shared_ptr<nn::Conv2d> conv;
  std::shared_ptr<nn::Linear> fc;
};
}  // namespace

TEST(ExportOps, NonModuleOpsAndDynamicBatch) {
  manual_seed(3);
  Mixed m;
  TempDir dir("export_mixed");
  io::export_onnx(m, {1, 2, 4, 4}, dir / "m.onnx");
  auto back = io::load_onnx(dir / "m.onnx");
  Generator gen(1);
  Tensor x = Tensor::randn({5, 2, 4, 4}, gen);
  NoGradGuard g;
  EXPECT_TRUE(all_close((*back)(x), m(x), 0, 1e-6));
  const std::string report = run_python("onnx_check.py " + (dir / "m.onnx"));
  EXPECT_NE(report.find("OK "), std::string::npos) << report;
}

// Average pooling in ceil mode whose last window hangs over the (padded) input: PyTorch
// divides by the part inside the padded input; the export writes it so that our importer
// and ONNX Runtime compute the same (count_include_pad = 0, with an explicit Pad when there
// is padding).
TEST(ExportOps, CeilModeAveragePoolingMeansTheSameInOnnxRuntime) {
  if (!fs::exists(CONVNET_ORT_PYTHON)) GTEST_SKIP() << CONVNET_ORT_PYTHON << " is missing: scripts/install-deps.sh makes it";
  struct Case {
    int64_t k, s, p, size;
    bool include_pad;
  };
  // 3x3/2 pad 1 on 4x4: 3x3 out, the last window covers rows 3..5 of a padded extent 0..5
  // plus one beyond; 3x3/2 pad 0 on 6x6 and 2x2/2 on 5x5: the last window hangs over.
  for (const Case c : {Case{3, 2, 1, 4, true}, Case{3, 2, 0, 6, true}, Case{2, 2, 0, 5, true}, Case{3, 2, 1, 4, false}}) {
    SCOPED_TRACE("k " + std::to_string(c.k) + " s " + std::to_string(c.s) + " p " + std::to_string(c.p) + " on " +
                 std::to_string(c.size) + (c.include_pad ? " count_include_pad" : ""));
    nn::Sequential m;
    m.add(std::make_shared<nn::AvgPool2d>(c.k, c.s, c.p, /*ceil_mode=*/true, c.include_pad));
    TempDir dir("export_avgceil");
    io::export_onnx(m, {1, 2, c.size, c.size}, dir / "p.onnx");
    Generator gen(5);
    Tensor x = Tensor::randn({2, 2, c.size, c.size}, gen);
    NoGradGuard g;
    const Tensor want = m(x);
    EXPECT_TRUE(all_close((*io::load_onnx(dir / "p.onnx"))(x), want, 0, 1e-6));
    const std::string report = run_python("onnx_check.py " + (dir / "p.onnx"));
    EXPECT_NE(report.find("OK "), std::string::npos) << report;
    const Tensor theirs = ort_output(dir, "p.onnx", x);
    ASSERT_EQ(theirs.shape(), want.shape());
    EXPECT_TRUE(all_close(theirs, want, 0, 1e-5));
  }
}

// The activations of issue 18 (MobileNetV3's, EfficientNet's, ConvNeXt's and the rest) as
// opset 13 writes them (HardSigmoid; x * HardSigmoid(x) for hardswish; x * Sigmoid(x) for
// silu; Erf or Tanh arithmetic for the two GELUs; Softplus(beta x) / beta; PRelu with the
// slopes reshaped to (C, 1, 1)): onnx.checker
// accepts each file, our importer gives the module's output back, and so does ONNX Runtime.
TEST(ExportOps, NewActivationsRoundTripAndRunInOnnxRuntime) {
  if (!fs::exists(CONVNET_ORT_PYTHON))
    GTEST_SKIP() << CONVNET_ORT_PYTHON << " is missing: scripts/install-deps.sh makes it";
  const std::vector<std::pair<std::string, nn::ModulePtr>> acts = {
      {"hardsigmoid", std::make_shared<nn::Hardsigmoid>()},
      {"hardswish", std::make_shared<nn::Hardswish>()},
      {"silu", std::make_shared<nn::SiLU>()},
      {"gelu", std::make_shared<nn::GELU>()},
      {"gelu_tanh", std::make_shared<nn::GELU>("tanh")},
      {"elu", std::make_shared<nn::ELU>(0.5)},
      {"selu", std::make_shared<nn::SELU>()},
      {"softplus", std::make_shared<nn::Softplus>()},
      {"softplus_beta2", std::make_shared<nn::Softplus>(2.0)},
      {"softsign", std::make_shared<nn::Softsign>()}};
  for (const auto& [name, act] : acts) {
    SCOPED_TRACE(name);
    manual_seed(11);
    nn::Sequential m;
    m.add(std::make_shared<nn::Conv2d>(2, 3, 3, 1, 1)).add(act);
    TempDir dir("export_act");
    io::export_onnx(m, {1, 2, 5, 5}, dir / "a.onnx");
    Generator gen(5);
    const Tensor x =
        ops::mul(Tensor::randn({2, 2, 5, 5}, gen), 4.f);  // well past the kinks at +-3 and softplus' threshold
    NoGradGuard g;
    const Tensor want = m(x);
    EXPECT_TRUE(all_close((*io::load_onnx(dir / "a.onnx"))(x), want, 1e-5, 1e-6));
    const std::string report = run_python("onnx_check.py " + (dir / "a.onnx"));
    EXPECT_NE(report.find("OK "), std::string::npos) << report;
    const Tensor theirs = ort_output(dir, "a.onnx", x);
    ASSERT_EQ(theirs.shape(), want.shape());
    EXPECT_TRUE(all_close(theirs, want, 1e-5, 1e-5));
  }
}

// External data must stay inside the model's directory (CVE-2022-25882, CVE-2024-27318 in
// ONNX itself): an absolute path, a ".." and a symbolic link out of it are refused by name;
// offsets and lengths that are not numbers or do not fit the file are refused too.
TEST(OnnxHostile, ExternalDataCannotEscapeTheModelsDirectory) {
  manual_seed(3);
  nn::Sequential m;
  m.add(std::make_shared<nn::Conv2d>(2, 300, 3));  // 300*2*9 floats: over 1 KiB, so external
  TempDir dir("onnx_escape");
  fs::create_directories(dir / "model");
  io::OnnxExportOptions o;
  o.external_data = "w.data";
  const std::string good = dir / "model/m.onnx";
  io::export_onnx(m, {1, 2, 5, 5}, good, o);
  ASSERT_NO_THROW(io::load_onnx(good));
  { std::ofstream(dir / "secret.data") << std::string(40000, 'x'); }
  fs::create_symlink(dir / "secret.data", dir / "model/link.data");
  auto relocate = [&](const std::string& out, const std::string& args) {
    run_python("onnx_relocate_external.py " + good + " " + (dir / ("model/" + out)) + " " + args);
    return dir / ("model/" + out);
  };
  expect_error([&] { io::load_onnx(relocate("abs.onnx", "/etc/passwd")); },
               {"abs.onnx", "'/etc/passwd'", "absolute path"});
  expect_error([&] { io::load_onnx(relocate("up.onnx", "../secret.data")); },
               {"up.onnx", "'../secret.data'", "leaves the model's directory"});
  expect_error([&] { io::load_onnx(relocate("link.onnx", "link.data")); },
               {"link.onnx", "outside the model's directory", "symbolic link"});
  expect_error([&] { io::load_onnx(relocate("proc.onnx", "../../../../../../proc/self/environ")); },
               {"proc.onnx", "leaves the model's directory"});
  expect_error([&] { io::load_onnx(relocate("offset.onnx", "w.data 12x")); },
               {"offset.onnx", "offset '12x'", "not a non-negative"});
  expect_error([&] { io::load_onnx(relocate("huge.onnx", "w.data 9223372036854775807 16")); },
               {"huge.onnx", "past the end"});
  expect_error([&] { io::load_onnx(relocate("wrap.onnx", "w.data 8 9223372036854775807")); },
               {"wrap.onnx", "lies outside"});
}

TEST(ExportOps, StaticBatchAndMetadata) {
  manual_seed(3);
  Mixed m;
  io::OnnxExportOptions o;
  o.dynamic_batch = false;
  o.input_name = "images";
  o.output_name = "probs";
  o.metadata["class_names"] = "[\"a\",\"b\",\"c\"]";
  TempDir dir("export_static");
  io::export_onnx(m, {2, 2, 4, 4}, dir / "s.onnx", o);
  auto back = io::load_onnx(dir / "s.onnx");
  ASSERT_EQ(back->inputs().size(), 1u);
  EXPECT_EQ(back->inputs()[0].name, "images");
  EXPECT_EQ(back->inputs()[0].dims, (Shape{2, 2, 4, 4}));
  EXPECT_EQ(back->outputs()[0].name, "probs");
  const std::string report = run_python("onnx_check.py " + (dir / "s.onnx"));
  EXPECT_NE(report.find("input=[2,2,4,4] output=[2,3]"), std::string::npos) << report;
  EXPECT_NE(report.find("metadata={class_names=[\"a\",\"b\",\"c\"]}"), std::string::npos) << report;
}

// ---- errors ------------------------------------------------------------------------------

namespace {
// A forward that computes with an op the tracer does not record (a loss).
class Untraced : public nn::Module {
 public:
  Tensor forward(const Tensor& x) override {
    return ops::relu(ops::mse_loss(x, Tensor::zeros(x.shape()), Reduction::None));
  }
  std::string type_name() const override { return "Untraced"; }
};
// A traced op without an ONNX emitter.
class Summed : public nn::Module {
 public:
  Tensor forward(const Tensor& x) override { return ops::sum(ops::relu(x)); }
  std::string type_name() const override { return "Summed"; }
};
}  // namespace

TEST(ExportErrors, UntracedOpIsNamed) {
  Untraced m;
  expect_error(
      [&] {
        io::export_onnx_bytes(m, {1, 2, 3, 3});
      },
      {"ONNX export", "op 'relu'", "computed by 'mse_loss'", "not traced"});
}

TEST(ExportErrors, OpWithoutEmitterIsNamed) {
  Summed m;
  expect_error(
      [&] {
        io::export_onnx_bytes(m, {1, 2, 3, 3});
      },
      {"ONNX export", "op 'sum'", "cannot be exported", "exportable ops:", "conv2d"});
}

TEST(ExportErrors, BatchNormWithoutRunningStats) {
  nn::Sequential s;
  s.add("conv", std::make_shared<nn::Conv2d>(1, 2, 3));
  s.add("bn", std::make_shared<nn::BatchNorm2d>(2, 1e-5, 0.1, true, /*track=*/false));
  expect_error(
      [&] {
        io::export_onnx_bytes(s, {2, 1, 5, 5});
      },
      {"ONNX export", "op 'batch_norm' in layer 'bn'", "batch statistics", "running statistics"});
}

TEST(ExportErrors, UnwritableFileAndBadShape) {
  nn::Sequential s;
  s.add("relu", std::make_shared<nn::ReLU>());
  expect_error(
      [&] {
        io::export_onnx(s, {1, 2}, "/nonexistent-dir/x.onnx");
      },
      {"cannot open '/nonexistent-dir/x.onnx'"});
  expect_error([&] { io::export_onnx_bytes(s, {1, 0, 3}); }, {"non-positive dimension", "(1, 0, 3)"});
}

namespace {
// exp, abs and sqrt, which have no module: sqrt(|x|) + exp(-|x|).
std::shared_ptr<nn::Module> conv_t(int64_t in, int64_t out, int64_t k, std::array<int64_t, 2> stride,
                                   std::array<int64_t, 2> pad, std::array<int64_t, 2> out_pad, int64_t groups) {
  ops::ConvTranspose2dArgs a;
  a.stride = stride, a.padding = pad, a.output_padding = out_pad, a.groups = groups;
  return std::make_shared<nn::ConvTranspose2d>(in, out, k, a);
}
class ExpAbsSqrt : public nn::Module {
 public:
  Tensor forward(const Tensor& x) override {
    const Tensor a = ops::abs(x);
    return ops::add(ops::sqrt(a), ops::exp(ops::mul(a, -1.f)));
  }
  std::string type_name() const override { return "ExpAbsSqrt"; }
};
// div, maximum, minimum, pow, where, floor, ceil, reciprocal, log and a batched matmul, with
// no constant of the batch's shape (the file is exported at batch 1, run at batch 2).
class MathOps : public nn::Module {
 public:
  Tensor forward(const Tensor& x) override {
    const Tensor p = ops::sigmoid(ops::tanh(x));  // in (0.26, 0.74)
    const Tensor two_p = ops::add(p, p);
    Tensor y = ops::div(x, two_p);
    y = ops::add(y, ops::minimum(ops::maximum(y, ops::mul(x, 0.5f)), ops::mul(x, -0.25f)));
    y = ops::add(y, ops::pow(ops::sigmoid(x), p));         // in (0, 1)
    y = ops::add(y, ops::where(ops::floor(two_p), x, p));  // floor(2p) is 0 or 1
    y = ops::add(y, ops::add(ops::ceil(x), ops::floor(ops::mul(x, 3.f))));
    y = ops::add(y, ops::add(ops::reciprocal(two_p), ops::log(p)));
    const Tensor xs = ops::mul(x, 0.2f), xst = ops::permute(xs, {0, 1, 3, 2});
    return ops::add(y, ops::matmul(ops::matmul(xs, xst), xs));
  }
  std::string type_name() const override { return "MathOps"; }
};
}  // namespace

// The normalizations: GroupNorm (as torch.onnx.export writes it: Reshape, InstanceNormalization,
// Reshape, the per-channel affine), with and without its parameters, and LayerNorm over the
// last dimension and over three (LayerNormalization, which makes the file opset 17); and the
// reflection and replication pads (Pad modes reflect and edge), Exp, Abs, Sqrt, and
// ConvTranspose (stride, padding, output padding, groups) and Resize (nearest, bilinear by
// scale factor, align_corners): checker, our importer and
// ONNX Runtime all give the module's output.
TEST(ExportOps, NormalizationsAndPadsRoundTripAndRunInOnnxRuntime) {
  if (!fs::exists(CONVNET_ORT_PYTHON))
    GTEST_SKIP() << CONVNET_ORT_PYTHON << " is missing: scripts/install-deps.sh makes it";
  Generator pgen(9);
  auto randomize = [&](nn::Module& m) {
    for (auto& [n, p] : m.named_parameters()) p.copy_(Tensor::randn(p.shape(), pgen, 0.5f, 0.4f));
  };
  struct Case {
    const char* name;
    std::shared_ptr<nn::Module> m;
    int64_t opset;
  };
  const Case cases[] = {
      {"group_norm", std::make_shared<nn::GroupNorm>(3, 6), 13},
      {"group_norm_plain", std::make_shared<nn::GroupNorm>(2, 6, 1e-3, false), 13},
      {"layer_norm_last", std::make_shared<nn::LayerNorm>(Shape{5}, 1e-6), 17},
      {"layer_norm_chw", std::make_shared<nn::LayerNorm>(Shape{6, 4, 5}, 1e-5, true, false), 17},
      {"reflection_pad", std::make_shared<nn::ReflectionPad2d>(std::array<int64_t, 4>{1, 2, 3, 0}), 13},
      {"replication_pad", std::make_shared<nn::ReplicationPad2d>(2), 13},
      {"exp_abs_sqrt", std::make_shared<ExpAbsSqrt>(), 13},
      {"math_ops", std::make_shared<MathOps>(), 13},
      {"conv_transpose", conv_t(6, 4, 3, {2, 2}, {1, 1}, {1, 1}, 1), 13},
      {"conv_transpose_grouped", conv_t(6, 6, 2, {2, 2}, {0, 0}, {0, 0}, 3), 13},
      {"upsample_nearest", std::make_shared<nn::Upsample>(std::array<int64_t, 2>{8, 7}, std::array<double, 2>{0, 0}),
       13},
      {"upsample_bilinear_scale",
       std::make_shared<nn::Upsample>(std::array<int64_t, 2>{0, 0}, std::array<double, 2>{1.5, 2.0}, "bilinear"), 13},
      {"upsample_align_corners",
       std::make_shared<nn::Upsample>(std::array<int64_t, 2>{3, 9}, std::array<double, 2>{0, 0}, "bilinear", true),
       13}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    randomize(*c.m);
    TempDir dir(std::string("export_") + c.name);
    io::export_onnx(*c.m, {1, 6, 4, 5}, dir / "n.onnx");
    Generator gen(5);
    Tensor x = Tensor::randn({2, 6, 4, 5}, gen, 1.f, 2.f);
    NoGradGuard g;
    const Tensor want = (*c.m)(x);
    auto back = io::load_onnx(dir / "n.onnx");
    EXPECT_EQ(back->opset(), c.opset);
    EXPECT_TRUE(all_close((*back)(x), want, 0, 1e-5));
    const std::string report = run_python("onnx_check.py " + (dir / "n.onnx"));
    EXPECT_NE(report.find("OK "), std::string::npos) << report;
    const Tensor theirs = ort_output(dir, "n.onnx", x);
    ASSERT_EQ(theirs.shape(), want.shape());
    EXPECT_TRUE(all_close(theirs, want, 0, 1e-4));
  }
}

// A volumetric network (Conv3d grouped and strided, MaxPool3d with padding and ceil_mode,
// AvgPool3d without count_include_pad, Conv3d without bias): exported, checked by
// onnx.checker, re-imported and run by ONNX Runtime at another batch size, all giving the
// module's output.
TEST(ExportOps, VolumetricRoundTripsAndRunsInOnnxRuntime) {
  if (!fs::exists(CONVNET_ORT_PYTHON))
    GTEST_SKIP() << "ONNX Runtime's virtual environment is missing (" << CONVNET_ORT_PYTHON
                 << "): scripts/install-deps.sh makes it";
  manual_seed(11);
  nn::Sequential m;
  m.add(std::make_shared<nn::Conv3d>(2, 6, std::array<int64_t, 3>{3, 3, 3},
                                     Conv3dArgs{{1, 2, 2}, {1, 1, 1}, {1, 1, 1}, 2}));
  Pool3dArgs mp;
  mp.kernel = {2, 3, 3};
  mp.stride = {1, 2, 2};
  mp.padding = {1, 1, 1};
  mp.ceil_mode = true;
  m.add(std::make_shared<nn::MaxPool3d>(mp));
  m.add(std::make_shared<nn::Conv3d>(6, 4, std::array<int64_t, 3>{1, 2, 2}, Conv3dArgs{}, false));
  Pool3dArgs ap;
  ap.kernel = {2, 2, 2};
  ap.padding = {1, 1, 1};
  ap.count_include_pad = false;
  m.add(std::make_shared<nn::AvgPool3d>(ap));
  TempDir dir("export_volumetric");
  io::export_onnx(m, {1, 2, 5, 9, 8}, dir / "v.onnx");
  Generator gen(6);
  const Tensor x = Tensor::randn({3, 2, 5, 9, 8}, gen);
  NoGradGuard g;
  const Tensor want = m(x);
  auto back = io::load_onnx(dir / "v.onnx");
  EXPECT_TRUE(all_close((*back)(x), want, 0, 1e-5));
  const std::string report = run_python("onnx_check.py " + (dir / "v.onnx"));
  EXPECT_NE(report.find("OK "), std::string::npos) << report;
  const Tensor theirs = ort_output(dir, "v.onnx", x);
  ASSERT_EQ(theirs.shape(), want.shape());
  EXPECT_TRUE(all_close(theirs, want, 0, 1e-4));
}
