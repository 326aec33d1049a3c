// `convnet finetune` and `convnet export` as a user runs them on the real Fashion-MNIST:
// pretrain LeNet-5 on classes 0-4, fine-tune on classes 5 and 6 from the checkpoint and
// from a weights file, evaluate the result, export it to ONNX (checked by onnx.checker and
// run back through our importer with the checkpoint's logits); the mistakes a user makes
// are refused with messages that say what is wrong.
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "convnet/autograd/autograd.h"
#include "convnet/io/onnx.h"
#include "convnet/io/pth.h"
#include "convnet/train/checkpoint.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;
namespace fs = std::filesystem;

namespace {
struct Dirs {
  fs::path root = fs::temp_directory_path() / ("convnet_e2e_ft_" + std::to_string(getpid()));
  Dirs() {
    fs::remove_all(root);
    fs::create_directories(root);
  }
  ~Dirs() { fs::remove_all(root); }
  std::string operator/(const std::string& n) const { return (root / n).string(); }
};
const char* kSmall = " --epochs 1 --threads 2 --workers 1 --seed 1 ";
}  // namespace

TEST(CliFinetuneExport, PretrainFinetuneEvalExport) {
  Dirs d;
  auto r = run_cli(std::string("train --model lenet5 --classes 0,1,2,3,4 --limit-train 1500") + kSmall + "--out " +
                   (d / "pre"));
  ASSERT_EQ(r.status, 0) << r.out;

  r = run_cli(std::string("finetune --checkpoint ") + (d / "pre") +
              " --classes 5,6 --limit-train 600 --train-last 2 --epochs 3 --optimizer adam --lr 0.003 "
              "--schedule constant --threads 2 --workers 1 --seed 1 --out " +
              (d / "ft"));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("head '11' replaced: 5 -> 2 outputs"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("trainable layers (2 of 5): 9, 11"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("61,026 total, 10,334 trainable, 50,692 frozen"), std::string::npos) << r.out;
  EXPECT_GT(final_accuracy(r.out), 0.8) << r.out;  // Sandal vs Shirt: 98% measured

  // eval and the checkpoint: 2 classes with their names.
  r = run_cli("eval --checkpoint " + (d / "ft"));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("2 classes"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Sandal"), std::string::npos) << r.out;
  const auto ck = train::load_checkpoint(d / "ft");
  EXPECT_EQ(ck.model_args.num_classes, 2);
  EXPECT_EQ(ck.config.model.train_last, 2);
  EXPECT_EQ(ck.class_names, (std::vector<std::string>{"Sandal", "Shirt"}));

  // From a weights file (best.safetensors holds weights only), freezing by pattern.
  r = run_cli(std::string("finetune --model lenet5 --weights ") + (d / "pre/best.safetensors") +
              " --classes 5,6 --limit-train 300 --freeze '0.*' --freeze '3.*'" + kSmall + "--out " + (d / "ft2"));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("pretrained: weights"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("trainable layers (3 of 5): 7, 9, 11"), std::string::npos) << r.out;

  // Export the fine-tuned checkpoint; the graph gives the checkpoint's logits at any batch.
  r = run_cli("export --checkpoint " + (d / "ft") + " --onnx " + (d / "ft.onnx"));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("input 'input' (1, 1, 28, 28) (batch dynamic)"), std::string::npos) << r.out;
  const std::string check = run_python("onnx_check.py " + (d / "ft.onnx"));
  EXPECT_NE(check.find("OK "), std::string::npos) << check;
  EXPECT_NE(check.find("output=[batch,2] inferred=[batch,2]"), std::string::npos) << check;
  EXPECT_NE(check.find("class_names=[\"Sandal\",\"Shirt\"]"), std::string::npos) << check;
  // The normalization a deployment must apply: Fashion-MNIST's (mean 0.2860, std 0.3530,
  // the statistics of its training set that every run of this recipe uses).
  auto meta_values = [&](const std::string& key) {
    const size_t at = check.find(key + "=[");
    if (at == std::string::npos) return std::vector<double>{};
    const size_t b = at + key.size() + 1;
    return nlohmann::json::parse(check.substr(b, check.find(']', b) - b + 1)).get<std::vector<double>>();
  };
  const auto mean = meta_values("normalize_mean"), stdev = meta_values("normalize_std");
  ASSERT_EQ(mean.size(), 1u) << check;
  ASSERT_EQ(stdev.size(), 1u) << check;
  EXPECT_NEAR(mean[0], 0.2860, 1e-6);
  EXPECT_NEAR(stdev[0], 0.3530, 1e-6);
  auto net = train::model_from_checkpoint(ck);
  auto back = io::load_onnx(d / "ft.onnx");
  net->eval();
  back->eval();
  NoGradGuard g;
  Generator gen(5);
  Tensor x = Tensor::randn({3, 1, 28, 28}, gen);
  EXPECT_TRUE(all_close((*back)(x), (*net)(x), 0, 1e-5));

  // From an ONNX model: the pretrained checkpoint exported, then fine-tuned as a graph.
  r = run_cli("export --checkpoint " + (d / "pre") + " --onnx " + (d / "pre.onnx"));
  ASSERT_EQ(r.status, 0) << r.out;
  r = run_cli(std::string("finetune --onnx ") + (d / "pre.onnx") +
              " --classes 5,6 --limit-train 600 --train-last 2 --epochs 3 --optimizer adam --lr 0.003 "
              "--schedule constant --threads 2 --workers 1 --seed 1 --out " +
              (d / "ft_onnx"));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("head '/11/Gemm' replaced: 5 -> 2 outputs"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("trainable layers (2 of 5): /9/Gemm, /11/Gemm"), std::string::npos) << r.out;
  EXPECT_GT(final_accuracy(r.out), 0.8) << r.out;
  r = run_cli("eval --checkpoint " + (d / "ft_onnx"));  // rebuilt from the ONNX file
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("2 classes"), std::string::npos) << r.out;

  r = run_cli("export --model resnet20 --in-channels 1 --input-size 28 --onnx " + (d / "r20.onnx"));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(fs::file_size(d / "r20.onnx") > 1000000);  // 0.27 M float parameters

  // Mistakes.
  const std::string base =
      "finetune --checkpoint " + (d / "pre") + " --classes 5,6 --limit-train 100" + kSmall + "--out " + (d / "bad");
  r = run_cli(base + " --freeze 'layer9.*'");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("--freeze 'layer9.*' matches no parameter"), std::string::npos) << r.out;
  r = run_cli(base + " --train-last 9");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("--train-last 9: the model has only 5 parameterized layers"), std::string::npos) << r.out;
  r = run_cli(base + " --num-classes 3");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("--num-classes 3 does not match the data, which has 2 classes"), std::string::npos) << r.out;
  r = run_cli("finetune --classes 5,6");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("finetune needs pretrained weights"), std::string::npos) << r.out;
  r = run_cli("export --onnx " + (d / "x.onnx"));
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("export needs --checkpoint"), std::string::npos) << r.out;
}

