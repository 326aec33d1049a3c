#include "convnet/data/dataset.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

#include "convnet/core/error.h"
#include "convnet/core/rng.h"

namespace convnet::data {

namespace {
void check_images(const Dataset& d, const char* fn) {
  CONVNET_CHECK(d.images.defined() && d.images.dim() == 4, fn, ": expected images of shape (N, C, H, W), got ",
                d.images.defined() ? shape_str(d.images.shape()) : std::string("an undefined tensor"));
  CONVNET_CHECK(d.images.size(0) == d.size(), fn, ": the dataset has ", d.images.size(0), " images (shape ",
                shape_str(d.images.shape()), ") but ", d.size(), " labels");
}
}  // namespace

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

Dataset select(const Dataset& d, const std::vector<int64_t>& indices) {
  check_images(d, "select");
  Shape s = d.images.shape();
  const int64_t sample = s[1] * s[2] * s[3];
  s[0] = static_cast<int64_t>(indices.size());
  Dataset out;
  out.images = Tensor::empty(s);
  out.class_names = d.class_names;
  out.labels.reserve(indices.size());
  const float* src = d.images.data();
  float* dst = out.images.data();
  for (size_t i = 0; i < indices.size(); ++i) {
    const int64_t k = indices[i];
    CONVNET_CHECK(k >= 0 && k < d.size(), "select: index ", k, " is out of range for a dataset of ", d.size(),
                  " samples");
    std::memcpy(dst + static_cast<int64_t>(i) * sample, src + k * sample, sizeof(float) * sample);
    out.labels.push_back(d.labels[k]);
  }
  return out;
}

Dataset subset_classes(const Dataset& d, const std::vector<int64_t>& classes) {
  check_images(d, "subset_classes");
  CONVNET_CHECK(!classes.empty(), "subset_classes: no classes given");
  // The number of classes: the names when known, else whatever the labels use.
  int64_t K = static_cast<int64_t>(d.class_names.size());
  if (K == 0)
    for (int64_t y : d.labels) K = std::max(K, y + 1);
  std::vector<int64_t> remap(static_cast<size_t>(K), -1);
  for (size_t i = 0; i < classes.size(); ++i) {
    const int64_t c = classes[i];
    CONVNET_CHECK(c >= 0 && c < K, "subset_classes: class ", c, " is out of range for a dataset of ", K, " classes");
    CONVNET_CHECK(remap[c] < 0, "subset_classes: class ", c, " is listed twice");
    remap[c] = static_cast<int64_t>(i);
  }
  std::vector<int64_t> keep;
  for (int64_t i = 0; i < d.size(); ++i)
    if (d.labels[i] >= 0 && d.labels[i] < K && remap[d.labels[i]] >= 0) keep.push_back(i);
  Dataset out = select(d, keep);
  for (auto& y : out.labels) y = remap[y];
  out.class_names.clear();
  for (int64_t c : classes) out.class_names.push_back(d.class_names.empty() ? std::to_string(c) : d.class_names[c]);
  return out;
}

std::pair<Dataset, Dataset> train_val_split(const Dataset& d, double val_fraction, uint64_t seed) {
  check_images(d, "train_val_split");
  CONVNET_CHECK(val_fraction > 0 && val_fraction < 1, "train_val_split: val_fraction must be in (0, 1), got ",
                val_fraction);
  int64_t K = 0;
  for (int64_t y : d.labels) K = std::max(K, y + 1);
  std::vector<std::vector<int64_t>> by_class(static_cast<size_t>(K));
  for (int64_t i = 0; i < d.size(); ++i) {
    CONVNET_CHECK(d.labels[i] >= 0, "train_val_split: label ", d.labels[i], " of sample ", i, " is negative");
    by_class[d.labels[i]].push_back(i);
  }
  std::vector<char> is_val(static_cast<size_t>(d.size()), 0);
  Generator gen(seed);
  for (auto& idx : by_class) {  // classes in label order, so the draws are reproducible
    const int64_t n = static_cast<int64_t>(idx.size());
    for (int64_t i = n - 1; i > 0; --i) std::swap(idx[i], idx[gen.randint(static_cast<uint64_t>(i + 1))]);
    const auto nv = static_cast<int64_t>(std::llround(static_cast<double>(n) * val_fraction));
    for (int64_t i = 0; i < nv; ++i) is_val[idx[i]] = 1;
  }
  std::vector<int64_t> tr, va;
  for (int64_t i = 0; i < d.size(); ++i) (is_val[i] ? va : tr).push_back(i);
  CONVNET_CHECK(!tr.empty() && !va.empty(), "train_val_split: splitting ", d.size(), " samples with val_fraction ",
                val_fraction, " leaves ", tr.size(), " for training and ", va.size(), " for validation");
  return {select(d, tr), select(d, va)};
}

Dataset per_class_subset(const Dataset& d, int64_t n, uint64_t seed) {
  check_images(d, "per_class_subset");
  CONVNET_CHECK(n >= 1, "per_class_subset: the number per class must be at least 1, got ", n);
  std::map<int64_t, std::vector<int64_t>> by_class;  // label order, so the draws are reproducible
  for (int64_t i = 0; i < d.size(); ++i) {
    CONVNET_CHECK(d.labels[i] >= 0, "per_class_subset: label ", d.labels[i], " of sample ", i, " is negative");
    by_class[d.labels[i]].push_back(i);
  }
  Generator gen(seed);
  std::vector<int64_t> keep;
  for (auto& [label, idx] : by_class) {
    for (size_t i = idx.size(); i > 1; --i) std::swap(idx[i - 1], idx[gen.randint(i)]);
    const size_t k = std::min(idx.size(), static_cast<size_t>(n));
    keep.insert(keep.end(), idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(k));
  }
  std::sort(keep.begin(), keep.end());
  return select(d, keep);
}

ChannelStats channel_stats(const Dataset& d) {
  CONVNET_CHECK(d.images.defined() && d.images.dim() == 4 && d.images.size(0) > 0,
                "channel_stats: expected a non-empty (N, C, H, W) images tensor, got ",
                d.images.defined() ? shape_str(d.images.shape()) : std::string("an undefined tensor"));
  const int64_t N = d.images.size(0), C = d.images.size(1), HW = d.images.size(2) * d.images.size(3);
  const float* x = d.images.data();
  ChannelStats st;
  for (int64_t c = 0; c < C; ++c) {
    // Two passes (mean, then squared deviations): no cancellation for large N.
    double sum = 0;
    for (int64_t n = 0; n < N; ++n) {
      const float* p = x + (n * C + c) * HW;
      for (int64_t i = 0; i < HW; ++i) sum += p[i];
    }
    const double count = static_cast<double>(N * HW), mean = sum / count;
    double ss = 0;
    for (int64_t n = 0; n < N; ++n) {
      const float* p = x + (n * C + c) * HW;
      for (int64_t i = 0; i < HW; ++i) ss += (p[i] - mean) * (p[i] - mean);
    }
    st.mean.push_back(static_cast<float>(mean));
    st.std.push_back(static_cast<float>(std::sqrt(ss / count)));
  }
  return st;
}

}  // namespace convnet::data
