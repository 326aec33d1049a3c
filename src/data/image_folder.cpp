// ImageFolder: one subfolder per class, every file decoded, resized and stacked in memory.
#include "convnet/data/image_folder.h"

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <set>

#include "convnet/core/error.h"
#include "convnet/data/image.h"

namespace convnet::data {

namespace fs = std::filesystem;

namespace {

bool hidden(const fs::path& p) {
  return p.filename().string().rfind('.', 0) == 0;
}

// The class folders of root, sorted by name (std::string compares bytes, like Python's sorted()).
std::vector<std::string> class_folders(const fs::path& root) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(root))
    if (e.is_directory() && !hidden(e.path())) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// Every non-hidden regular file under dir (recursively), sorted by path so the sample order
// does not depend on the file system's.
std::vector<std::string> files_under(const fs::path& dir) {
  std::vector<std::string> files;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator(); ++it) {
    if (hidden(it->path())) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file()) files.push_back(it->path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

Dataset load_image_folder(const std::string& root, const ImageFolderOptions& opt, std::vector<std::string>* warnings) {
  CONVNET_CHECK(fs::is_directory(root), "image folder '", root, "': no such directory");
  CONVNET_CHECK(opt.resize_mode == "resize" || opt.resize_mode == "center-crop", "image folder '", root,
                "': resize mode must be 'resize' or 'center-crop', got '", opt.resize_mode, "'");
  CONVNET_CHECK(opt.image_size >= 0, "image folder '", root, "': image size must be non-negative, got ",
                opt.image_size);
  const std::vector<std::string> found = class_folders(root);
  CONVNET_CHECK(!found.empty(), "image folder '", root, "': no class folders (expected one subfolder per class, e.g. ",
                root, "/cat/*.png)");
  std::vector<std::string> classes = found;
  if (!opt.class_names.empty()) {
    const std::set<std::string> want(opt.class_names.begin(), opt.class_names.end()), have(found.begin(), found.end());
    for (const auto& c : opt.class_names)
      CONVNET_CHECK(have.count(c), "image folder '", root, "': class folder '", c,
                    "' is missing (the training split has it)");
    for (const auto& c : found)
      CONVNET_CHECK(want.count(c), "image folder '", root, "': class folder '", c,
                    "' is not a class of the training split");
    classes = opt.class_names;
  }

  const int64_t C = opt.grayscale ? 1 : 3;
  std::vector<Image> images;
  std::vector<int64_t> labels;
  std::string first_file;  // of the first image, to name in a size mismatch
  for (size_t k = 0; k < classes.size(); ++k) {
    const fs::path dir = fs::path(root) / classes[k];
    size_t kept = 0;
    for (const std::string& f : files_under(dir)) {
      Image img;
      try {
        img = decode_image(f, C);
      } catch (const Error& e) {
        if (!opt.skip_bad_files) throw Error(detail::cat("image folder '", root, "': ", e.what()));
        const std::string msg = detail::cat("skipping '", f, "': ", e.what());
        if (warnings)
          warnings->push_back(msg);
        else
          std::cerr << "warning: " << msg << "\n";
        continue;
      }
      img = resize_to(img, opt.image_size, opt.resize_mode);
      if (images.empty()) {
        first_file = f;
      } else {
        CONVNET_CHECK(img.height == images[0].height && img.width == images[0].width, "image folder '", root, "': '", f,
                      "' is ", img.height, "x", img.width, " but '", first_file, "' is ", images[0].height, "x",
                      images[0].width, "; pass an image size to resize them all");
      }
      images.push_back(std::move(img));
      labels.push_back(static_cast<int64_t>(k));
      ++kept;
    }
    CONVNET_CHECK(kept > 0, "image folder '", root, "': class folder '", dir.string(), "' has no readable images");
  }

  Dataset d;
  const int64_t N = static_cast<int64_t>(images.size()), H = images[0].height, W = images[0].width;
  d.images = Tensor::empty({N, C, H, W});
  float* x = d.images.data();
  for (int64_t i = 0; i < N; ++i) std::copy(images[i].data.begin(), images[i].data.end(), x + i * C * H * W);
  d.labels = std::move(labels);
  d.class_names = std::move(classes);
  return d;
}

}  // namespace convnet::data
