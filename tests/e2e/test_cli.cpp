// The convnet command line, run as a user would: help, bad input, and real training on
// Fashion-MNIST (Debian's dataset-fashion-mnist).
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include "convnet/core/rng.h"
#include "convnet/io/safetensors.h"
#include "convnet/io/weights.h"
#include "convnet/models/registry.h"
#include "convnet/train/checkpoint.h"
#include "convnet/train/options.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;
namespace fs = std::filesystem;

namespace {

const char* kData = "/usr/share/datasets/fashion-mnist";

}  // namespace

TEST(Cli, HelpIsCompleteForEverySubcommand) {
  auto r = run_cli("--help");
  EXPECT_EQ(r.status, 0);
  for (const char* s : {"train", "models", "bench"}) EXPECT_NE(r.out.find(s), std::string::npos) << r.out;
  r = run_cli("train --help");
  EXPECT_EQ(r.status, 0);
  for (const char* s : {"--model", "--data-dir", "--epochs", "--batch-size", "--optimizer", "--lr", "--momentum",
                        "--weight-decay", "--schedule", "--seed", "--threads"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;
  r = run_cli("bench --help");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("--mode"), std::string::npos);
  r = run_cli("models");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("lenet5_classic"), std::string::npos);
}

TEST(Cli, BadFlagsAndValuesExitNonZeroWithAMessage) {
  auto r = run_cli("train --frobnicate 3");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("frobnicate"), std::string::npos) << r.out;
  r = run_cli("train --epochs 0");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("--epochs"), std::string::npos) << r.out;
  r = run_cli("train --optimizer rmsprop");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("rmsprop"), std::string::npos) << r.out;
  r = run_cli("train --lr abc");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("abc"), std::string::npos) << r.out;
  r = run_cli("train --model lenet9");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("unknown model 'lenet9'"), std::string::npos) << r.out;
  // No command at all: the usage, naming every command, and a failure exit status.
  r = run_cli("");
  EXPECT_NE(r.status, 0);
  for (const char* s : {"Usage:", "convnet: a command is required", "train", "eval", "predict", "bench", "summary",
                        "infer", "models", "export", "finetune", "visualize", "report"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;
}

TEST(Cli, MissingDatasetSaysWhatToInstall) {
  auto r = run_cli("train --data-dir /nonexistent/fmnist --epochs 1");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("/nonexistent/fmnist"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("dataset-fashion-mnist"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--data-dir"), std::string::npos) << r.out;
}

TEST(Cli, CorruptIdxFileIsReportedByName) {
  namespace fs = std::filesystem;
  if (!fs::exists(kData)) GTEST_SKIP() << "dataset-fashion-mnist is not installed at " << kData;
  const fs::path dir = fs::temp_directory_path() / "convnet_e2e_corrupt";
  fs::create_directories(dir);
  for (const char* f : {"train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"})
    fs::copy_file(fs::path(kData) / f, dir / f, fs::copy_options::overwrite_existing);
  {  // a truncated training-images file: a valid header, then far too few pixels
    FILE* f = fopen((dir / "train-images-idx3-ubyte").c_str(), "wb");
    const unsigned char hdr[16] = {0, 0, 8, 3, 0, 0, 0xea, 0x60, 0, 0, 0, 28, 0, 0, 0, 28};
    fwrite(hdr, 1, 16, f);
    fwrite(hdr, 1, 16, f);
    fclose(f);
  }
  auto r = run_cli("train --epochs 1 --data-dir " + dir.string() + " --out " + (dir / "run").string());
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("train-images-idx3-ubyte"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("truncated"), std::string::npos) << r.out;
  fs::remove_all(dir);
}

TEST(Cli, ShortTrainingRunLearnsFashionMnist) {
  if (!std::filesystem::exists(kData)) GTEST_SKIP() << "dataset-fashion-mnist is not installed at " << kData;
  // One epoch on all 60,000 images: LeNet-5 goes from chance (10%) to above 80%.
  const auto out = std::filesystem::temp_directory_path() / "convnet_e2e_cli_run";
  auto r = run_cli("train --epochs 1 --threads 2 --seed 1 --out " + out.string());
  std::filesystem::remove_all(out);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("epoch 1/1"), std::string::npos) << r.out;
  EXPECT_GE(final_accuracy(r.out), 0.80) << r.out;
}

// The options of train/options.h are the CLI's: each one is in the help of the command that
// takes it, and each value its check refuses is refused on the command line, naming the flag.
TEST(Cli, EveryTableOptionIsOnTheCommandLineWithItsCheck) {
  using convnet::train::Check;
  const auto train_help = run_cli("train --help").out;
  const auto finetune_help = run_cli("finetune --help").out;
  int checked = 0;
  for (const convnet::train::OptionInfo& o : convnet::train::train_options()) {
    const std::string flag = convnet::train::option_flag(o);
    SCOPED_TRACE(flag);
    EXPECT_NE(finetune_help.find(flag), std::string::npos);
    EXPECT_EQ(train_help.find(flag) != std::string::npos, !o.finetune_only);
    std::string bad;
    switch (o.check.kind) {
      case Check::at_least:
        bad = std::to_string(static_cast<long long>(o.check.lo) - 1);
        break;
      case Check::above:
        bad = std::to_string(o.check.lo);
        break;
      case Check::range:
        bad = std::to_string(static_cast<long long>(o.check.hi) + 1);
        break;
      case Check::below_one:
        bad = "1";
        break;
      case Check::one_of:
        bad = "nope";
        break;
      default:
        continue;
    }
    const auto r = run_cli(std::string(o.finetune_only ? "finetune " : "train ") + flag + " " + bad);
    EXPECT_NE(r.status, 0) << r.out;
    EXPECT_NE(r.out.find(flag), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(bad), std::string::npos) << r.out;
    ++checked;
  }
  EXPECT_GT(checked, 25);
  // What the option checks cannot know: devices not in this build, a loss scale that is not
  // one of the words or a number.
  auto r = run_cli("train --loss-scale lots --epochs 1");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("--loss-scale: unknown value 'lots'"), std::string::npos) << r.out;
  // A build without the CUDA backend says so; a build with it, on a machine without a GPU
  // (CI), says that none was found, before it looks at the data (with a GPU the missing data
  // directory is the error).
  r = run_cli("train --device cuda --precision bf16 --epochs 1 --data-dir /nonexistent/convnet-data");
  EXPECT_NE(r.status, 0);
  if (!cuda_built()) {
    EXPECT_NE(r.out.find("no CUDA support"), std::string::npos) << r.out;
  } else if (cuda_device_count() == 0) {
    EXPECT_NE(r.out.find("--device cuda: no CUDA device was found ("), std::string::npos) << r.out;
  }
  r = run_cli("bench --model lenet5 --seconds 0.1 --device cuda:0");
  EXPECT_NE(r.status, 0);
  if (cuda_built() && cuda_device_count() == 0) {
    EXPECT_NE(r.out.find("--device cuda:0: no CUDA device was found ("), std::string::npos) << r.out;
  }
  for (const char* cmd : {"eval --checkpoint none.safetensors", "predict --checkpoint none.safetensors x.png",
                          "infer --model lenet5 --weights none.safetensors --input none.safetensors --output o"}) {
    r = run_cli(std::string(cmd) + " --device cuda");
    EXPECT_NE(r.status, 0) << cmd;
    if (cuda_built() && cuda_device_count() == 0) {
      EXPECT_NE(r.out.find("--device cuda: no CUDA device was found ("), std::string::npos) << cmd << r.out;
    }
  }
  r = run_cli("bench --model lenet5 --seconds 0.1 --device gpu0");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("unknown device 'gpu0'; choose cpu, cuda or cuda:N"), std::string::npos) << r.out;
  r = run_cli("train --device tpu --epochs 1");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("tpu"), std::string::npos) << r.out;
}

