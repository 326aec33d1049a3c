#pragma once
// Shared by the fuzz targets (fuzz/*.cpp): the input written to a file (the loaders read
// paths), and the rule of every target: a convnet::Error is the right answer to a bad file;
// anything else (another exception, a crash, a hang, an allocation past the bound) is a bug.
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>

#include "convnet/core/error.h"

namespace convnet::fuzz {

// A file of this process holding `data` (rewritten on each call), named with `suffix`.
inline std::string as_file(const uint8_t* data, size_t size, const std::string& suffix) {
  const std::string path = "/tmp/convnet_fuzz_" + std::to_string(getpid()) + suffix;
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (size && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
  return path;
}

// The message of the last convnet::Error a target caught ("" when the input was accepted):
// the replay prints it for each input.
inline std::string& last_error() {
  static std::string m;
  return m;
}

template <class F>
int expect_only_errors(F&& f) {
  try {
    f();
  } catch (const convnet::Error& e) {
    last_error() = e.what();
  }
  return 0;
}

}  // namespace convnet::fuzz

// The libFuzzer entry point every target defines.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
