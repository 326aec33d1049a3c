// Checkpoints, exact resumption and the divergence guard of `convnet train`, run as a user
// would (the real CLI on the real Fashion-MNIST), plus eval/predict on the checkpoints.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "convnet/data/idx.h"
#include "convnet/io/safetensors.h"
#include "convnet/train/checkpoint.h"
#include "convnet/train/metrics.h"
#include "util/test_util.h"

using namespace convnet;
namespace fs = std::filesystem;

namespace {

const char* kData = "/usr/share/datasets/fashion-mnist";

std::vector<std::string> split_args(const std::string& s) {
  std::istringstream is(s);
  std::vector<std::string> v;
  for (std::string w; is >> w;) v.push_back(w);
  return v;
}

// The CLI as a child process (exec'ed directly, not through a shell, so that a signal
// reaches convnet itself), stdout and stderr into one pipe.
struct Child {
  pid_t pid = -1;
  int fd = -1;
};

Child spawn(const std::string& args, const std::vector<std::pair<std::string, std::string>>& env = {}) {
  int p[2];
  EXPECT_EQ(pipe(p), 0);
  const std::vector<std::string> a = split_args(args);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(p[1], 1);
    dup2(p[1], 2);
    close(p[0]);
    close(p[1]);
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> argv{const_cast<char*>(CONVNET_CLI)};
    for (const auto& s : a) argv.push_back(const_cast<char*>(s.c_str()));
    argv.push_back(nullptr);
    execv(CONVNET_CLI, argv.data());
    _exit(127);
  }
  close(p[1]);
  return {pid, p[0]};
}

struct Result {
  int status = -1;  // exit code, or -signal
  std::string out;
};

Result finish(Child c, std::string out = "") {
  char buf[4096];
  ssize_t n;
  while ((n = read(c.fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  close(c.fd);
  int st = 0;
  waitpid(c.pid, &st, 0);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? -WTERMSIG(st) : -1000, out};
}

Result run(const std::string& args, const std::vector<std::pair<std::string, std::string>>& env = {}) {
  return finish(spawn(args, env));
}

fs::path fresh_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("convnet_e2e_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(d);
  return d;
}

// Every tensor (model weights, optimizer state, EMA's raw weights) byte for byte.
void expect_same_tensors(const fs::path& a, const fs::path& b) {
  const auto A = io::load_safetensors(a.string()), B = io::load_safetensors(b.string());
  ASSERT_EQ(A.tensors.size(), B.tensors.size());
  for (const auto& [name, t] : A.tensors) {
    auto it = B.tensors.find(name);
    ASSERT_NE(it, B.tensors.end()) << name;
    ASSERT_EQ(t.shape(), it->second.shape()) << name;
    EXPECT_EQ(std::memcmp(t.data(), it->second.data(), sizeof(float) * static_cast<size_t>(t.numel())), 0)
        << "tensor '" << name << "' differs between " << a << " and " << b;
  }
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// Well-formed XML-ish: every tag closed in order (self-closing allowed), no stray '<'.
::testing::AssertionResult well_formed(const std::string& s) {
  std::vector<std::string> stack;
  size_t i = 0;
  while ((i = s.find('<', i)) != std::string::npos) {
    const size_t j = s.find('>', i);
    if (j == std::string::npos) return ::testing::AssertionFailure() << "unterminated tag at " << i;
    const std::string tag = s.substr(i + 1, j - i - 1);
    if (tag.find('<') != std::string::npos) return ::testing::AssertionFailure() << "'<' inside tag at " << i;
    if (tag[0] == '?' || tag[0] == '!') {
    } else if (tag[0] == '/') {
      if (stack.empty() || stack.back() != tag.substr(1))
        return ::testing::AssertionFailure()
               << "</" << tag.substr(1) << "> closes " << (stack.empty() ? "nothing" : stack.back());
      stack.pop_back();
    } else if (tag.back() != '/') {
      stack.push_back(tag.substr(0, tag.find_first_of(" \n\t")));
    }
    i = j + 1;
  }
  if (!stack.empty()) return ::testing::AssertionFailure() << "<" << stack.back() << "> is never closed";
  return ::testing::AssertionSuccess();
}

// Number of points of each <polyline> in an SVG.
std::vector<size_t> polyline_points(const std::string& svg) {
  std::vector<size_t> counts;
  const std::regex re("<polyline[^>]*points=\"([^\"]*)\"");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), re); it != std::sregex_iterator(); ++it) {
    std::istringstream is((*it)[1].str());
    size_t n = 0;
    for (std::string w; is >> w;) ++n;
    counts.push_back(n);
  }
  return counts;
}