// `convnet export` of the fine-tuned checkpoint d/ft: the ONNX graph's logits equal the
// checkpoint's model's on a 2x3x32x32 batch.
void expect_export_gives_the_logits(const TempDir& d, const train::Checkpoint& ck) {
  const auto r = run_cli("export --checkpoint " + (d / "ft") + " --onnx " + (d / "ft.onnx"));
  ASSERT_EQ(r.status, 0) << r.out;
  auto net = train::model_from_checkpoint(ck);
  auto back = io::load_onnx(d / "ft.onnx");
  net->eval();
  back->eval();
  NoGradGuard g;
  Generator gen(3);
  const Tensor x = Tensor::randn({2, 3, 32, 32}, gen);
  EXPECT_TRUE(all_close((*back)(x), (*net)(x), 1e-5, 1e-5));
}

// A modern family from the file a user has: torchvision's mobilenet_v3_small saved by
// torch.save (.pth), fine-tuned from the CLI on an image folder. The head is replaced, the
// frozen layers keep the file's weights exactly, and the fine-tuned checkpoint exports to an
// ONNX graph that gives its logits.
TEST(CliFinetuneExport, MobileNetV3FromAPthFileOnAnImageFolder) {
  TempDir d("ft_mv3");
  run_python("finetune_fixture.py mobilenet_v3_small " + d.path.string());
  auto r = run_cli("finetune --model mobilenet_v3_small --weights " + (d / "weights.pth") + " --dataset folder " +
                   "--data-dir " + (d / "images") + " --image-size 32 --batch-size 8 --train-last 2" + kSmall +
                   "--out " + (d / "ft"));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("(mobilenet_v3_small, 10 classes); head 'classifier.3' replaced: 10 -> 2 outputs"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("trainable layers (2 of 88): classifier.0, classifier.3"), std::string::npos) << r.out;
  const auto ck = train::load_checkpoint(d / "ft");
  EXPECT_EQ(ck.model_args.num_classes, 2);
  EXPECT_EQ(ck.class_names, (std::vector<std::string>{"blue", "red"}));
  const io::SafeTensors pth = io::load_pth(d / "weights.pth");
  for (const char* frozen : {"features.0.0.weight", "features.4.block.2.fc1.weight", "features.12.1.running_var"}) {
    SCOPED_TRACE(frozen);
    EXPECT_TRUE(all_close(ck.weights.at(frozen), pth.tensors.at(frozen), 0, 0));
  }
  expect_export_gives_the_logits(d, ck);
}

