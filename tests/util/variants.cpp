#include "util/variants.h"

#include <fstream>
#include <regex>
#include <sstream>

namespace convnet::testing {

std::map<std::string, KernelKind> readme_kernel_table() {
  std::ifstream f(std::string(CONVNET_SOURCE_DIR) + "/README.md");
  EXPECT_TRUE(f.good()) << "cannot read README.md in " << CONVNET_SOURCE_DIR;
  std::map<std::string, KernelKind> table;
  std::string line;
  // Rows of the form: | `key`, `key`, ... | fast: ... | (or "threaded reference", "reference")
  const std::regex row(R"(^\|\s*(`[a-z0-9_]+`(?:\s*,\s*`[a-z0-9_]+`)*)\s*\|\s*(fast|threaded reference|reference)\b)");
  const std::regex key("`([a-z0-9_]+)`");
  while (std::getline(f, line)) {
    std::smatch m;
    if (!std::regex_search(line, m, row)) continue;
    const std::string keys = m[1], kind = m[2];
    const KernelKind k = kind == "fast"                 ? KernelKind::Fast
                         : kind == "threaded reference" ? KernelKind::ThreadedRef
                                                        : KernelKind::Reference;
    for (auto it = std::sregex_iterator(keys.begin(), keys.end(), key); it != std::sregex_iterator(); ++it) {
      const std::string name = (*it)[1];
      EXPECT_EQ(table.count(name), 0u) << "README.md lists kernel key '" << name << "' twice";
      table[name] = k;
    }
  }
  return table;
}

namespace {
std::map<std::string, int>& compared() {
  static std::map<std::string, int> m;
  return m;
}
}  // namespace

void count_compared(const kernels::KernelBase& key) {
  ++compared()[key.name()];
}

void expect_compared(const std::vector<const kernels::KernelBase*>& keys) {
  const auto table = readme_kernel_table();
  for (const auto* key : keys) {
    const std::string k = key->name();
    auto it = table.find(k);
    EXPECT_NE(it, table.end()) << "kernel key '" << k << "' is not in README.md's Backends table";
    if (it == table.end() || it->second == KernelKind::Reference) continue;
    EXPECT_GT(compared()[k], 0) << "no non-reference kernel of '" << k
                                << "' was compared with the reference, but README.md says it has one";
  }
}

}  // namespace convnet::testing
