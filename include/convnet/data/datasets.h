#pragma once
#pragma GCC visibility push(default)
/// \file
/// One entry point (load_dataset) for every data set kind, as the CLI names them (--dataset KIND).
///
/// \verbatim
///   kind           dir (default)                      contents
///   fashion-mnist  /usr/share/datasets/fashion-mnist  idx files (see idx.h), 10 named classes
///   mnist          (required)                         same idx files, classes "0".."9"
///   idx            (required)                         same idx files, classes "0".."K-1", K = max label + 1
///   cifar10        (required)                         see cifar.h
///   cifar100       (required)                         see cifar.h; the 100 fine labels
///   cifar100-coarse (required)                        see cifar.h; the 20 coarse labels
///   folder         (required)                         see image_folder.h, split as below
/// \endverbatim
///
/// folder splits: the training set is `DIR/train/<class>/*`, or `DIR/<class>/*` when DIR has no
/// train/ subfolder; the test set is `DIR/test/<class>/*`, else `DIR/val/<class>/*`. The test
/// split takes its class list from the training split so both label the same classes alike.
#include <string>
#include <vector>

#include "convnet/data/dataset.h"

namespace convnet::data {

/// Which data set load_dataset() reads, and how its images are brought to one size.
struct DatasetSpec {
  std::string kind = "fashion-mnist";  ///< fashion-mnist | mnist | idx | cifar10 | cifar100 | cifar100-coarse | folder
  std::string dir;                     ///< empty = the kind's default (only fashion-mnist has one)
  /// Resize or crop every image to this size, as resize_to() (acts on every kind, e.g. CIFAR
  /// upscaled to 224 for an ImageNet model); 0 = keep the size (folder: the files must then
  /// all have the same size).
  int64_t image_size = 0;
  std::string resize_mode = "resize";  ///< resize | center-crop (resize the shorter side, then center crop), as resize_to()
  /// 1 channel: 3-channel data is converted to gray, 1-channel data left alone (folder: else 3, RGB).
  bool grayscale = false;
  bool skip_bad_files = true;    ///< folder: warn (naming the files) and skip unreadable/non-image files; false = error
  std::vector<int64_t> classes;  ///< optional subset (original labels, remapped to 0..k-1 in this order, as subset_classes())
};

/// The training (`train`) or test split of `spec`, read, converted and subset as `spec` says.
/// Folder warnings (skipped files) go to `*warnings`, or to stderr when `warnings` is null.
/// \pre  `spec.kind` is one of dataset_kinds(); `spec.dir` is set for every kind but
///       fashion-mnist and holds the files of that kind (see the table above);
///       `spec.resize_mode` is "resize" or "center-crop"; `spec.image_size >= 0`; the
///       `spec.classes` are valid for subset_classes().
/// \post a Dataset with class names; images (N, C, H, W) of `image_size` when it is not 0;
///       C = 1 with `grayscale` (or for 1-channel data), else the kind's channel count (3 for folder).
/// \throws convnet::Error for an unknown kind (listing the known ones), for a missing `dir`
///         (naming the kind), for a missing folder split (naming the directory), and as the
///         reader of the kind (load_fashion_mnist, load_cifar10, load_cifar100,
///         load_image_folder), resize_to and subset_classes do.
Dataset load_dataset(const DatasetSpec& spec, bool train, std::vector<std::string>* warnings = nullptr);

/// The kinds load_dataset() accepts, for help texts.
const std::vector<std::string>& dataset_kinds();

}  // namespace convnet::data
#pragma GCC visibility pop
