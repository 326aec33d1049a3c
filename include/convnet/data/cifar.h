#pragma once
// CIFAR-10 and CIFAR-100 in their "binary version" (https://www.cs.toronto.edu/~kriz/cifar.html),
// the python-free layout:
//   CIFAR-10  cifar-10-batches-bin/data_batch_{1..5}.bin, test_batch.bin, batches.meta.txt
//             record = 1 label byte + 3072 pixel bytes
//   CIFAR-100 cifar-100-binary/train.bin, test.bin, coarse_label_names.txt, fine_label_names.txt
//             record = 1 coarse label byte + 1 fine label byte + 3072 pixel bytes
// The 3072 pixel bytes are the 1024 red, then 1024 green, then 1024 blue values of a 32x32
// image in row-major order, i.e. already (C, H, W). Images come out as (N, 3, 32, 32) with
// pixel / 255, as torchvision's ToTensor.
#include <string>
#include <vector>

#include "convnet/data/dataset.h"

namespace convnet::data {

// Reads the records of one file. label_bytes = 1 (CIFAR-10) or 2 (CIFAR-100); label_index
// picks which label byte is the class (0 = first). Labels >= num_classes are an error naming
// the file and the record. A size that is not a multiple of the record size is an error
// naming the file, its size and the record size.
Dataset load_cifar_file(const std::string& path, int label_bytes, int label_index, int64_t num_classes);

// `dir` is the folder holding the .bin files or its parent (cifar-10-batches-bin /
// cifar-100-binary are looked for inside it). `train` picks the 50000 training or the
// 10000 test images. Class names come from batches.meta.txt (CIFAR-10) or
// fine_/coarse_label_names.txt (CIFAR-100) when present, else the standard names.
Dataset load_cifar10(const std::string& dir, bool train);
Dataset load_cifar100(const std::string& dir, bool train, bool coarse = false);

const std::vector<std::string>& cifar10_classes();
const std::vector<std::string>& cifar100_fine_classes();    // 100 names, label order
const std::vector<std::string>& cifar100_coarse_classes();  // 20 superclass names

}  // namespace convnet::data
