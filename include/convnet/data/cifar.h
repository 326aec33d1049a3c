#pragma once
#pragma GCC visibility push(default)
/// \file
/// CIFAR-10 and CIFAR-100 readers for the "binary version" of the data sets
/// (https://www.cs.toronto.edu/~kriz/cifar.html), the layout that needs no Python:
/// \verbatim
///   CIFAR-10  cifar-10-batches-bin/data_batch_{1..5}.bin, test_batch.bin, batches.meta.txt
///             record = 1 label byte + 3072 pixel bytes
///   CIFAR-100 cifar-100-binary/train.bin, test.bin, coarse_label_names.txt, fine_label_names.txt
///             record = 1 coarse label byte + 1 fine label byte + 3072 pixel bytes
/// \endverbatim
/// The 3072 pixel bytes are the 1024 red, then 1024 green, then 1024 blue values of a 32x32
/// image in row-major order, i.e. already (C, H, W). Images come out as (N, 3, 32, 32) with
/// pixel / 255, as torchvision's ToTensor.
#include <string>
#include <vector>

#include "convnet/data/dataset.h"

namespace convnet::data {

/// Reads every record of one CIFAR binary file.
/// `label_bytes` is 1 (CIFAR-10) or 2 (CIFAR-100); `label_index` picks which label byte is
/// the class (0 = the first). The result has no class names.
/// \pre  `path` is a regular file whose size is a positive multiple of the record size
///       `label_bytes + 3072`; `0 <= label_index < label_bytes`; every label is below `num_classes`.
/// \post images (N, 3, 32, 32) float32 with pixel / 255, N = file size / record size; labels
///       are the chosen label byte of each record; class_names is empty.
/// \throws convnet::Error when `label_index` is not below `label_bytes`; when the file does not
///         exist (naming it); when its size is not a positive multiple of the record size (naming
///         the file, its size and the record size); when a label is out of range (naming the
///         file, the record, the label and `num_classes`); on a short read.
Dataset load_cifar_file(const std::string& path, int label_bytes, int label_index, int64_t num_classes);

/// The CIFAR-10 training or test split (as torchvision.datasets.CIFAR10, from the binary files).
/// `dir` is the folder holding the .bin files or its parent (cifar-10-batches-bin is looked
/// for inside it). `train` picks data_batch_1.bin to data_batch_5.bin (50000 images in the
/// standard data) or test_batch.bin (10000).
/// \pre  `dir` is not empty and holds the files of the split, directly or in cifar-10-batches-bin/.
/// \post images (N, 3, 32, 32) float32 in [0, 1]; labels in [0, 10); class_names from
///       batches.meta.txt when it holds exactly 10 non-blank lines, else cifar10_classes().
/// \throws convnet::Error when `dir` is empty, when neither `dir` nor `dir`/cifar-10-batches-bin
///         holds the split's first file (naming both places), or as load_cifar_file.
Dataset load_cifar10(const std::string& dir, bool train);

/// The CIFAR-100 training or test split (as torchvision.datasets.CIFAR100, from the binary files).
/// `dir` is the folder holding train.bin / test.bin or its parent (cifar-100-binary is looked
/// for inside it). `train` picks train.bin (50000 images in the standard data) or test.bin
/// (10000). `coarse` labels the images with the 20 superclasses instead of the 100 classes.
/// \pre  `dir` is not empty and holds the split's file, directly or in cifar-100-binary/.
/// \post images (N, 3, 32, 32) float32 in [0, 1]; labels in [0, 100), or [0, 20) when `coarse`;
///       class_names from fine_label_names.txt (coarse_label_names.txt) when it holds exactly
///       100 (20) non-blank lines, else cifar100_fine_classes() (cifar100_coarse_classes()).
/// \throws convnet::Error when `dir` is empty, when neither `dir` nor `dir`/cifar-100-binary
///         holds the file (naming both places), or as load_cifar_file.
Dataset load_cifar100(const std::string& dir, bool train, bool coarse = false);

/// The 10 CIFAR-10 class names, in label order ("airplane", "automobile", ...).
const std::vector<std::string>& cifar10_classes();
/// The 100 CIFAR-100 class (fine label) names, in label order.
const std::vector<std::string>& cifar100_fine_classes();
/// The 20 CIFAR-100 superclass (coarse label) names, in label order.
const std::vector<std::string>& cifar100_coarse_classes();

}  // namespace convnet::data
#pragma GCC visibility pop
