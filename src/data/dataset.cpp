#include "convnet/data/dataset.h"

#include "convnet/core/error.h"

namespace convnet::data {

void normalize(Dataset& d, const std::vector<float>& mean, const std::vector<float>& std) {
  CONVNET_CHECK(d.images.defined() && d.images.dim() == 4, "normalize: expected images of shape (N, C, H, W), got ",
                d.images.defined() ? shape_str(d.images.shape()) : std::string("an undefined tensor"));
  const int64_t N = d.images.size(0), C = d.images.size(1), HW = d.images.size(2) * d.images.size(3);
  CONVNET_CHECK(static_cast<int64_t>(mean.size()) == C && static_cast<int64_t>(std.size()) == C, "normalize: got ",
                mean.size(), " means and ", std.size(), " stds for images of shape ", shape_str(d.images.shape()),
                " with ", C, " channels");
  for (int64_t c = 0; c < C; ++c)
    CONVNET_CHECK(std[c] > 0, "normalize: std of channel ", c, " must be positive, got ", std[c]);
  float* x = d.images.data();
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c) {
      float* p = x + (n * C + c) * HW;
      const float m = mean[c], s = std[c];
      for (int64_t i = 0; i < HW; ++i) p[i] = (p[i] - m) / s;  // torchvision: sub_(mean).div_(std)
    }
}

}  // namespace convnet::data