// Mixed precision from the command line: bf16 trains on the fast kernels (no warning) about as
// well as fp32 on the same data and seed; fp16 trains through the emulating reference kernels
// with dynamic loss scaling, says so, and records its scale per epoch.
TEST(Cli, MixedPrecisionTrainingRuns) {
  if (!std::filesystem::exists(kData)) GTEST_SKIP() << "dataset-fashion-mnist is not installed at " << kData;
  TempDir d("cli_precision");
  const std::string base = "train --model lenet5 --epochs 1 --limit-train 8000 --threads 2 --seed 3 --out ";
  const auto r32 = run_cli(base + (d.path / "fp32").string());
  const auto r16b = run_cli(base + (d.path / "bf16").string() + " --precision bf16");
  ASSERT_EQ(r32.status, 0) << r32.out;
  ASSERT_EQ(r16b.status, 0) << r16b.out;
  EXPECT_EQ(r16b.out.find("warning: --precision"), std::string::npos) << r16b.out;
  EXPECT_EQ(r16b.out.find("loss scaling"), std::string::npos) << r16b.out;  // bf16 needs none
  EXPECT_GE(final_accuracy(r32.out), 0.6) << r32.out;
  EXPECT_NEAR(final_accuracy(r16b.out), final_accuracy(r32.out), 0.03) << r16b.out;
  const auto ck = convnet::train::load_checkpoint((d.path / "bf16").string());
  EXPECT_EQ(ck.config.compute.precision, "bf16");
  for (const auto& [name, t] : ck.weights) EXPECT_EQ(t.dtype(), convnet::DType::float32) << name;  // float32 masters
  // eval computes in the run's precision by default: exactly the run's final test accuracy
  // (the same batches, the same kernels); --precision fp32 within a point of it.
  const auto ev = run_cli("eval --threads 2 -c " + (d.path / "bf16").string());
  ASSERT_EQ(ev.status, 0) << ev.out;
  EXPECT_NE(ev.out.find("computed in bf16"), std::string::npos) << ev.out;
  std::smatch m;
  const std::regex top1("top-1 accuracy: ([0-9.]+)%");
  ASSERT_TRUE(std::regex_search(ev.out, m, top1)) << ev.out;
  EXPECT_NEAR(std::stod(m[1]) / 100, final_accuracy(r16b.out), 1e-9) << ev.out;
  const auto ev32 = run_cli("eval --threads 2 --precision fp32 -c " + (d.path / "bf16").string());
  ASSERT_TRUE(std::regex_search(ev32.out, m, top1)) << ev32.out;
  EXPECT_NEAR(std::stod(m[1]) / 100, final_accuracy(r16b.out), 0.01) << ev32.out;
  EXPECT_EQ(ev32.out.find("computed in"), std::string::npos) << ev32.out;
  // infer --precision bf16 writes float32 logits close to the float32 ones.
  {
    convnet::Generator gen(1);
    convnet::io::save_safetensors(d / "x.safetensors", {{"x", convnet::Tensor::randn({4, 1, 28, 28}, gen)}});
    const std::string w = (d.path / "bf16" / "best.safetensors").string();  // weights only
    for (const char* p : {"fp32", "bf16"}) {
      const auto r = run_cli(std::string("infer --model lenet5 --weights ") + w + " --input " + (d / "x.safetensors") +
                             " --output " + (d / (std::string("y_") + p + ".safetensors")) + " --precision " + p);
      ASSERT_EQ(r.status, 0) << r.out;
    }
    const auto y32 = convnet::io::load_safetensors(d / "y_fp32.safetensors").tensors.at("logits");
    const auto y16 = convnet::io::load_safetensors(d / "y_bf16.safetensors", true).tensors.at("logits");
    EXPECT_EQ(y16.dtype(), convnet::DType::float32);
    EXPECT_TRUE(all_close(y16, y32, 3e-2, 3e-2));
    EXPECT_FALSE(all_close(y16, y32, 0, 0));  // really computed in bfloat16
  }

  const auto rh = run_cli(
      "train --model lenet5 --epochs 1 --limit-train 4000 --threads 2 --seed 3 --precision fp16 "
      "--out " +
      (d.path / "fp16").string());
  ASSERT_EQ(rh.status, 0) << rh.out;
  EXPECT_NE(rh.out.find("warning: --precision fp16 runs on the reference kernels here (float16 emulated"),
            std::string::npos)
      << rh.out;
  EXPECT_NE(rh.out.find("loss scaling: dynamic, scale 65536"), std::string::npos) << rh.out;
  EXPECT_GE(final_accuracy(rh.out), 0.45) << rh.out;
  std::ifstream log(d.path / "fp16" / "metrics.jsonl");
  std::string line;
  ASSERT_TRUE(std::getline(log, line));
  EXPECT_NE(line.find("\"loss_scale\":65536"), std::string::npos) << line;
  EXPECT_NE(line.find("\"skipped_steps\":0"), std::string::npos) << line;
}

