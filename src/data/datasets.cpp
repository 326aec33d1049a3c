// load_dataset: the kind names of the CLI mapped to the readers.
#include "convnet/data/datasets.h"

#include <algorithm>
#include <filesystem>

#include "convnet/core/error.h"
#include "convnet/data/cifar.h"
#include "convnet/data/idx.h"
#include "convnet/data/image.h"
#include "convnet/data/image_folder.h"

namespace convnet::data {

namespace fs = std::filesystem;

namespace {

std::vector<std::string> numbered(int64_t k) {
  std::vector<std::string> names;
  for (int64_t i = 0; i < k; ++i) names.push_back(std::to_string(i));
  return names;
}

std::string require_dir(const DatasetSpec& s) {
  CONVNET_CHECK(!s.dir.empty(), "dataset '", s.kind, "': no data directory given (--data-dir)");
  return s.dir;
}

Dataset load_folder(const DatasetSpec& s, bool train, std::vector<std::string>* warnings) {
  const fs::path root(require_dir(s));
  CONVNET_CHECK(fs::is_directory(root), "dataset 'folder': '", root.string(), "': no such directory");
  ImageFolderOptions o;
  o.image_size = s.image_size;
  o.resize_mode = s.resize_mode;
  o.grayscale = s.grayscale;
  o.skip_bad_files = s.skip_bad_files;
  const bool split = fs::is_directory(root / "train");
  if (train) return load_image_folder((split ? root / "train" : root).string(), o, warnings);
  fs::path test;
  for (const char* name : {"test", "val"})
    if (test.empty() && fs::is_directory(root / name)) test = root / name;
  CONVNET_CHECK(!test.empty(), "dataset 'folder': '", root.string(), "' has no test/ or val/ folder for the ",
                "test split (expected ", (root / "test").string(), "/<class>/*)");
  // The training split's class list, so that label i means the same class in both.
  if (split)
    for (const auto& e : fs::directory_iterator(root / "train")) {
      const std::string name = e.path().filename().string();
      if (e.is_directory() && name.rfind('.', 0) != 0) o.class_names.push_back(name);
    }
  std::sort(o.class_names.begin(), o.class_names.end());
  return load_image_folder(test.string(), o, warnings);
}

Dataset load_kind(const DatasetSpec& s, bool train, std::vector<std::string>* warnings) {
  if (s.kind == "fashion-mnist") return load_fashion_mnist(s.dir.empty() ? kFashionMnistDir : s.dir, train);
  if (s.kind == "mnist" || s.kind == "idx") {
    // Same file names as Fashion-MNIST; only the class names differ.
    Dataset d = load_fashion_mnist(require_dir(s), train);
    int64_t K = 10;
    if (s.kind == "idx") {
      K = 0;
      for (int64_t y : d.labels) K = std::max(K, y + 1);
    }
    d.class_names = numbered(K);
    return d;
  }
  if (s.kind == "cifar10") return load_cifar10(require_dir(s), train);
  if (s.kind == "cifar100") return load_cifar100(require_dir(s), train, false);
  if (s.kind == "cifar100-coarse") return load_cifar100(require_dir(s), train, true);
  if (s.kind == "folder") return load_folder(s, train, warnings);
  std::string kinds;
  for (const auto& k : dataset_kinds()) kinds += (kinds.empty() ? "" : ", ") + k;
  throw Error(detail::cat("unknown dataset kind '", s.kind, "'; expected one of ", kinds));
}

// image_size / grayscale for the in-memory kinds (e.g. CIFAR upscaled for an ImageNet model):
// each image goes through the same resize_to and RGB -> gray as a decoded file would.
void convert(Dataset& d, const DatasetSpec& s) {
  const int64_t N = d.images.size(0), C = d.images.size(1), H = d.images.size(2), W = d.images.size(3);
  const bool gray = s.grayscale && C == 3;
  if (!gray && (s.image_size == 0 || (s.image_size == H && s.image_size == W))) return;
  const int64_t OC = gray ? 1 : C;
  Tensor out;
  const float* x = d.images.data();
  for (int64_t n = 0; n < N; ++n) {
    Image img{OC, H, W, {}};
    const float* p = x + n * C * H * W;
    if (gray) {
      img.data.resize(static_cast<size_t>(H * W));
      for (int64_t i = 0; i < H * W; ++i)  // ITU-R 601-2 luma, as PIL's convert("L")
        img.data[i] = 0.299f * p[i] + 0.587f * p[H * W + i] + 0.114f * p[2 * H * W + i];
    } else {
      img.data.assign(p, p + C * H * W);
    }
    img = resize_to(img, s.image_size, s.resize_mode);
    if (!out.defined()) out = Tensor::empty({N, OC, img.height, img.width});
    std::copy(img.data.begin(), img.data.end(), out.data() + n * static_cast<int64_t>(img.data.size()));
  }
  if (out.defined()) d.images = out;
}

}  // namespace

const std::vector<std::string>& dataset_kinds() {
  static const std::vector<std::string> kinds = {"fashion-mnist", "mnist",           "idx",   "cifar10",
                                                 "cifar100",      "cifar100-coarse", "folder"};
  return kinds;
}

Dataset load_dataset(const DatasetSpec& spec, bool train, std::vector<std::string>* warnings) {
  Dataset d = load_kind(spec, train, warnings);
  if (spec.kind != "folder") convert(d, spec);  // the folder reader did it per file
  if (!spec.classes.empty()) d = subset_classes(d, spec.classes);
  return d;
}

}  // namespace convnet::data
