// idx datasets (MNIST format, raw or gzip): the first byte splits the input into the images
// file and the labels file.
#include "convnet/data/idx.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t cut = 1 + std::min<size_t>(size - 1, static_cast<size_t>(data[0]) * (size - 1) / 255);
  const std::string im = convnet::fuzz::as_file(data + 1, cut - 1, "-images-idx3-ubyte");
  const std::string lb = convnet::fuzz::as_file(data + cut, size - cut, "-labels-idx1-ubyte");
  return convnet::fuzz::expect_only_errors([&] { convnet::data::load_idx(im, lb); });
}
