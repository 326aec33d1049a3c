#pragma once
#pragma GCC visibility push(default)
/// \file
/// A reader for a folder of images with one subfolder per class (torchvision's ImageFolder layout):
/// \verbatim
///   root/<class name>/<any file name>   (subfolders of a class folder are searched too)
/// \endverbatim
/// Classes are the subfolder names in sorted (byte) order; label i = the i-th name.
/// Every regular file is tried as an image (PNG, JPEG, BMP, GIF, TGA, PNM via stb_image);
/// files and folders whose names start with '.' are ignored.
#include <string>
#include <vector>

#include "convnet/data/dataset.h"

namespace convnet::data {

/// How load_image_folder() reads and sizes the images.
struct ImageFolderOptions {
  int64_t image_size = 0;              ///< 0: keep the size, which must be the same for all files; else as resize_to()
  std::string resize_mode = "resize";  ///< resize | center-crop (see resize_to in image.h)
  bool grayscale = false;              ///< 1 channel, else 3 (RGB)
  /// true: skip undecodable files with a warning naming each; false: throw naming the first one.
  bool skip_bad_files = true;
  /// When non-empty, these are the classes (in label order) and each must have a folder;
  /// used so a test split gets the labels of its training split. Extra folders are an error.
  std::vector<std::string> class_names;
};

/// Reads every image under `root` into memory (as torchvision.datasets.ImageFolder, eagerly).
/// Each file is decoded (decode_image()), then brought to `opt.image_size` (resize_to()).
/// Samples come class by class, and in sorted path order within a class.
/// Warnings (skipped files) are appended to `*warnings`, or printed to stderr when `warnings` is null.
/// \pre  `root` is a directory holding at least one class folder; `opt.resize_mode` is
///       "resize" or "center-crop"; `opt.image_size >= 0`; no class folder is empty (after
///       skipping bad files); with `opt.image_size` 0 all images have the same size; with
///       `opt.class_names`, the class folders are exactly those names.
/// \post images (N, C, H, W) float32 in [0, 1], C = 1 with grayscale else 3; labels index
///       class_names, which are the sorted folder names or `opt.class_names`.
/// \throws convnet::Error naming `root` and: a missing directory, a bad resize mode or size,
///         no class folders, a missing or extra class folder, an undecodable file (unless
///         skipped), two files of different sizes (naming both), or a class folder without
///         readable images (naming it).
Dataset load_image_folder(const std::string& root, const ImageFolderOptions& opt,
                          std::vector<std::string>* warnings = nullptr);

}  // namespace convnet::data
#pragma GCC visibility pop
