// classify: loads a checkpoint (a file from the train_lenet example, `convnet train` or
// `convnet finetune`) and prints the three most likely classes of each image file.
//
//   classify CHECKPOINT IMAGE...
//
// Images are PNG, JPEG, BMP, PGM/PPM or GIF; they are converted, resized and normalized
// as the checkpoint's training data was.
#include <convnet/convnet.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <vector>

int main(int argc, char** argv) try {
  if (argc < 3) {
    std::fprintf(stderr, "usage: classify CHECKPOINT IMAGE...\n");
    return 2;
  }
  // The session folds BatchNorm, fuses activations, packs the weights once and keeps the
  // checkpoint's preprocessing for run_image().
  auto session = convnet::InferenceSession::from_checkpoint(argv[1]);
  const std::vector<std::string>& names = session->class_names();
  for (int i = 2; i < argc; ++i) {
    const convnet::Tensor logits = session->run_image(argv[i]);  // (1, classes)
    const float* z = logits.data();
    const int64_t k = logits.size(1);
    const float zmax = *std::max_element(z, z + k);
    std::vector<double> p(k);
    double total = 0;
    for (int64_t j = 0; j < k; ++j) total += p[j] = std::exp(double(z[j] - zmax));
    std::vector<int64_t> order(k);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return p[a] > p[b]; });
    std::printf("%s\n", argv[i]);
    for (int64_t r = 0; r < std::min<int64_t>(3, k); ++r) {
      const int64_t c = order[r];
      std::printf("  %lld. %-20s %6.2f%%\n", (long long)(r + 1),
                  c < (int64_t)names.size() ? names[c].c_str() : "?", 100 * p[c] / total);
    }
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "classify: %s\n", e.what());
  return 1;
}