// The messages the hostile-file audit found misleading, by their text.
TEST(Cli, MessagesThatUsedToMislead) {
  // A number check says what it wants, not a range up to 1.8e308 written out.
  auto r = run_cli("bench --batch 0");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("--batch: 0 is not > 0"), std::string::npos) << r.out;
  EXPECT_LT(r.out.size(), 300u) << r.out;
  r = run_cli("eval --checkpoint x -b 0");
  EXPECT_NE(r.out.find("0 is not > 0"), std::string::npos) << r.out;
  r = run_cli("train --image-size 100000");
  EXPECT_NE(r.out.find("--image-size: 100000 is not in [0, 8192]"), std::string::npos) << r.out;
  // More threads than cores: a warning, and the run goes on.
  r = run_cli("summary lenet5 --threads 4096");
  EXPECT_NE(r.status, 0);  // summary has no --threads: refused as usual
  if (fs::exists("/usr/share/datasets/fashion-mnist")) {
    TempDir dir("cli_threads");
    r = run_cli("train --epochs 1 --limit-train 128 --batch-size 64 --workers 0 --threads 1000 --out " + (dir / "run"));
    EXPECT_EQ(r.status, 0) << r.out;
    EXPECT_NE(r.out.find("warning: --threads 1000 is more than the"), std::string::npos) << r.out;
  }

  TempDir dir("cli_mislead");
  // infer: an input with the wrong channel count is the input's fault, not the weights'.
  {
    manual_seed(0);
    auto net = models::create("lenet5", {.num_classes = 10, .in_channels = 1, .input_size = 28});
    io::save_weights(*net, dir / "w.safetensors");
    Generator gen(1);
    io::save_safetensors(dir / "x3.safetensors", {{"x", Tensor::randn({2, 3, 28, 28}, gen)}});
    r = run_cli("infer --model lenet5 --weights " + (dir / "w.safetensors") + " --input " + (dir / "x3.safetensors") +
                " --output " + (dir / "y.safetensors"));
    EXPECT_EQ(r.status, 1) << r.out;
    EXPECT_NE(r.out.find("the input in '" + (dir / "x3.safetensors") + "' has 3 channels"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("give an input of shape (N, 1, H, W)"), std::string::npos) << r.out;
  }
  // idx data whose images the model cannot take: the data is named.
  {
    fs::create_directories(dir / "idx8");
    auto put = [&](const std::string& name, std::vector<uint32_t> header, size_t bytes) {
      std::ofstream f(dir / ("idx8/" + name), std::ios::binary);
      for (uint32_t v : header)
        for (int s = 24; s >= 0; s -= 8) f.put(static_cast<char>((v >> s) & 0xff));
      f << std::string(bytes, '\1');
    };
    put("train-images-idx3-ubyte", {0x803, 20, 8, 8}, 20 * 64);
    put("train-labels-idx1-ubyte", {0x801, 20}, 20);
    put("t10k-images-idx3-ubyte", {0x803, 5, 8, 8}, 5 * 64);
    put("t10k-labels-idx1-ubyte", {0x801, 5}, 5);
    r = run_cli("train --data-dir " + (dir / "idx8") + " --epochs 1 --out " + (dir / "run8"));
    EXPECT_EQ(r.status, 1) << r.out;
    EXPECT_NE(r.out.find("data in " + (dir / "idx8") + " has 1x8x8 images, which lenet5 cannot take"),
              std::string::npos)
        << r.out;
  }
  // predict on a FIFO is refused at once instead of waiting forever; a header claiming
  // 20000x20000 pixels is refused before decoding, and --max-image-pixels names the limit.
  if (fs::exists("/usr/share/datasets/fashion-mnist")) {
    r = run_cli("train --epochs 1 --limit-train 128 --batch-size 64 --workers 0 --threads 2 --out " + (dir / "run"));
    ASSERT_EQ(r.status, 0) << r.out;
    ASSERT_EQ(mkfifo((dir / "pipe.png").c_str(), 0600), 0);
    r = run_command("timeout 20 " + std::string(CONVNET_CLI) + " predict --checkpoint " + (dir / "run") + " " +
                    (dir / "pipe.png"));
    EXPECT_EQ(r.status, 1) << r.out;
    EXPECT_NE(r.out.find("not a regular file"), std::string::npos) << r.out;
    {
      // A PNG whose IHDR says 10000x10000 (gray, 8 bits), then IEND: 45 bytes.
      std::ofstream f(dir / "big.png", std::ios::binary);
      auto be = [&](uint32_t v) {
        for (int s = 24; s >= 0; s -= 8) f.put(static_cast<char>((v >> s) & 0xff));
      };
      f << "\x89PNG\r\n\x1a\n";
      be(13), f << "IHDR", be(10000), be(10000);
      f << std::string("\x08\x00\x00\x00\x00", 5), be(0);
      be(0), f << "IEND", be(0);
    }
    r = run_cli("predict --checkpoint " + (dir / "run") + " " + (dir / "big.png"));
    EXPECT_EQ(r.status, 1) << r.out;
    EXPECT_NE(
        r.out.find("is 10000x10000 = 100000000 pixels, over the limit of 89478485 (--max-image-pixels raises it)"),
        std::string::npos)
        << r.out;
    // An uncompressed BMP claiming the same in 54 bytes is refused as truncated.
    {
      std::ofstream f(dir / "big.bmp", std::ios::binary);
      auto le = [&](uint32_t v, int n) {
        for (int i = 0; i < n; ++i) f.put(static_cast<char>((v >> (8 * i)) & 0xff));
      };
      f << "BM";
      le(54, 4), le(0, 4), le(54, 4), le(40, 4), le(20000, 4), le(20000, 4), le(1, 2), le(24, 2);
      for (int i = 0; i < 6; ++i) le(0, 4);
    }
    r = run_cli("predict --checkpoint " + (dir / "run") + " " + (dir / "big.bmp"));
    EXPECT_EQ(r.status, 1) << r.out;
    EXPECT_NE(r.out.find("BMP of 20000x20000 pixels at 24 bits needs 1200000054 bytes, the file has 54 (truncated)"),
              std::string::npos)
        << r.out;
  }
}
