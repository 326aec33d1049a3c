#include "convnet/train/inputs.h"

#include <numeric>

#include "convnet/core/error.h"
#include "convnet/data/datasets.h"
#include "convnet/data/image.h"

namespace convnet::train {

namespace {
const char* channel_word(int64_t c) {
  switch (c) {
    case 1:
      return "gray";
    case 2:
      return "gray + alpha";
    case 3:
      return "RGB";
    case 4:
      return "RGBA";
    default:
      return "?";
  }
}
}  // namespace

namespace {
// The preprocessing of `decoded` (the image named `path`, `info` its stored header).
InputImage prepare_input(const Checkpoint& ck, const data::ImageInfo& info, const data::Image& decoded,
                         const std::string& path) {
  const auto& a = ck.model_args;
  InputImage r;
  const data::Image img = data::resize_to(decoded, a.input_size, ck.config.data.resize_mode);
  r.pixels = Tensor::from_vector({img.channels, img.height, img.width}, img.data);
  const Tensor& x = r.pixels;
  CONVNET_CHECK(x.dim() == 3 && x.size(0) == a.in_channels && (a.input_size == 0 || x.size(1) == a.input_size) &&
                    (a.input_size == 0 || x.size(2) == a.input_size),
                "'", path, "' gives an image of shape ", shape_str(x.shape()), "; checkpoint '", ck.path, "' expects ",
                a.in_channels, "x", a.input_size, "x", a.input_size);
  CONVNET_CHECK(ck.mean.size() == static_cast<size_t>(a.in_channels) && ck.std.size() == ck.mean.size(), "checkpoint '",
                ck.path, "' has normalization statistics for ", ck.mean.size(), " channels, not ", a.in_channels);
  std::string what;
  const bool same_channels = info.channels == a.in_channels || (a.in_channels == 3 && info.channels == 4) ||
                             (a.in_channels == 1 && info.channels == 2);
  if (!same_channels) what += std::string("converted to ") + channel_word(a.in_channels);
  if (info.height != x.size(1) || info.width != x.size(2))
    what += detail::cat(what.empty() ? "" : ", ", "resized from ", info.height, "x", info.width, " to ", x.size(1), "x",
                        x.size(2), " (", ck.config.data.resize_mode, ")");
  if (!what.empty())
    r.conversion = detail::cat("'", path, "' is ", info.channels, "x", info.height, "x", info.width, " (",
                               channel_word(info.channels), "); the model expects ", a.in_channels, "x", x.size(1), "x",
                               x.size(2), ": ", what);
  // Normalization as transforms.Normalize: (x - mean[c]) / std[c].
  const int64_t C = x.size(0), plane = x.size(1) * x.size(2);
  r.input = Tensor::empty({1, C, x.size(1), x.size(2)});
  const float* p = x.data();
  float* q = r.input.data();
  for (int64_t c = 0; c < C; ++c)
    for (int64_t i = 0; i < plane; ++i) q[c * plane + i] = (p[c * plane + i] - ck.mean[c]) / ck.std[c];
  return r;
}
}  // namespace

InputImage load_input_image(const Checkpoint& ck, const std::string& path) {
  return prepare_input(ck, data::image_info(path), data::decode_image(path, ck.model_args.in_channels), path);
}

InputImage load_input_image_bytes(const Checkpoint& ck, const std::string& bytes, const std::string& name) {
  return prepare_input(ck, data::image_info_bytes(bytes, name),
                       data::decode_image_bytes(bytes, ck.model_args.in_channels, name), name);
}

data::Dataset load_checkpoint_split(const Checkpoint& ck, const std::string& split, const std::string& dataset,
                                    const std::string& data_dir) {
  const TrainConfig& c = ck.config;
  CONVNET_CHECK(split == "test" || split == "train" || split == "val", "unknown split '", split,
                "'; expected test, train or val");
  data::DatasetSpec spec;
  spec.kind = dataset.empty() ? c.data.dataset : dataset;
  spec.dir = data_dir.empty() ? c.data.data_dir : data_dir;
  spec.image_size = c.data.image_size;
  spec.resize_mode = c.data.resize_mode;
  spec.grayscale = c.data.grayscale;
  spec.classes = c.data.classes;
  data::Dataset d;
  if (split == "test") {
    d = data::load_dataset(spec, false);
  } else {
    d = data::load_dataset(spec, true);
    if (c.data.limit_train > 0 && c.data.limit_train < d.size()) {
      std::vector<int64_t> first(static_cast<size_t>(c.data.limit_train));
      std::iota(first.begin(), first.end(), int64_t{0});
      d = data::select(d, first);
    }
    if (split == "val") {
      CONVNET_CHECK(c.data.val_split > 0, "checkpoint '", ck.path,
                    "' was trained without --val-split, so it has no validation split; use --split test");
      d = data::train_val_split(d, c.data.val_split, c.compute.seed).second;
    } else if (c.data.val_split > 0) {
      d = data::train_val_split(d, c.data.val_split, c.compute.seed).first;
    }
  }
  const auto& a = ck.model_args;
  CONVNET_CHECK(d.images.size(1) == a.in_channels && d.images.size(2) == a.input_size, "the ", split, " split of ",
                spec.kind, " has images of shape ", shape_str(d.images.shape()), " but checkpoint '", ck.path,
                "' expects ", a.in_channels, "x", a.input_size, "x", a.input_size);
  CONVNET_CHECK(static_cast<int64_t>(d.class_names.size()) <= a.num_classes, "the ", split, " split of ", spec.kind,
                " has ", d.class_names.size(), " classes but checkpoint '", ck.path, "' was trained on ",
                a.num_classes);
  data::normalize(d, ck.mean, ck.std);
  return d;
}

}  // namespace convnet::train
