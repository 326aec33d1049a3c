#pragma once
// The idx format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/), gzip'd
// or not (zlib's gzread reads both). All integers big-endian:
//   images: magic 0x00000803 (unsigned bytes, 3 dims), N, rows, cols, then N*rows*cols pixels
//   labels: magic 0x00000801 (unsigned bytes, 1 dim),  N, then N labels
#include <string>
#include <vector>

#include "convnet/data/dataset.h"

namespace convnet::data {

// Images as (N, 1, rows, cols), pixel / 255. Errors name the file and what is wrong: it is
// missing, has the wrong magic number, is truncated (expected N bytes, got M), the two
// files disagree on N, or (with class_names) a label is out of range.
Dataset load_idx(const std::string& images_path, const std::string& labels_path,
                 std::vector<std::string> class_names = {});

// The Fashion-MNIST class names, in label order.
const std::vector<std::string>& fashion_mnist_classes();

// Fashion-MNIST (or MNIST) from a directory holding train-images-idx3-ubyte(.gz),
// train-labels-idx1-ubyte(.gz), t10k-images-idx3-ubyte(.gz), t10k-labels-idx1-ubyte(.gz);
// `train` picks the 60000 training or the 10000 test images. A missing directory or file
// says where it looked and how to install the data (Debian's dataset-fashion-mnist).
Dataset load_fashion_mnist(const std::string& dir, bool train);

// Where Debian's dataset-fashion-mnist package installs the files.
constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

}  // namespace convnet::data
