// Zoo models against torchvision 0.14 (Debian's python3-torchvision): parameter counts at
// 1000 classes, and with torchvision's own random weights exported to safetensors, the
// logits in eval mode, and for some models train mode (BatchNorm batch statistics)
// including every parameter gradient and the updated running statistics.
// Fixtures are written on demand by python/torchvision_fixture.py and deleted after use.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "convnet/io/weights.h"
#include "convnet/models/registry.h"
#include "convnet/nn/init.h"
#include "convnet/nn/layers.h"
#include "kernels/registry.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;

namespace {

// Logits within 1e-5 relative (issue 18's bar), "relative" meaning to the scale of the
// logits: each element within 1e-5 * (|expected| + max |expected|). Deep nets accumulate
// float32 rounding that depends on the summation order of the conv kernels; the largest
// measured in eval mode is 1.9e-6 of the scale (vgg11_bn), most are below 5e-7.
// Train-mode logits are held to 1e-4: they are compared with PyTorch's float64 run, and
// BatchNorm over a few values per channel amplifies float32 rounding (googlenet, resnet50
// and regnet_x_400mf miss 1e-5; PyTorch's own float32 misses alike).
::testing::AssertionResult logits_close(const Tensor& got, const Tensor& expected, double rel = 1e-5) {
  double scale = 0;
  for (float v : expected.to_vector()) scale = std::max(scale, static_cast<double>(std::abs(v)));
  return all_close(got, expected, rel, rel * scale);
}

// max |got - expected| / max |expected|.
double relative_max_error(const Tensor& got, const Tensor& expected) {
  double scale = 0, err = 0;
  const auto g = got.to_vector(), e = expected.to_vector();
  for (size_t i = 0; i < e.size(); ++i) {
    scale = std::max(scale, static_cast<double>(std::abs(e[i])));
    err = std::max(err, static_cast<double>(std::abs(g[i] - e[i])));
  }
  return err / scale;
}

// clang-format off
const std::vector<std::string> kTorchvisionModels = {
    "alexnet", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn",
    "googlenet", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "densenet121", "densenet161",
    "densenet169", "densenet201", "mobilenet_v2", "resnext50_32x4d", "wide_resnet50_2", "mobilenet_v3_large",
    "mobilenet_v3_small", "squeezenet1_0", "squeezenet1_1", "shufflenet_v2_x0_5", "shufflenet_v2_x1_0",
    "shufflenet_v2_x1_5", "shufflenet_v2_x2_0", "mnasnet0_5", "mnasnet0_75", "mnasnet1_0", "mnasnet1_3",
    "efficientnet_b0", "efficientnet_b1", "efficientnet_b2", "efficientnet_b3", "regnet_y_400mf", "regnet_y_800mf",
    "regnet_y_1_6gf", "regnet_y_3_2gf", "regnet_x_400mf", "regnet_x_800mf", "regnet_x_1_6gf", "regnet_x_3_2gf",
    "convnext_tiny", "convnext_small"};
const std::vector<std::string> kTrainModeModels = {
    "resnet18", "vgg11_bn", "densenet121", "googlenet", "mobilenet_v2", "resnet50", "mobilenet_v3_large",
    "mobilenet_v3_small", "squeezenet1_1", "shufflenet_v2_x1_0", "mnasnet1_0", "efficientnet_b0", "regnet_y_400mf",
    "regnet_x_400mf", "convnext_tiny"};
// clang-format on

// Bounds on the train-mode gradient error (see check_model), about twice the error measured
// on the development machine (AVX-512, 2 threads; issue 16's note has the numbers), per
// kernel set: the default fast kernels (blocked or plain layouts: CONVNET_BLOCKED=0 measured
// the same), CONVNET_BACKEND=cpu (BLAS convolutions) and CONVNET_BACKEND=ref. The error is
// rounding plus "kink flips": a pre-activation within float32 rounding of 0 lands on the
// other side of a ReLU, and BatchNorm over 2x3x3 values spreads that through its channel.
// Which models flip depends on each kernel set's summation order, so each set has its own
// bounds. elementwise = 0: not checked, because PyTorch's own float32 gradients miss the
// float64 ones elementwise by 13-20% of the tensor's scale there (the fixture measures it).
struct GradBounds {
  double tensor_l2, network_l2, elementwise;
};
struct ModelBounds {
  GradBounds fast, cpu, ref;
};
const std::map<std::string, ModelBounds> kTrainBounds = {
    {"resnet18", {{1e-5, 7e-6, 1.3e-5}, {1e-5, 6e-6, 1.2e-5}, {1.7e-5, 1.1e-5, 2.2e-5}}},
    {"vgg11_bn", {{5e-6, 4e-6, 7.5e-6}, {5e-6, 3.5e-6, 6.5e-6}, {5e-3, 2.3e-3, 3.6e-2}}},
    {"googlenet", {{1e-4, 7e-5, 1.4e-4}, {1.6e-2, 1.3e-2, 1.2e-1}, {2.2e-2, 1.6e-2, 1.2e-1}}},
    {"densenet121", {{3.3e-2, 8e-3, 0}, {6.3e-3, 1e-3, 0}, {1.7e-2, 5.6e-3, 0}}},
    {"mobilenet_v2", {{2.5e-2, 2e-2, 0}, {2.5e-2, 2e-2, 0}, {5.4e-2, 3.7e-2, 0}}},
    // measured (fast, cpu, ref): large 1.2e-5/5.5e-6/1.5e-5, 1.0e-5/5.4e-6/1.4e-5, 1.2e-5/5.3e-6/1.5e-5;
    // small 9.7e-6/2.3e-6/1.4e-5, 9.4e-6/2.1e-6/1.3e-5, 7.8e-6/2.2e-6/8.2e-6 (PyTorch float32:
    // 1.1e-5/5.7e-6/1.2e-5 and 5.7e-6/2.0e-6/6.5e-6)
    {"mobilenet_v3_large", {{2.4e-5, 1.1e-5, 3e-5}, {2.1e-5, 1.1e-5, 2.8e-5}, {2.4e-5, 1.1e-5, 3e-5}}},
    {"mobilenet_v3_small", {{2e-5, 4.6e-6, 2.8e-5}, {1.9e-5, 4.2e-6, 2.6e-5}, {1.6e-5, 4.4e-6, 1.7e-5}}},
    {"resnet50", {{5.8e-2, 4.6e-2, 0}, {4.8e-2, 3.6e-2, 0}, {6.1e-2, 4.7e-2, 0}}},
    // measured (fast, cpu, ref) per tensor / network / elementwise, and PyTorch's float32:
    // squeezenet1_1 6.5e-7/1.7e-7/1.2e-6, 2.1e-2/1.4e-3/6.1e-2 (a kink flip), 8.6e-7/2.1e-7/1.4e-6
    //   (PyTorch 6.6e-7/1.8e-7/1.1e-6); shufflenet_v2_x1_0 1.5e-3/3.7e-4/5.1e-3, 5.5e-5/2.9e-5/9.7e-5,
    //   5.6e-5/3.2e-5/9.9e-5 (PyTorch 1.5e-3/3.7e-4/5.1e-3); mnasnet1_0 1.2e-4/4.9e-5/5.0e-4,
    //   3.1e-5/2.2e-5/4.8e-5, 5.1e-5/2.5e-5/1.1e-4 (PyTorch 4.5e-5/2.2e-5/7.5e-5); efficientnet_b0
    //   2.3e-5/1.3e-5/2.9e-5, 2.4e-5/1.5e-5/3.3e-5, 2.8e-5/1.4e-5/2.6e-5 (PyTorch 2.5e-5/1.3e-5/2.8e-5);
    //   regnet_y_400mf 1.4e-2/7.4e-3 (2.9e-2/1.5e-2 with the vectorized sigmoid: other kinks flip),
    //   3.0e-2/1.5e-2, 2.8e-2/1.4e-2 (PyTorch 4.3e-2/3.4e-2, elementwise
    //   28%); regnet_x_400mf 7.0e-2/3.4e-2, 6.7e-2/2.0e-2, 7.4e-2/3.9e-2 (PyTorch 7.0e-2/3.4e-2,
    //   elementwise 42%): RegNet's last stage has 3x3 maps at 96x96, and BatchNorm over 18 values
    //   amplifies float32 rounding for PyTorch as much as for us.
    {"squeezenet1_1", {{1.3e-6, 3.5e-7, 2.4e-6}, {4.2e-2, 2.8e-3, 1.3e-1}, {1.7e-6, 4.2e-7, 2.8e-6}}},
    {"shufflenet_v2_x1_0", {{3e-3, 7.3e-4, 1e-2}, {1.1e-4, 5.8e-5, 2e-4}, {1.1e-4, 6.4e-5, 2e-4}}},
    {"mnasnet1_0", {{2.5e-4, 1e-4, 1e-3}, {6.3e-5, 4.3e-5, 9.6e-5}, {1e-4, 5e-5, 2.3e-4}}},
    {"efficientnet_b0", {{4.5e-5, 2.5e-5, 5.8e-5}, {4.7e-5, 2.9e-5, 6.6e-5}, {5.5e-5, 2.9e-5, 5.3e-5}}},
    {"regnet_y_400mf", {{5.9e-2, 2.9e-2, 0}, {5.9e-2, 2.9e-2, 0}, {5.5e-2, 2.8e-2, 0}}},
    // convnext_tiny (no BatchNorm: LayerNorm per position): 8.2e-7/4.5e-7/1.3e-6, 9.4e-7/5.9e-7/9.9e-7,
    // 1.2e-6/7.9e-7/1.8e-6 (PyTorch 1.0e-6/7.4e-7/1.2e-6).
    {"convnext_tiny", {{1.7e-6, 9e-7, 2.6e-6}, {1.9e-6, 1.2e-6, 2e-6}, {2.4e-6, 1.6e-6, 3.6e-6}}},
    {"regnet_x_400mf", {{1.4e-1, 6.8e-2, 0}, {1.3e-1, 4e-2, 0}, {1.5e-1, 7.9e-2, 0}}},
};
const GradBounds& bounds_for(const std::string& model) {
  const ModelBounds& m = kTrainBounds.at(model);
  const std::string forced = kernels::forced_backend();
  return forced == "ref" ? m.ref : forced == "cpu" ? m.cpu : m.fast;
}
// Train mode at 96x96: BatchNorm in the deepest blocks then normalizes over 2x3x3 values
// per channel instead of 2x2x2, which keeps float32 rounding from being amplified (resnet50
// at 64x64: 9% network error even for PyTorch's own float32 gradients).
constexpr int64_t kTrainSize = 96;

struct GradError {
  double tensor_l2 = 0, network_l2 = 0, elementwise = 0, zero_grad_abs = 0;
  std::string worst_l2_tensor, worst_elem_tensor, worst_zero_tensor;
};

GradError grad_error(nn::Module& net, const io::SafeTensors& f) {
  GradError r;
  double top = 0;
  for (auto& [n, p] : net.named_parameters())
    for (float v : fixture_tensor(f, "grad." + n).to_vector()) top = std::max(top, std::abs(static_cast<double>(v)));
  double all_err2 = 0, all_ref2 = 0;
  for (auto& [n, p] : net.named_parameters()) {
    const auto ref = fixture_tensor(f, "grad." + n).to_vector();
    const auto got = p.grad().to_vector();
    EXPECT_EQ(got.size(), ref.size()) << n;
    if (got.size() != ref.size()) continue;
    double err2 = 0, ref2 = 0, emax = 0, rmax = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
      const double e = static_cast<double>(got[i]) - ref[i];
      err2 += e * e, ref2 += static_cast<double>(ref[i]) * ref[i];
      emax = std::max(emax, std::abs(e)), rmax = std::max(rmax, std::abs(static_cast<double>(ref[i])));
    }
    all_err2 += err2, all_ref2 += ref2;
    if (rmax < 1e-6 * top) {
      if (emax / top > r.zero_grad_abs) r.zero_grad_abs = emax / top, r.worst_zero_tensor = n;
      continue;
    }
    const double l2 = std::sqrt(err2 / ref2), el = emax / rmax;
    if (l2 > r.tensor_l2) r.tensor_l2 = l2, r.worst_l2_tensor = n;
    if (el > r.elementwise) r.elementwise = el, r.worst_elem_tensor = n;
  }
  r.network_l2 = std::sqrt(all_err2 / all_ref2);
  return r;
}

