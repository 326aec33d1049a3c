// safetensors weights and input batches (io::load_safetensors, both dtype modes).
#include "convnet/io/safetensors.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string p = convnet::fuzz::as_file(data, size, ".safetensors");
  convnet::fuzz::expect_only_errors([&] { convnet::io::load_safetensors(p); });
  return convnet::fuzz::expect_only_errors([&] { convnet::io::load_safetensors(p, /*keep_dtypes=*/true); });
}
