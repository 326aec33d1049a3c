#pragma once
#pragma GCC visibility push(default)
/// \file
/// Readers for the idx format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/),
/// gzip'd or not (zlib's gzread reads both). All integers big-endian:
/// \verbatim
///   images: magic 0x00000803 (unsigned bytes, 3 dims), N, rows, cols, then N*rows*cols pixels
///   labels: magic 0x00000801 (unsigned bytes, 1 dim),  N, then N labels
/// \endverbatim
#include <string>
#include <vector>

#include "convnet/data/dataset.h"

namespace convnet::data {

/// Reads an idx images file and its idx labels file (as torchvision.datasets.MNIST, from given files).
/// \pre  both files exist, are idx files (raw or gzip'd) of the layout above, complete, with
///       the same N and rows, cols > 0; with `class_names`, every label is below its size.
/// \post images (N, 1, rows, cols) float32 with pixel / 255; labels the N label bytes;
///       class_names = `class_names` (empty when none given).
/// \throws convnet::Error naming the file and what is wrong: it is missing or a directory,
///         cannot be read, has the wrong magic number (found and expected), is truncated
///         (expected N bytes, got M), has a zero or implausibly large size, the two files
///         disagree on N (naming both counts), or (with `class_names`) a label is out of range
///         (naming the sample).
Dataset load_idx(const std::string& images_path, const std::string& labels_path,
                 std::vector<std::string> class_names = {});

/// The 10 Fashion-MNIST class names, in label order ("T-shirt/top", "Trouser", ...).
const std::vector<std::string>& fashion_mnist_classes();

/// Fashion-MNIST (or MNIST) from a directory (as torchvision.datasets.FashionMNIST).
/// `dir` holds train-images-idx3-ubyte(.gz), train-labels-idx1-ubyte(.gz),
/// t10k-images-idx3-ubyte(.gz), t10k-labels-idx1-ubyte(.gz); the .gz name is used when both
/// exist. `train` picks the train- files (60000 images in the standard data) or the t10k- files
/// (10000).
/// \pre  `dir` holds the two files of the split; labels are below 10.
/// \post as load_idx() with class_names = fashion_mnist_classes().
/// \throws convnet::Error when a file is missing, saying where it looked and how to install
///         the data (Debian's dataset-fashion-mnist), or as load_idx().
Dataset load_fashion_mnist(const std::string& dir, bool train);

/// Where Debian's dataset-fashion-mnist package installs the files.
constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

}  // namespace convnet::data
#pragma GCC visibility pop