io::SafeTensors strip(const io::SafeTensors& f, const std::string& prefix) {
  io::SafeTensors out;
  for (const auto& [k, v] : f.tensors)
    if (k.rfind(prefix, 0) == 0) {
      out.tensors[k.substr(prefix.size())] = v;
      out.dtypes[k.substr(prefix.size())] = f.dtypes.at(k);
    }
  return out;
}

void check_model(const std::string& name, const std::string& mode) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("convnet_tv_" + name + "_" + mode + "_" + std::to_string(getpid()) + ".safetensors");
  const auto pth = std::filesystem::path(path).replace_extension(".pth");
  models::ModelArgs a;
  a.num_classes = 10;
  a.in_channels = 3;
  a.input_size = mode == "train" ? kTrainSize : 64;
  nn::ModulePtr net;
  {
    nn::init::SkipInitGuard skip;  // the strict load below overwrites every tensor
    net = models::create(name, a);
  }
  // The .pth round trip for every model but VGG's (100M+ parameters: 4.6 s of torch.save and
  // as long to read back, each, for no code path that alexnet's 57M do not take).
  const bool with_pth = mode == "eval" && net->num_parameters() < 100'000'000;
  run_python("torchvision_fixture.py " + name + " " + path.string() + " --mode " + mode +
             (mode == "train" ? " --size " + std::to_string(kTrainSize) : "") +
             (with_pth ? " --pth " + pth.string() : ""));
  auto f = load_fixture(path.string());
  std::filesystem::remove(path);
  io::load_state_dict(*net, strip(f, "param."), /*strict=*/true, name);
  const Tensor& x = fixture_tensor(f, "input");
  if (mode == "eval") {
    net->eval();
    Tensor y = (*net)(x);
    EXPECT_TRUE(logits_close(y, fixture_tensor(f, "logits")));
    std::printf("%s eval logits: largest error %.2e of the logits' scale\n", name.c_str(),
                relative_max_error(y, fixture_tensor(f, "logits")));
    if (!with_pth) return;
    // The same weights as torch.save wrote them (.pth, read without Python): every tensor
    // equal to the safetensors one, so the logits are the same bits.
    nn::init::SkipInitGuard skip;
    auto from_pth = models::create(name, a);
    const io::LoadReport r = io::load_weights(*from_pth, pth.string());
    std::filesystem::remove(pth);
    EXPECT_TRUE(r.complete()) << r.describe();
    from_pth->eval();
    EXPECT_TRUE(all_close((*from_pth)(x), y, 0, 0)) << "logits from the .pth differ from those of the safetensors";
    return;
  }
  net->train();
  for (auto& [n, m] : net->named_modules()) {
    if (auto* d = dynamic_cast<nn::Dropout*>(m)) d->p = 0.0;
    if (auto* d = dynamic_cast<nn::StochasticDepth*>(m)) d->p = 0.0;
  }
  Tensor y = (*net)(x);
  EXPECT_TRUE(logits_close(y, fixture_tensor(f, "logits"), 1e-4));
  y.backward(fixture_tensor(f, "g"));
  // Gradients against the float64 reference, at bounds measured per model (kTrainBounds).
  // Three numbers per model: the largest relative L2 error of one parameter's gradient, the
  // relative L2 error of all gradients together, and the largest elementwise error relative
  // to its tensor's largest magnitude. Gradients that are analytically zero (a conv bias
  // before BatchNorm) have no relative error; they are held to an absolute 1e-6 of the
  // network's largest gradient instead.
  const GradError ours = grad_error(*net, f);
  const auto cfg = fixture_config(f);
  const auto& pt = cfg.at("torch_f32");
  const GradBounds& b = bounds_for(name);
  std::printf(
      "%s gradient error vs float64: per tensor L2 %.2e (bound %.1e), network L2 %.2e (bound %.1e), "
      "elementwise %.2e (bound %.1e), zero gradients %.1e; PyTorch float32: %.2e, %.2e, %.2e\n",
      name.c_str(), ours.tensor_l2, b.tensor_l2, ours.network_l2, b.network_l2, ours.elementwise, b.elementwise,
      ours.zero_grad_abs, pt.at("tensor_l2").get<double>(), pt.at("network_l2").get<double>(),
      pt.at("elementwise").get<double>());
  // The bounds were measured on one CPU (AVX-512); float32 rounding moves with the instruction
  // set, and on another CPU PyTorch's own float32 gradients can be further from float64 than
  // those bounds (vgg11_bn on an AVX2-only EPYC: 2.4e-3 against a bound of 5e-6). So each
  // bound is at least 1.5x what PyTorch's float32 reaches on the machine running the test:
  // the worst of its runs on 1 and 2 threads and channels_last, because one float32 run is
  // one draw of a chaotic rounding (mobilenet_v2 on that EPYC: PyTorch's worst tensor is
  // 3.0e-2 from float64 on 1 thread and 1.2e-1 on 2; ours 1.2e-1, and 2.7e-2 with the
  // reference batch norm kernel, whose float32 output differs from the fast one's by an ulp).
  auto bound = [&](double measured, const char* key) { return std::max(measured, 1.5 * pt.at(key).get<double>()); };
  EXPECT_LE(ours.tensor_l2, bound(b.tensor_l2, "tensor_l2")) << "worst tensor: " << ours.worst_l2_tensor;
  EXPECT_LE(ours.network_l2, bound(b.network_l2, "network_l2"));
  if (b.elementwise > 0) {
    EXPECT_LE(ours.elementwise, bound(b.elementwise, "elementwise")) << "worst tensor: " << ours.worst_elem_tensor;
  }
  EXPECT_LE(ours.zero_grad_abs, 1e-5) << "an analytically zero gradient is not: " << ours.worst_zero_tensor;
  for (auto& [n, b] : net->named_buffers()) {
    SCOPED_TRACE("buffer " + n);
    EXPECT_TRUE(all_close(b, fixture_tensor(f, "after." + n), 1e-4, 1e-5));
  }
}

