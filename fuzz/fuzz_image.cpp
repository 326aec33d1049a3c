// Image files (PNG, JPEG, BMP, GIF, PNM through stb_image, after convnet's header checks),
// decoded and resized as the data pipeline does.
#include "convnet/data/image.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A 4-megapixel limit keeps each input well under the fuzzer's 5 s and 2 GB limits with
  // ASan on (compressed formats legitimately decode to the full limit from a few bytes).
  static const bool once = (convnet::data::set_max_image_pixels(4'000'000), true);
  (void)once;
  const std::string p = convnet::fuzz::as_file(data, size, ".img");
  return convnet::fuzz::expect_only_errors([&] { convnet::data::load_image(p, 3, 16, "center-crop"); });
}