// A small, fast recipe that still exercises every piece of training state: momentum,
// the one-cycle position, EMA, augmentation draws, label smoothing, clipping, a held-out split.
const std::string kRecipe =
    "train --model lenet5 --limit-train 3000 --val-split 0.1 --epochs 3 --batch-size 32 --threads 2 --workers 2 "
    "--seed 5 --augment crop:2,flip --ema 0.9 --label-smoothing 0.1 --clip-grad-norm 5";

// Runs `recipe` into `b` and, once epoch 2 is under way (10 ms per step, timing only, leave
// about 0.6 s before it ends however fast the machine), sends `sig`; with `twice`, a second
// one 200 ms later (two pending signals of a kind would merge into one). Returns the result
// and whether the signal was sent.
std::pair<Result, bool> signal_in_epoch_2(const std::string& recipe, const fs::path& b, int sig, bool twice = false,
                                          std::vector<std::pair<std::string, std::string>> env = {}) {
  env.emplace_back("CONVNET_TEST_STEP_DELAY_MS", "10");
  Child c = spawn(recipe + " --out " + b.string(), env);
  std::string out;
  char buf[4096];
  ssize_t n;
  bool sent = false;
  while ((n = read(c.fd, buf, sizeof buf)) > 0) {
    out.append(buf, static_cast<size_t>(n));
    if (!sent && out.find("epoch 2: step") != std::string::npos) {
      kill(c.pid, sig);
      if (twice) {
        usleep(200'000);
        kill(c.pid, sig);
      }
      sent = true;
    }
  }
  return {finish(c, out), sent};
}

// Kills the run with SIGKILL once epoch 2 is under way (its epoch-1 checkpoint is then on
// disk) and resumes it.
void kill_in_epoch_2_and_resume(const std::string& recipe, const fs::path& b,
                                std::vector<std::pair<std::string, std::string>> env = {}) {
  auto [rb, killed] = signal_in_epoch_2(recipe, b, SIGKILL, false, env);
  ASSERT_TRUE(killed) << rb.out;
  ASSERT_EQ(rb.status, -SIGKILL) << rb.out;
  {
    const auto ck = train::load_checkpoint(b.string());
    ASSERT_EQ(ck.epoch, 1) << "the kill came too late to land in epoch 2";
    EXPECT_TRUE(ck.has_train_state);
  }
  auto rr = run("train --resume " + b.string() + " --threads 2");
  ASSERT_EQ(rr.status, 0) << rr.out;
  EXPECT_NE(rr.out.find("resumed from"), std::string::npos) << rr.out;
  EXPECT_EQ(rr.out.find("epoch 1/3"), std::string::npos) << "epoch 1 was trained again:\n" << rr.out;
  EXPECT_NE(rr.out.find("epoch 3/3"), std::string::npos) << rr.out;
}

}  // namespace

