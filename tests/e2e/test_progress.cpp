// The progress display of train and eval (tools/convnet/progress.h): an updating line under
// a pseudo-terminal (`script` gives the command one), periodic lines when stdout is a pipe,
// --quiet and --log-format json.
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "util/test_util.h"

using namespace convnet::testing;
namespace fs = std::filesystem;

namespace {
const char* kData = "/usr/share/datasets/fashion-mnist";

std::string train_args(const std::string& out) {
  return "train --model lenet5 --epochs 2 --limit-train 2560 --batch-size 64 --workers 0 --threads 2 --out " + out;
}

// The command run with its stdout and stderr on a pseudo-terminal.
CommandResult under_pty(const std::string& args) {
  return run_command("script -qfec '" + std::string(CONVNET_CLI) + " " + args + "' /dev/null");
}

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + what.size())) ++n;
  return n;
}

std::string read(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}
}  // namespace

TEST(Progress, TerminalGetsOneUpdatingLinePerEpoch) {
  if (!fs::exists(kData)) GTEST_SKIP() << "dataset-fashion-mnist is not installed at " << kData;
  if (!fs::exists("/usr/bin/script")) GTEST_SKIP() << "script (bsdutils) is missing";
  TempDir dir("progress_tty");
  const auto r = under_pty(train_args(dir / "run"));
  ASSERT_EQ(r.status, 0) << r.out;
  // Redraws start with a carriage return and name the epoch of the run, the bar, the step,
  // the loss, the speed and both ETAs (the run's only while epochs remain).
  EXPECT_GE(count(r.out, "\repoch 1/2 ["), 1u) << r.out;
  EXPECT_GE(count(r.out, "\repoch 2/2 ["), 1u) << r.out;
  EXPECT_NE(r.out.find("/40  loss "), std::string::npos) << r.out;  // 2560 / 64 = 40 steps
  EXPECT_NE(r.out.find(" img/s  ETA "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" (run "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\x1b[K"), std::string::npos) << "each redraw erases the rest of the line";
  // The epoch summaries replace the progress line, and no periodic lines are printed.
  EXPECT_NE(r.out.find("\r\x1b[Kepoch 1/2  train loss"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("epoch 1: step"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("final test accuracy"), std::string::npos) << r.out;

  const auto e = under_pty("eval --checkpoint " + (dir / "run") + " --threads 2");
  ASSERT_EQ(e.status, 0) << e.out;
  EXPECT_NE(e.out.find("\reval ["), std::string::npos) << e.out;
  EXPECT_NE(e.out.find("10000/10000"), std::string::npos) << e.out;
  EXPECT_NE(e.out.find("top-1 accuracy"), std::string::npos) << e.out;
}

TEST(Progress, PipeGetsPeriodicLinesQuietOnlySummariesJsonTheMetricsLines) {
  if (!fs::exists(kData)) GTEST_SKIP() << "dataset-fashion-mnist is not installed at " << kData;
  TempDir dir("progress_pipe");
  const auto plain = run_cli(train_args(dir / "plain"));
  ASSERT_EQ(plain.status, 0) << plain.out;
  EXPECT_EQ(plain.out.find('\r'), std::string::npos) << "no carriage returns when stdout is not a terminal";
  EXPECT_NE(plain.out.find("epoch 1: step 10/40 loss "), std::string::npos) << plain.out;
  EXPECT_NE(plain.out.find("training lenet5 on fashion-mnist"), std::string::npos) << plain.out;

  const auto quiet = run_cli(train_args(dir / "quiet") + " --quiet");
  ASSERT_EQ(quiet.status, 0) << quiet.out;
  EXPECT_EQ(quiet.out.find("training lenet5"), std::string::npos) << quiet.out;
  EXPECT_EQ(quiet.out.find(": step"), std::string::npos) << quiet.out;
  EXPECT_EQ(quiet.out.find("checkpoints:"), std::string::npos) << quiet.out;
  EXPECT_EQ(count(quiet.out, "train loss"), 2u) << quiet.out;
  EXPECT_NE(quiet.out.find("final test accuracy"), std::string::npos) << quiet.out;
  EXPECT_EQ(count(quiet.out, "\n"), 3u) << "two epoch lines and the result:\n" << quiet.out;

  // JSON: stdout alone (stderr to /dev/null) is exactly the run's metrics.jsonl.
  // (run_command merges stderr into stdout; the subshell drops it first.)
  const auto json =
      run_command("(" + std::string(CONVNET_CLI) + " " + train_args(dir / "json") + " --log-format json 2>/dev/null)");
  ASSERT_EQ(json.status, 0) << json.out;
  EXPECT_EQ(json.out, read(dir / "json/metrics.jsonl"));
  std::istringstream lines(json.out);
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    const auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j.at("epoch").get<int>(), ++n);
    EXPECT_TRUE(j.contains("val_acc") && j.contains("images_per_second")) << line;
  }
  EXPECT_EQ(n, 2);

  const auto ev = run_command("(" + std::string(CONVNET_CLI) + " eval --checkpoint " + (dir / "json") +
                              " --threads 2 --log-format json 2>/dev/null)");
  ASSERT_EQ(ev.status, 0) << ev.out;
  const auto j = nlohmann::json::parse(ev.out);
  EXPECT_EQ(j.at("images").get<int>(), 10000);
  EXPECT_GT(j.at("top1").get<double>(), 0.5);
  EXPECT_EQ(j.at("per_class_accuracy").size(), 10u);

  const auto bad = run_cli("train --log-format xml");
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.out.find("xml"), std::string::npos) << bad.out;
}
