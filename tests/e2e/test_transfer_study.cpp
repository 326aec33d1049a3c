// The transfer-learning study of README.md: `make transfer-study` (scripts/transfer_study.sh
// --update-docs) writes its table to docs/transfer_study.md, and README.md shows exactly that
// file between its markers; and the script, run small (one seed, one epoch each), writes a
// results table with the same rows.
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "util/test_util.h"

using namespace convnet::testing;
namespace fs = std::filesystem;

namespace {
const char* kData = "/usr/share/datasets/fashion-mnist";

std::string read(const fs::path& p) {
  std::ifstream f(p);
  EXPECT_TRUE(f.good()) << "cannot read " << p;
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// The first column of each body row of a Markdown table.
std::vector<std::string> row_names(const std::string& table) {
  std::vector<std::string> names;
  std::istringstream in(table);
  std::string line;
  for (int i = 0; std::getline(in, line); ++i)
    if (i >= 2 && line.rfind("| ", 0) == 0) names.push_back(line.substr(2, line.find(" |", 2) - 2));
  return names;
}
}  // namespace

TEST(TransferStudy, ReadmeTableIsTheResultsFile) {
  const fs::path src = CONVNET_SOURCE_DIR;
  const std::string readme = read(src / "README.md"), results = read(src / "docs" / "transfer_study.md");
  const std::string b = "<!-- transfer-study results: begin -->\n", e = "<!-- transfer-study results: end -->";
  const size_t i = readme.find(b), j = readme.find(e);
  ASSERT_NE(i, std::string::npos) << "README.md lost its transfer-study begin marker";
  ASSERT_NE(j, std::string::npos) << "README.md lost its transfer-study end marker";
  EXPECT_EQ(readme.substr(i + b.size(), j - i - b.size()), results)
      << "README.md's table differs from docs/transfer_study.md: run make transfer-study";
  EXPECT_EQ(row_names(results).size(), 4u) << results;
}

TEST(TransferStudy, ScriptWritesItsResultsTable) {
  if (!fs::exists(kData)) GTEST_SKIP() << "dataset-fashion-mnist is not installed at " << kData;
  TempDir out("transfer_study");
  const std::string cmd = std::string(CONVNET_SOURCE_DIR) + "/scripts/transfer_study.sh --build " +
                          fs::path(CONVNET_CLI).parent_path().string() + " --out " + out.path.string() +
                          " --seeds 0 --pretrain-epochs 1 --epochs 1 --threads 2";
  const auto r = run_command(cmd);
  ASSERT_EQ(r.status, 0) << r.out;
  const std::string table = read(out.path / "results.md");
  EXPECT_EQ(row_names(table), row_names(read(fs::path(CONVNET_SOURCE_DIR) / "docs" / "transfer_study.md")));
  // Every row: an accuracy for seed 0 and the mean, as percentages.
  const std::regex row(R"(^\| [^|]+ \| [0-9,]+( \(all\))? \| ([0-9.]+)% \| ([0-9.]+)% \|$)");
  std::istringstream in(table);
  std::string line;
  int rows = 0;
  for (int i = 0; std::getline(in, line); ++i) {
    if (i < 2 || line.rfind("| ", 0) != 0) continue;
    std::smatch m;
    ASSERT_TRUE(std::regex_match(line, m, row)) << line;
    const double acc = std::stod(m[2]), mean = std::stod(m[3]);
    EXPECT_GT(acc, 20.0) << line;  // better than chance (5 classes) after one epoch
    EXPECT_LE(acc, 100.0) << line;
    EXPECT_NEAR(mean, acc, 0.006) << line;  // one seed: the mean is that seed's accuracy
    ++rows;
  }
  EXPECT_EQ(rows, 4);
  EXPECT_NE(table.find("The pretrained LeNet-5 reaches "), std::string::npos) << table;
}