class TorchvisionEval : public ::testing::TestWithParam<std::string> {};
class TorchvisionTrain : public ::testing::TestWithParam<std::string> {};

}  // namespace

TEST(Torchvision, ParameterCountsEqualTorchvisionAt1000Classes) {
  std::string names;
  for (const auto& n : kTorchvisionModels) names += " " + n;
  auto counts = nlohmann::json::parse(run_python("torchvision_fixture.py --counts" + names));
  for (const auto& n : kTorchvisionModels) {
    models::ModelArgs a;
    a.num_classes = 1000;
    a.in_channels = 3;
    a.input_size = 224;
    nn::init::SkipInitGuard skip;  // counts only
    EXPECT_EQ(models::create(n, a)->num_parameters(), counts[n].get<int64_t>()) << n;
  }
}

// Eval-mode logits for every model but the larger depth and width variants of a family whose
// smaller members are compared (testing::larger_zoo_variants: VGG-13/16/19, ResNet-101/152,
// DenseNet-161/169/201, EfficientNet-B2/B3, the 3.2 GF RegNets, ConvNeXt-Small), about 80 s of
// make test; ParameterCountsEqualTorchvisionAt1000Classes checks every model's layer lists.
static std::vector<std::string> eval_models() {
  std::vector<std::string> out;
  for (const auto& n : kTorchvisionModels)
    if (!convnet::testing::larger_zoo_variants().count(n)) out.push_back(n);
  return out;
}

TEST_P(TorchvisionEval, LogitsMatch) { check_model(GetParam(), "eval"); }
TEST_P(TorchvisionTrain, LogitsGradientsAndRunningStatsMatch) { check_model(GetParam(), "train"); }

// Test names carry the model name, so --gtest_filter='*resnet18*' selects one model.
static std::string model_name(const ::testing::TestParamInfo<std::string>& info) { return info.param; }
INSTANTIATE_TEST_SUITE_P(Zoo, TorchvisionEval, ::testing::ValuesIn(eval_models()), model_name);
INSTANTIATE_TEST_SUITE_P(Zoo, TorchvisionTrain, ::testing::ValuesIn(kTrainModeModels), model_name);