// Every family added with MobileNetV3 (issue 18), the smallest of each, the same way: a
// torch.save state dict, CLI fine-tuning of the head alone on an image folder (SqueezeNet's
// head is a 1x1 convolution), the stem's weights untouched, and an ONNX export whose logits
// equal the checkpoint's.
namespace {
struct FamilyCase {
  std::string model, head, stem;
};
class CliFinetuneFamily : public ::testing::TestWithParam<FamilyCase> {};
}  // namespace

TEST_P(CliFinetuneFamily, FromAPthFileOnAnImageFolder) {
  const FamilyCase& c = GetParam();
  TempDir d("ft_" + c.model);
  run_python("finetune_fixture.py " + c.model + " " + d.path.string());
  auto r = run_cli("finetune --model " + c.model + " --weights " + (d / "weights.pth") + " --dataset folder " +
                   "--data-dir " + (d / "images") + " --image-size 32 --batch-size 8" + kSmall + "--out " + (d / "ft"));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("(" + c.model + ", 10 classes); head '" + c.head + "' replaced: 10 -> 2 outputs"),
            std::string::npos)
      << r.out;
  const auto ck = train::load_checkpoint(d / "ft");
  EXPECT_EQ(ck.model_args.num_classes, 2);
  const io::SafeTensors pth = io::load_pth(d / "weights.pth");
  EXPECT_TRUE(all_close(ck.weights.at(c.stem), pth.tensors.at(c.stem), 0, 0)) << "the frozen stem changed";
  EXPECT_EQ(ck.weights.at(c.head + ".weight").size(0), 2);  // the new head
  expect_export_gives_the_logits(d, ck);
}

INSTANTIATE_TEST_SUITE_P(Families, CliFinetuneFamily,
                         ::testing::Values(FamilyCase{"squeezenet1_1", "classifier.1", "features.0.weight"},
                                           FamilyCase{"shufflenet_v2_x0_5", "fc", "conv1.0.weight"},
                                           FamilyCase{"mnasnet0_5", "classifier.1", "layers.0.weight"},
                                           FamilyCase{"efficientnet_b0", "classifier.1", "features.0.0.weight"},
                                           FamilyCase{"regnet_x_400mf", "fc", "stem.0.weight"},
                                           FamilyCase{"convnext_tiny", "classifier.2", "features.0.0.weight"}),
                         [](const ::testing::TestParamInfo<FamilyCase>& i) { return i.param.model; });
