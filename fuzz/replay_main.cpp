// The fuzz targets without libFuzzer (every build): runs LLVMFuzzerTestOneInput on each file
// given, or each file of each directory given, and reports how many. Any input that ever
// crashed a target lives in fuzz/regressions/<target>/ and is replayed by ctest this way.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz_common.h"

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  for (int i = 1; i < argc; ++i) {
    if (fs::is_directory(argv[i])) {
      for (const auto& e : fs::recursive_directory_iterator(argv[i]))
        if (e.is_regular_file()) files.push_back(e.path());
    } else if (fs::exists(argv[i])) {
      files.push_back(argv[i]);
    }
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    convnet::fuzz::last_error().clear();
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    const std::string& m = convnet::fuzz::last_error();
    std::printf("%s: %s\n", f.filename().c_str(),
                m.empty() ? "accepted" : m.substr(0, m.find('\n')).substr(0, 200).c_str());
  }
  std::printf("%s: %zu inputs replayed, every one answered by a convnet::Error or accepted\n", argv[0], files.size());
  return 0;
}