TEST(Resume, KilledMidEpochAndResumedIsBitIdentical) {
  if (!fs::exists(kData)) GTEST_SKIP() << "dataset-fashion-mnist is not installed at " << kData;
  const fs::path a = fresh_dir("resume_a"), b = fresh_dir("resume_b");

  // (a) uninterrupted
  auto ra = run(kRecipe + " --out " + a.string());
  ASSERT_EQ(ra.status, 0) << ra.out;
  EXPECT_NE(ra.out.find("final test accuracy: "), std::string::npos) << ra.out;
  EXPECT_NE(ra.out.find("validation: 300 images held out"), std::string::npos) << ra.out;

  // (b) killed with SIGKILL once epoch 2 is under way, then resumed.
  kill_in_epoch_2_and_resume(kRecipe, b);

  expect_same_tensors(a / "last.safetensors", b / "last.safetensors");
  expect_same_tensors(a / "best.safetensors", b / "best.safetensors");
  const auto ca = train::load_checkpoint(a.string()), cb = train::load_checkpoint(b.string());
  EXPECT_EQ(ca.epoch, 3);
  EXPECT_EQ(cb.epoch, 3);
  ASSERT_EQ(ca.history.size(), 3u);
  ASSERT_EQ(cb.history.size(), 3u);
  for (size_t e = 0; e < 3; ++e) EXPECT_EQ(ca.history[e].val_acc, cb.history[e].val_acc) << "epoch " << e + 1;
  EXPECT_EQ(std::memcmp(&ca.rng, &cb.rng, sizeof ca.rng.s), 0);

  // The metrics log: one JSON line per epoch, also after the kill.
  for (const fs::path& dir : {a, b}) {
    std::istringstream log(slurp(dir / "metrics.jsonl"));
    int64_t epoch = 0;
    for (std::string line; std::getline(log, line);) {
      const auto j = nlohmann::json::parse(line);
      EXPECT_EQ(j.at("epoch").get<int64_t>(), ++epoch) << line;
      for (const char* k : {"train_loss", "train_acc", "val_loss", "val_acc", "lr", "images_per_second", "seconds"})
        EXPECT_TRUE(j.contains(k)) << k << " missing in " << line;
    }
    EXPECT_EQ(epoch, 3) << dir;
    // The plots: standalone SVG, one polyline point per epoch.
    for (const char* f : {"loss.svg", "accuracy.svg", "lr.svg"}) {
      const std::string svg = slurp(dir / f);
      EXPECT_NE(svg.find("<svg xmlns=\"http://www.w3.org/2000/svg\""), std::string::npos) << f;
      EXPECT_TRUE(well_formed(svg)) << f;
      const auto counts = polyline_points(svg);
      ASSERT_EQ(counts.size(), std::string(f) == "lr.svg" ? 1u : 2u) << f;
      for (size_t k : counts) EXPECT_EQ(k, 3u) << f;
    }
  }

  // eval: top-1/top-5, per-class accuracy, the confusion matrix as text and PNG.
  const fs::path png = a / "cm.png";
  auto re =
      run("eval --checkpoint " + (a / "best.safetensors").string() + " --threads 2 --confusion-png " + png.string());
  ASSERT_EQ(re.status, 0) << re.out;
  for (const char* s : {"top-1 accuracy: ", "top-5 accuracy: ", "per-class accuracy", "Ankle boot",
                        "confusion matrix (rows: true class", "10000 images"})
    EXPECT_NE(re.out.find(s), std::string::npos) << s << "\n" << re.out;
  const std::string png_bytes = slurp(png);
  ASSERT_GT(png_bytes.size(), 8u);
  EXPECT_EQ(png_bytes.substr(1, 3), "PNG");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(re.out, m, std::regex("top-1 accuracy: ([0-9.]+)%")));
  EXPECT_GT(std::stod(m[1]), 50.0) << re.out;

  // predict: an image file (binary PGM) of test image 0, preprocessed as in training, gives
  // the probabilities the model gives the normalized dataset image.
  const auto test = data::load_fashion_mnist(kData, false);
  const fs::path img = a / "boot.pgm";
  {
    std::ofstream f(img, std::ios::binary);
    f << "P5\n28 28\n255\n";
    for (int i = 0; i < 28 * 28; ++i) f.put(static_cast<char>(std::lround(test.images.data()[i] * 255)));
  }
  auto rp = run("predict --checkpoint " + (a / "best.safetensors").string() + " " + img.string());
  ASSERT_EQ(rp.status, 0) << rp.out;
  EXPECT_NE(rp.out.find("5. "), std::string::npos) << rp.out;
  const auto best = train::load_checkpoint((a / "best.safetensors").string());
  auto net = train::model_from_checkpoint(best);
  Tensor x = Tensor::empty({1, 1, 28, 28});
  for (int i = 0; i < 28 * 28; ++i) x.data()[i] = (test.images.data()[i] - best.mean[0]) / best.std[0];
  const Tensor p = train::predict_proba(*net, x);
  const int64_t top = std::max_element(p.data(), p.data() + 10) - p.data();
  char expect[128];
  std::snprintf(expect, sizeof expect, "1. %-24s %7.3f%%", best.class_names[top].c_str(), 100.0 * p.data()[top]);
  EXPECT_NE(rp.out.find(expect), std::string::npos) << expect << "\n" << rp.out;

  fs::remove_all(a);
  fs::remove_all(b);
}

