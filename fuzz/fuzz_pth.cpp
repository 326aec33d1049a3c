// PyTorch .pth state dicts (io::load_pth: the zip and legacy formats and the restricted
// unpickler), both dtype modes.
#include "convnet/io/pth.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string p = convnet::fuzz::as_file(data, size, ".pth");
  convnet::fuzz::expect_only_errors([&] { convnet::io::load_pth(p); });
  return convnet::fuzz::expect_only_errors([&] { convnet::io::load_pth(p, /*keep_dtypes=*/true); });
}
