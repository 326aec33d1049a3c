// CIFAR-10 / CIFAR-100 binary batches.
#include "convnet/data/cifar.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string p = convnet::fuzz::as_file(data, size, ".bin");
  convnet::fuzz::expect_only_errors([&] { convnet::data::load_cifar_file(p, 1, 0, 10); });
  return convnet::fuzz::expect_only_errors([&] { convnet::data::load_cifar_file(p, 2, 1, 100); });
}
