#pragma once
// An in-memory image classification dataset: all images in one (N, C, H, W) float32
// tensor (pixel / 255 in [0, 1], until normalize()), one class index per image.
#include <cstdint>
#include <string>
#include <vector>

#include "convnet/core/tensor.h"

namespace convnet::data {

struct Dataset {
  Tensor images;                        // (N, C, H, W) float32
  std::vector<int64_t> labels;          // N class indices in [0, class_names.size())
  std::vector<std::string> class_names;
  int64_t size() const { return static_cast<int64_t>(labels.size()); }
};

// x[:, c] = (x[:, c] - mean[c]) / std[c], as torchvision's transforms.Normalize.
// requires: mean.size() == std.size() == C, every std > 0.
void normalize(Dataset& d, const std::vector<float>& mean, const std::vector<float>& std);

}  // namespace convnet::data
