// Training checkpoints: the safetensors container, the metadata JSON and its validation, and
// the model the checkpoint describes with its weights loaded strictly.
#include "convnet/train/checkpoint.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string p = convnet::fuzz::as_file(data, size, ".ckpt.safetensors");
  return convnet::fuzz::expect_only_errors([&] {
    const auto ck = convnet::train::load_checkpoint(p);
    convnet::train::model_from_checkpoint(ck);
  });
}
