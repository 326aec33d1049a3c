#pragma once
// One entry point for every dataset kind, as the CLI names them (--dataset KIND).
//
//   kind           dir (default)                      contents
//   fashion-mnist  /usr/share/datasets/fashion-mnist  idx files (see idx.h), 10 named classes
//   mnist          (required)                         same idx files, classes "0".."9"
//   idx            (required)                         same idx files, classes "0".."K-1", K = max label + 1
//   cifar10        (required)                         see cifar.h
//   cifar100       (required)                         see cifar.h; the 100 fine labels
//   cifar100-coarse (required)                        see cifar.h; the 20 coarse labels
//   folder         (required)                         see image_folder.h, split as below
//
// folder splits: the training set is DIR/train/<class>/*, or DIR/<class>/* when DIR has no
// train/ subfolder; the test set is DIR/test/<class>/*, else DIR/val/<class>/*. The test
// split takes its class list from the training split so both label the same classes alike.
#include <string>
#include <vector>

#include "convnet/data/dataset.h"

namespace convnet::data {

struct DatasetSpec {
  std::string kind = "fashion-mnist";  // fashion-mnist | mnist | idx | cifar10 | cifar100 | cifar100-coarse | folder
  std::string dir;                     // empty = the kind's default (only fashion-mnist has one)
  // image_size, resize_mode and grayscale act on every kind (e.g. CIFAR upscaled to 224 for
  // an ImageNet model); grayscale turns 3 channels into 1 and leaves 1-channel data alone.
  int64_t image_size = 0;              // resize/crop to this size (folder: 0 = keep if all equal, else error)
  std::string resize_mode = "resize";  // resize | center-crop (resize shorter side then center crop)
  bool grayscale = false;              // 1 channel (folder: else 3, RGB)
  bool skip_bad_files = true;    // folder: warn (naming the files) and skip unreadable/non-image files; false = error
  std::vector<int64_t> classes;  // optional subset (original labels, remapped to 0..k-1 in this order)
};

// The `train` or test split of `spec`. Errors name the kind, the directory and what is
// missing. Folder warnings (skipped files) go to *warnings, or to stderr when null.
Dataset load_dataset(const DatasetSpec& spec, bool train, std::vector<std::string>* warnings = nullptr);

// The kinds load_dataset accepts, for help texts.
const std::vector<std::string>& dataset_kinds();

}  // namespace convnet::data
