#pragma once
#pragma GCC visibility push(default)
/// \file
/// An in-memory image classification data set (Dataset): all images in one (N, C, H, W)
/// float32 tensor (pixel / 255 in [0, 1], until normalize()), one class index per image,
/// and the operations on it: normalization, selection, class subsets, splits and statistics.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "convnet/core/tensor.h"

namespace convnet::data {

/// An in-memory image classification data set: N images, their N labels and the class names.
struct Dataset {
  Tensor images;                ///< (N, C, H, W) float32
  std::vector<int64_t> labels;  ///< N class indices in `[0, class_names.size())`
  std::vector<std::string> class_names;  ///< the class names, in label order (may be empty)
  int64_t size() const { return static_cast<int64_t>(labels.size()); }  ///< N, the number of labels
};

/// Normalizes in place, `x[:, c] = (x[:, c] - mean[c]) / std[c]` (as torchvision.transforms.Normalize).
/// \pre  `d.images` is a defined (N, C, H, W) tensor; `mean.size() == std.size() == C`; every std > 0.
/// \post `d.images` holds the normalized values; labels and class names are unchanged.
/// \throws convnet::Error when the images are not 4-d, when the counts of means and stds do not
///         match C (naming both counts and the shape), or when a std is not positive (naming the channel).
void normalize(Dataset& d, const std::vector<float>& mean, const std::vector<float>& std);

/// The samples at `indices`, in that order (repeats allowed), as torch.utils.data.Subset but copied.
/// \pre  `d.images` is (N, C, H, W) with N = d.size(); every index in `[0, d.size())`.
/// \post images (indices.size(), C, H, W), labels the selected ones; class names unchanged.
/// \throws convnet::Error when the images are not 4-d or their count differs from the labels',
///         or when an index is out of range (naming it and the data set size).
Dataset select(const Dataset& d, const std::vector<int64_t>& indices);

/// Keeps the samples of `classes` (original label values) and relabels them 0..k-1 in the
/// given order, so {3, 5} of CIFAR-10 becomes the two-class set cat = 0, dog = 1.
/// Sample order is kept. The number of classes is `d.class_names.size()`, or the largest
/// label + 1 when there are no class names.
/// \pre  `d.images` is (N, C, H, W) with N = d.size(); `classes` non-empty, distinct, each in
///       `[0, number of classes)`.
/// \post labels in `[0, classes.size())`; class_names[i] is the name of `classes[i]` (its number
///       as text when `d` has no names).
/// \throws convnet::Error when the images are not 4-d or their count differs from the labels',
///         when `classes` is empty, or when a class is out of range or listed twice (naming it).
Dataset subset_classes(const Dataset& d, const std::vector<int64_t>& classes);

/// A seeded, stratified split into (training, validation) sets.
/// Each class gives round(n_c * val_fraction) of its samples (chosen by a Fisher-Yates
/// shuffle from Generator(seed)) to the validation set, so both sets keep the class
/// proportions; the total can differ from N * val_fraction by rounding.
/// \pre  `d.images` is (N, C, H, W) with N = d.size(); `0 < val_fraction < 1`; labels
///       non-negative; both sets end up non-empty.
/// \post both sets keep the original sample order and the class names; together they hold
///       every sample once. The result depends on the labels and `seed` only.
/// \throws convnet::Error when the images are not 4-d or their count differs from the labels',
///         when `val_fraction` is outside (0, 1), when a label is negative (naming the sample),
///         or when either set would be empty (naming both sizes).
std::pair<Dataset, Dataset> train_val_split(const Dataset& d, double val_fraction, uint64_t seed);

/// A small labelled set (--per-class, fine-tuning studies): `n` samples of each class (all
/// of a class that has fewer).
/// The samples are chosen by a Fisher-Yates shuffle of each class's samples, in label order,
/// from Generator(seed): the choice depends on the labels and the seed only, and the
/// n-subset is part of the (n + k)-subset of the same seed.
/// \pre  `d.images` is (N, C, H, W) with N = d.size(); `n >= 1`; labels non-negative.
/// \post `min(n, n_c)` samples of each class c, in the original sample order; class names unchanged.
/// \throws convnet::Error when the images are not 4-d or their count differs from the labels',
///         when `n < 1`, or when a label is negative (naming the sample).
Dataset per_class_subset(const Dataset& d, int64_t n, uint64_t seed);

/// Per-channel mean and (population, ddof = 0) standard deviation over every pixel of every
/// image: the values to pass to normalize() or LoaderOptions.
struct ChannelStats {
  /// `mean[c]`: the mean of channel c.
  std::vector<float> mean, std;  ///< `std[c]`: the standard deviation of channel c.
};

/// The ChannelStats of `d.images`, accumulated in double in two passes (mean, then squared deviations).
/// \pre  `d.images` is a defined, non-empty (N, C, H, W) tensor.
/// \post `mean` and `std` have C entries each.
/// \throws convnet::Error when the images are undefined, not 4-d or empty (naming the shape).
ChannelStats channel_stats(const Dataset& d);

}  // namespace convnet::data
#pragma GCC visibility pop