TEST(Resume, CrashWhileWritingACheckpointKeepsTheLastGoodOne) {
  if (!fs::exists(kData)) GTEST_SKIP() << "dataset-fashion-mnist is not installed at " << kData;
  const fs::path d = fresh_dir("crash");
  const std::string args =
      "train --model lenet5 --limit-train 1000 --epochs 2 --threads 2 --seed 1 --out " + d.string();
  // The writer of epoch 2's last.safetensors dies 5000 bytes into its temporary file.
  auto r = run(args, {{"CONVNET_TEST_CRASH_SAVING", "2:5000:last.safetensors"}});
  ASSERT_EQ(r.status, 86) << r.out;
  EXPECT_TRUE(fs::exists(d / "last.safetensors.tmp"));
  EXPECT_EQ(fs::file_size(d / "last.safetensors.tmp"), 5000u);
  const auto ck = train::load_checkpoint(d.string());  // the real name still holds epoch 1, whole
  EXPECT_EQ(ck.epoch, 1);
  auto rr = run("train --resume " + d.string());
  ASSERT_EQ(rr.status, 0) << rr.out;
  EXPECT_EQ(train::load_checkpoint(d.string()).epoch, 2);
  EXPECT_FALSE(fs::exists(d / "last.safetensors.tmp"));
  fs::remove_all(d);
}

