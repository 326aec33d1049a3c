#pragma once
// A folder of images with one subfolder per class (torchvision's ImageFolder layout):
//   root/<class name>/<any file name>   (subfolders of a class folder are searched too)
// Classes are the subfolder names in sorted (byte) order; label i = the i-th name.
// Every regular file is tried as an image (PNG, JPEG, BMP, GIF, TGA, PNM via stb_image);
// files whose names start with '.' are ignored.
#include <string>
#include <vector>

#include "convnet/data/dataset.h"

namespace convnet::data {

struct ImageFolderOptions {
  int64_t image_size = 0;              // 0: keep the size, which must be the same for all files
  std::string resize_mode = "resize";  // resize | center-crop (see resize_to in image.h)
  bool grayscale = false;              // 1 channel, else 3 (RGB)
  bool skip_bad_files = true;          // true: skip undecodable files with a warning naming each;
                                       // false: throw naming the first one
  // When non-empty, these are the classes (in label order) and each must have a folder;
  // used so a test split gets the labels of its training split. Extra folders are an error.
  std::vector<std::string> class_names;
};

// requires: root exists and holds at least one class folder; no class folder is empty
// (after skipping bad files): an empty one is an error naming the folder. Warnings are
// appended to *warnings, or printed to stderr when warnings is null.
Dataset load_image_folder(const std::string& root, const ImageFolderOptions& opt,
                          std::vector<std::string>* warnings = nullptr);

}  // namespace convnet::data
