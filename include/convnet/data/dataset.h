#pragma once
// An in-memory image classification dataset: all images in one (N, C, H, W) float32
// tensor (pixel / 255 in [0, 1], until normalize()), one class index per image.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "convnet/core/tensor.h"

namespace convnet::data {

struct Dataset {
  Tensor images;                // (N, C, H, W) float32
  std::vector<int64_t> labels;  // N class indices in [0, class_names.size())
  std::vector<std::string> class_names;
  int64_t size() const { return static_cast<int64_t>(labels.size()); }
};

// x[:, c] = (x[:, c] - mean[c]) / std[c], as torchvision's transforms.Normalize.
// requires: mean.size() == std.size() == C, every std > 0.
void normalize(Dataset& d, const std::vector<float>& mean, const std::vector<float>& std);

// The samples at `indices` (in that order, repeats allowed), with the same class names.
// requires: every index in [0, d.size()).
Dataset select(const Dataset& d, const std::vector<int64_t>& indices);

// Keeps the samples of `classes` (original label values) and relabels them 0..k-1 in the
// given order, so {3, 5} of CIFAR-10 becomes the two-class set cat = 0, dog = 1. Class
// names follow the new labels. Sample order is kept.
// requires: classes non-empty, distinct, each in [0, number of classes).
Dataset subset_classes(const Dataset& d, const std::vector<int64_t>& classes);

// A seeded, stratified split: each class gives round(n_c * val_fraction) of its samples
// (chosen by a Fisher-Yates shuffle from Generator(seed)) to the validation set, so both
// sets keep the class proportions; the total can differ from N * val_fraction by rounding.
// Both sets keep the original sample order and the class names.
// requires: 0 < val_fraction < 1, and both sets end up non-empty.
std::pair<Dataset, Dataset> train_val_split(const Dataset& d, double val_fraction, uint64_t seed);

// A small labelled set (--per-class, fine-tuning studies): `n` samples of each class (all
// of a class that has fewer), chosen by a Fisher-Yates shuffle of each class's samples, in
// label order, from Generator(seed): the choice depends on the labels and the seed only,
// and the n-subset is part of the (n + k)-subset of the same seed. Sample order is kept.
// requires: n >= 1, labels non-negative.
Dataset per_class_subset(const Dataset& d, int64_t n, uint64_t seed);

// Per-channel mean and (population, ddof = 0) standard deviation over every pixel of every
// image, accumulated in double: the values to pass to Normalize.
struct ChannelStats {
  std::vector<float> mean, std;
};
ChannelStats channel_stats(const Dataset& d);

}  // namespace convnet::data