TEST(Resume, DivergenceStopsNamingTheStepAndTheLastGoodCheckpoint) {
  if (!fs::exists(kData)) GTEST_SKIP() << "dataset-fashion-mnist is not installed at " << kData;
  const fs::path d = fresh_dir("nan");
  auto r = run("train --model lenet5 --limit-train 1000 --epochs 3 --threads 2 --out " + d.string(),
               {{"CONVNET_TEST_NAN_AT", "2:3"}});
  EXPECT_EQ(r.status, 1) << r.out;
  for (const std::string& s :
       std::vector<std::string>{"training diverged at epoch 2, step 3 of 8", "the loss is nan",
                                (d / "last.safetensors").string() + " (epoch 1), left intact", "--lr"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;
  EXPECT_EQ(train::load_checkpoint(d.string()).epoch, 1);
  fs::remove_all(d);
}

// The other half of the training state: Adam's moments and step count, the warmup's
// position, and the MixUp/CutMix draws (mixing ratio, box, which of the two per batch).
TEST(Resume, AdamMixupCutmixWarmupResumedIsBitIdentical) {
  if (!fs::exists(kData)) GTEST_SKIP() << "dataset-fashion-mnist is not installed at " << kData;
  const fs::path a = fresh_dir("resume_adam_a"), b = fresh_dir("resume_adam_b");
  const std::string recipe =
      "train --model lenet5 --limit-train 2000 --epochs 3 --batch-size 32 --threads 2 --workers 2 --seed 9 "
      "--optimizer adam --lr 0.002 --warmup 1 --schedule cosine --mixup 0.2 --cutmix 1.0";
  auto ra = run(recipe + " --out " + a.string());
  ASSERT_EQ(ra.status, 0) << ra.out;
  kill_in_epoch_2_and_resume(recipe, b);
  expect_same_tensors(a / "last.safetensors", b / "last.safetensors");
  const auto ca = train::load_checkpoint(a.string()), cb = train::load_checkpoint(b.string());
  ASSERT_EQ(ca.history.size(), 3u);
  ASSERT_EQ(cb.history.size(), 3u);
  for (size_t e = 0; e < 3; ++e) {
    EXPECT_EQ(ca.history[e].train_loss, cb.history[e].train_loss) << "epoch " << e + 1;
    EXPECT_EQ(ca.history[e].val_acc, cb.history[e].val_acc) << "epoch " << e + 1;
    EXPECT_EQ(ca.history[e].lr, cb.history[e].lr) << "epoch " << e + 1;
  }
  EXPECT_EQ(ca.config.optim.optimizer, "adam");
  fs::remove_all(a);
  fs::remove_all(b);
}

// Mixed precision resumes bit-identically too: a bfloat16 ResNet (channels-last activations,
// batch norm, the fast bf16 kernels), and a float16 run whose loss scale moved (an overflow
// injected in epoch 1 halves it and skips that step): the scale and its growth count come
// back from the checkpoint.
TEST(Resume, MixedPrecisionRunsResumeBitIdentically) {
  if (!fs::exists(kData)) GTEST_SKIP() << "dataset-fashion-mnist is not installed at " << kData;
  struct Case {
    const char* tag;
    std::string recipe;
    std::vector<std::pair<std::string, std::string>> env;
  };
  const std::vector<Case> cases = {
      {"bf16",
       "train --model resnet20_b --limit-train 1500 --val-split 0.1 --epochs 3 --batch-size 50 --threads 2 "
       "--workers 2 --seed 4 --augment crop:2,flip --precision bf16 --limit-test 500",
       {}},
      {"fp16",
       "train --model lenet5 --limit-train 1200 --val-split 0.1 --epochs 3 --batch-size 50 --threads 2 --workers 2 "
       "--seed 6 --precision fp16 --limit-test 500",
       {{"CONVNET_TEST_INF_GRAD_AT", "1:3"}}},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.tag);
    const fs::path a = fresh_dir(std::string("resume_") + k.tag + "_a"),
                   b = fresh_dir(std::string("resume_") + k.tag + "_b");
    auto ra = run(k.recipe + " --out " + a.string(), k.env);
    ASSERT_EQ(ra.status, 0) << ra.out;
    kill_in_epoch_2_and_resume(k.recipe, b, k.env);
    expect_same_tensors(a / "last.safetensors", b / "last.safetensors");
    const auto ca = train::load_checkpoint(a.string()), cb = train::load_checkpoint(b.string());
    ASSERT_EQ(ca.history.size(), 3u);
    ASSERT_EQ(cb.history.size(), 3u);
    for (size_t e = 0; e < 3; ++e) {
      EXPECT_EQ(ca.history[e].train_loss, cb.history[e].train_loss) << "epoch " << e + 1;
      EXPECT_EQ(ca.history[e].val_acc, cb.history[e].val_acc) << "epoch " << e + 1;
      EXPECT_EQ(ca.history[e].loss_scale, cb.history[e].loss_scale) << "epoch " << e + 1;
    }
    EXPECT_EQ(ca.loss_scale, cb.loss_scale);
    EXPECT_EQ(ca.loss_scale_growth_tracker, cb.loss_scale_growth_tracker);
    if (std::string(k.tag) == "fp16") {
      // The injected overflow: skipped, not fatal; the scale halved once and never grew back
      // (2000 clean steps are needed).
      EXPECT_EQ(ca.history[0].skipped_steps, 1);
      EXPECT_EQ(ca.history[1].skipped_steps, 0);
      EXPECT_EQ(ca.loss_scale, 32768.0);
      EXPECT_EQ(ca.loss_scale_growth_tracker, 3 * 22 - 3);  // 22 steps an epoch; clean since step 3
      EXPECT_GT(ca.history[2].val_acc, 0.3);
    } else {
      EXPECT_EQ(ca.loss_scale, 0.0);  // no loss scaling in bf16
      EXPECT_GT(ca.history[2].val_acc, 0.5);
    }
    fs::remove_all(a);
    fs::remove_all(b);
  }
}

// The gradient norm is checked every step, not only with --clip-grad-norm: an Inf gradient
// under a finite loss stops the run before the update, and the weights of the last
// checkpoint are those of epoch 1.
TEST(Resume, InfiniteGradientStopsTheRunBeforeTheStepWithoutClipping) {
  if (!fs::exists(kData)) GTEST_SKIP() << "dataset-fashion-mnist is not installed at " << kData;
  const fs::path d = fresh_dir("infgrad");
  auto r = run("train --model lenet5 --limit-train 1000 --epochs 3 --threads 2 --out " + d.string(),
               {{"CONVNET_TEST_INF_GRAD_AT", "2:5"}});
  EXPECT_EQ(r.status, 1) << r.out;
  for (const std::string& s :
       std::vector<std::string>{"training diverged at epoch 2, step 5 of 8", "the gradient norm is inf",
                                (d / "last.safetensors").string() + " (epoch 1), left intact"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;
  EXPECT_EQ(r.out.find("the loss is"), std::string::npos) << r.out;
  EXPECT_EQ(train::load_checkpoint(d.string()).epoch, 1);
  fs::remove_all(d);
}

TEST(Resume, MismatchedMissingAndCorruptCheckpointsAreNamed) {
  if (!fs::exists(kData)) GTEST_SKIP() << "dataset-fashion-mnist is not installed at " << kData;
  const fs::path d = fresh_dir("mismatch");
  auto r = run("train --model lenet5 --limit-train 500 --epochs 1 --threads 2 --out " + d.string());
  ASSERT_EQ(r.status, 0) << r.out;
  const std::string last = (d / "last.safetensors").string();

  r = run("train --resume " + d.string() + " --model resnet20");
  EXPECT_EQ(r.status, 1);
  for (const char* s : {"--model resnet20 does not match checkpoint", "last.safetensors", "lenet5"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;

  // Weights that do not fit the model the metadata names.
  auto ck = train::load_checkpoint(last);
  ck.model_args.num_classes = 7;
  ck.class_names.resize(7);  // consistent metadata: only the weights are off
  const std::string bad = (d / "bad.safetensors").string();
  train::save_checkpoint(bad, ck);
  r = run("eval --checkpoint " + bad);
  EXPECT_EQ(r.status, 1);
  for (const char* s : {"bad.safetensors", "do not fit model 'lenet5'", "shape"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;

  r = run("eval --checkpoint " + (d / "nope.safetensors").string());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("nope.safetensors' does not exist"), std::string::npos) << r.out;

  const std::string corrupt = (d / "corrupt.safetensors").string();
  {
    std::string bytes = slurp(last);
    std::ofstream(corrupt, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  }
  for (const std::string& cmd :
       std::vector<std::string>{"eval --checkpoint ", "predict --checkpoint ", "train --resume "}) {
    r = run(cmd + corrupt + (cmd[0] == 'p' ? " x.png" : ""));
    EXPECT_EQ(r.status, 1) << cmd;
    EXPECT_NE(r.out.find("corrupt.safetensors"), std::string::npos) << cmd << "\n" << r.out;
  }
  // A plain weights file is not a training checkpoint.
  io::save_safetensors((d / "plain.safetensors").string(), ck.weights);
  r = run("eval --checkpoint " + (d / "plain.safetensors").string());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("plain.safetensors' is not a convnet training checkpoint"), std::string::npos) << r.out;
  fs::remove_all(d);
}

TEST(Resume, HelpListsTheWorkflowOptions) {
  auto r = run("--help");
  for (const char* s : {"eval", "predict"}) EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;
  r = run("train --help");
  EXPECT_EQ(r.status, 0);
  for (const char* s : {"--dataset", "--val-split", "--augment", "--mixup", "--cutmix", "--label-smoothing", "--warmup",
                        "--ema", "--tta", "--clip-grad-norm", "--out", "--resume", "--classes", "--image-size"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;
  r = run("eval --help");
  EXPECT_EQ(r.status, 0);
  for (const char* s : {"--checkpoint", "--split", "--confusion-png", "--tta"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;
  r = run("predict --help");
  EXPECT_EQ(r.status, 0);
  for (const char* s : {"--checkpoint", "--top", "images"}) EXPECT_NE(r.out.find(s), std::string::npos) << s;
  r = run("eval");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("--checkpoint"), std::string::npos) << r.out;
}

namespace {
// A tiny idx dataset (the first n_train / n_test Fashion-MNIST images) for models too slow
// to evaluate on the full test set in a test.
void write_idx(const fs::path& dir, const char* prefix, const data::Dataset& d, int64_t n) {
  auto be32 = [](std::ofstream& f, uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) f.put(static_cast<char>((v >> s) & 0xff));
  };
  std::ofstream im(dir / (std::string(prefix) + "-images-idx3-ubyte"), std::ios::binary);
  be32(im, 0x803), be32(im, static_cast<uint32_t>(n)), be32(im, 28), be32(im, 28);
  for (int64_t i = 0; i < n * 28 * 28; ++i) im.put(static_cast<char>(std::lround(d.images.data()[i] * 255)));
  std::ofstream lb(dir / (std::string(prefix) + "-labels-idx1-ubyte"), std::ios::binary);
  be32(lb, 0x801), be32(lb, static_cast<uint32_t>(n));
  for (int64_t i = 0; i < n; ++i) lb.put(static_cast<char>(d.labels[i]));
}
}  // namespace

TEST(Resume, RestoresDropoutDrawsAndBatchNormStatistics) {
  if (!fs::exists(kData)) GTEST_SKIP() << "dataset-fashion-mnist is not installed at " << kData;
  const fs::path data_dir = fresh_dir("tiny_idx");
  fs::create_directories(data_dir);
  write_idx(data_dir, "train", data::load_fashion_mnist(kData, true), 200);
  write_idx(data_dir, "t10k", data::load_fashion_mnist(kData, false), 50);
  // alexnet_cifar draws dropout masks from the default generator; resnet20 has BatchNorm
  // running statistics. A constant rate makes a 1-epoch run the first half of a 2-epoch
  // one, so resuming it with --epochs 2 must reproduce the 2-epoch run exactly.
  for (const std::string& model : std::vector<std::string>{"alexnet_cifar", "resnet20"}) {
    const fs::path a = fresh_dir("drop_a"), b = fresh_dir("drop_b");
    const std::string args = "train --dataset idx --data-dir " + data_dir.string() + " --model " + model +
                             " --schedule constant --lr 0.02 --batch-size 20 --threads 2 --seed 3";
    auto r = run(args + " --epochs 2 --out " + a.string());
    ASSERT_EQ(r.status, 0) << r.out;
    r = run(args + " --epochs 1 --out " + b.string());
    ASSERT_EQ(r.status, 0) << r.out;
    r = run("train --resume " + b.string() + " --epochs 2 --threads 2");
    ASSERT_EQ(r.status, 0) << r.out;
    EXPECT_NE(r.out.find("epoch 2/2"), std::string::npos) << r.out;
    expect_same_tensors(a / "last.safetensors", b / "last.safetensors");
    const auto ra = train::load_checkpoint(a.string()).rng, rb = train::load_checkpoint(b.string()).rng;
    EXPECT_EQ(ra.s, rb.s) << model;
    fs::remove_all(a);
    fs::remove_all(b);
  }
  fs::remove_all(data_dir);
}


// Ctrl-C finishes the step, writes a checkpoint that records the position inside the epoch,
// says how to resume, and the resumed run ends bit-identical to an uninterrupted one.
TEST(Signals, SigintWritesAResumableCheckpointMidEpochAndResumesBitIdentical) {
  if (!fs::exists(kData)) GTEST_SKIP() << "dataset-fashion-mnist is not installed at " << kData;
  const fs::path a = fresh_dir("sigint_a"), b = fresh_dir("sigint_b");
  auto ra = run(kRecipe + " --out " + a.string());
  ASSERT_EQ(ra.status, 0) << ra.out;

  auto [rb, sent] = signal_in_epoch_2(kRecipe, b, SIGINT);
  ASSERT_TRUE(sent) << rb.out;
  EXPECT_EQ(rb.status, 130) << rb.out;
  EXPECT_NE(rb.out.find("stopping after this step"), std::string::npos) << rb.out;
  EXPECT_NE(rb.out.find("convnet: stopped in epoch 2 after step"), std::string::npos) << rb.out;
  EXPECT_NE(rb.out.find("continue with: convnet train --resume " + b.string()), std::string::npos) << rb.out;
  {
    const auto ck = train::load_checkpoint(b.string());
    EXPECT_EQ(ck.epoch, 1);
    EXPECT_GT(ck.partial.step, 0) << "the checkpoint records the steps of epoch 2 done";
    EXPECT_TRUE(ck.has_train_state);
  }
  auto rr = run("train --resume " + b.string() + " --threads 2");
  ASSERT_EQ(rr.status, 0) << rr.out;
  EXPECT_NE(rr.out.find("steps of epoch 2 (their batches are skipped)"), std::string::npos) << rr.out;
  expect_same_tensors(a / "last.safetensors", b / "last.safetensors");
  expect_same_tensors(a / "best.safetensors", b / "best.safetensors");
  fs::remove_all(a);
  fs::remove_all(b);
}

TEST(Signals, SigtermStopsTheSameWay) {
  if (!fs::exists(kData)) GTEST_SKIP() << "dataset-fashion-mnist is not installed at " << kData;
  const fs::path b = fresh_dir("sigterm");
  auto [rb, sent] = signal_in_epoch_2(kRecipe, b, SIGTERM);
  ASSERT_TRUE(sent) << rb.out;
  EXPECT_EQ(rb.status, 128 + SIGTERM) << rb.out;
  EXPECT_NE(rb.out.find("convnet: stopped in epoch 2 after step"), std::string::npos) << rb.out;
  EXPECT_GT(train::load_checkpoint(b.string()).partial.step, 0);
  fs::remove_all(b);
}

// A second Ctrl-C exits at once, whatever the trainer is doing (perhaps writing the
// checkpoint): the last checkpoint on disk is still a complete, loadable one.
TEST(Signals, SecondSigintExitsAtOnceAndLeavesTheLastCheckpointIntact) {
  if (!fs::exists(kData)) GTEST_SKIP() << "dataset-fashion-mnist is not installed at " << kData;
  const fs::path b = fresh_dir("sigint2");
  // The stop takes 3 s (a test hook), so the second signal lands inside it.
  auto [rb, sent] = signal_in_epoch_2(kRecipe, b, SIGINT, /*twice=*/true, {{"CONVNET_TEST_STOP_DELAY_MS", "3000"}});
  ASSERT_TRUE(sent) << rb.out;
  EXPECT_EQ(rb.status, 130) << rb.out;
  EXPECT_EQ(rb.out.find("stopped in epoch"), std::string::npos) << "it did not wait for the slow stop:\n" << rb.out;
  EXPECT_NE(rb.out.find("second interrupt: exiting now"), std::string::npos) << rb.out;
  const auto ck = train::load_checkpoint(b.string());  // throws if it were damaged
  EXPECT_EQ(ck.epoch, 1);
  fs::remove_all(b);
}

// A full disk while writing the checkpoint of epoch 2 (write fails with ENOSPC, from an
// LD_PRELOAD shim): the run stops, says so, and epoch 1's checkpoint is intact; no
// temporary file is left behind.
TEST(Signals, FullDiskKeepsThePreviousCheckpointAndSaysSo) {
  if (!fs::exists(kData)) GTEST_SKIP() << "dataset-fashion-mnist is not installed at " << kData;
  const fs::path b = fresh_dir("enospc");
  // Under ASan (make test-sanitize) the preloaded shim comes before the ASan runtime, which
  // ASan refuses unless told that the order is intended.
  const char* asan = std::getenv("ASAN_OPTIONS");
  const std::string asan_options = std::string(asan ? asan : "") + (asan ? ":" : "") + "verify_asan_link_order=0";
  auto r = run(kRecipe + " --out " + b.string(),
               {{"LD_PRELOAD", CONVNET_ENOSPC_SHIM}, {"CONVNET_TEST_ENOSPC_AT", "2"}, {"ASAN_OPTIONS", asan_options}});
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("No space left on device"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("the previous checkpoint " + (b / "last.safetensors").string() + " (epoch 1) is intact"),
            std::string::npos)
      << r.out;
  const auto ck = train::load_checkpoint(b.string());
  EXPECT_EQ(ck.epoch, 1);
  EXPECT_FALSE(fs::exists(b / "last.safetensors.tmp"));
  fs::remove_all(b);
}
