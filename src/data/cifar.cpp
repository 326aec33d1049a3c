// CIFAR-10 / CIFAR-100 binary version: fixed-size records, no header, no compression.
#include "convnet/data/cifar.h"

#include <filesystem>
#include <fstream>

#include "convnet/core/error.h"

namespace convnet::data {

namespace fs = std::filesystem;

namespace {

constexpr int64_t kPixels = 3 * 32 * 32;

// Class names from a text file of one name per line (blank lines and trailing '\r' dropped);
// `fallback` when the file is absent or does not hold exactly the expected count.
std::vector<std::string> names_from(const fs::path& file, const std::vector<std::string>& fallback) {
  std::ifstream in(file);
  if (!in) return fallback;
  std::vector<std::string> names;
  for (std::string line; std::getline(in, line);) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) names.push_back(line);
  }
  return names.size() == fallback.size() ? names : fallback;
}

// `dir` itself when it holds `probe`, else dir/sub when that does.
fs::path find_dir(const std::string& dir, const char* sub, const char* probe, const char* what) {
  CONVNET_CHECK(!dir.empty(), what,
                ": no data directory given; download the binary version from "
                "https://www.cs.toronto.edu/~kriz/cifar.html, unpack it and pass its folder (--data-dir)");
  const fs::path d(dir);
  if (fs::exists(d / probe)) return d;
  if (fs::exists(d / sub / probe)) return d / sub;
  throw Error(detail::cat(what, " not found at ", dir, ": expected ", probe, " there or in ", (d / sub).string(),
                          " (the binary version from https://www.cs.toronto.edu/~kriz/cifar.html)"));
}

Dataset concat(std::vector<Dataset> parts) {
  if (parts.size() == 1) return std::move(parts[0]);
  int64_t n = 0;
  for (const auto& p : parts) n += p.size();
  Dataset out;
  out.images = Tensor::empty({n, 3, 32, 32});
  float* dst = out.images.data();
  for (const auto& p : parts) {
    std::copy(p.images.data(), p.images.data() + p.images.numel(), dst);
    dst += p.images.numel();
    out.labels.insert(out.labels.end(), p.labels.begin(), p.labels.end());
  }
  return out;
}

}  // namespace

Dataset load_cifar_file(const std::string& path, int label_bytes, int label_index, int64_t num_classes) {
  CONVNET_CHECK(label_bytes >= 1 && label_index >= 0 && label_index < label_bytes, "load_cifar_file: label_index ",
                label_index, " must be below label_bytes ", label_bytes);
  CONVNET_CHECK(fs::is_regular_file(path), "CIFAR: '", path, "': no such file");
  const int64_t record = label_bytes + kPixels;
  const auto size = static_cast<int64_t>(fs::file_size(path));
  CONVNET_CHECK(size % record == 0 && size > 0, "CIFAR: '", path, "' has ", size,
                " bytes, which is not a positive multiple of the record size ", record, " (", label_bytes,
                " label byte", label_bytes > 1 ? "s" : "", " + 3072 pixel bytes); is it truncated or not a CIFAR-",
                label_bytes == 1 ? "10" : "100", " binary file?");
  const int64_t n = size / record;
  std::ifstream in(path, std::ios::binary);
  std::vector<unsigned char> raw(static_cast<size_t>(size));
  in.read(reinterpret_cast<char*>(raw.data()), size);
  CONVNET_CHECK(in.gcount() == size, "CIFAR: '", path, "': read ", in.gcount(), " of ", size, " bytes");
  Dataset d;
  d.images = Tensor::empty({n, 3, 32, 32});
  d.labels.resize(static_cast<size_t>(n));
  float* x = d.images.data();
  for (int64_t i = 0; i < n; ++i) {
    const unsigned char* r = raw.data() + i * record;
    d.labels[i] = r[label_index];
    CONVNET_CHECK(d.labels[i] < num_classes, "CIFAR: '", path, "': record ", i, " has label ", d.labels[i],
                  ", out of range for ", num_classes, " classes");
    for (int64_t k = 0; k < kPixels; ++k) x[i * kPixels + k] = static_cast<float>(r[label_bytes + k]) / 255.f;
  }
  return d;
}

Dataset load_cifar10(const std::string& dir, bool train) {
  const fs::path d = find_dir(dir, "cifar-10-batches-bin", train ? "data_batch_1.bin" : "test_batch.bin", "CIFAR-10");
  std::vector<Dataset> parts;
  if (train)
    for (int i = 1; i <= 5; ++i)
      parts.push_back(load_cifar_file((d / ("data_batch_" + std::to_string(i) + ".bin")).string(), 1, 0, 10));
  else
    parts.push_back(load_cifar_file((d / "test_batch.bin").string(), 1, 0, 10));
  Dataset out = concat(std::move(parts));
  out.class_names = names_from(d / "batches.meta.txt", cifar10_classes());
  return out;
}

Dataset load_cifar100(const std::string& dir, bool train, bool coarse) {
  const char* file = train ? "train.bin" : "test.bin";
  const fs::path d = find_dir(dir, "cifar-100-binary", file, "CIFAR-100");
  Dataset out = load_cifar_file((d / file).string(), 2, coarse ? 0 : 1, coarse ? 20 : 100);
  out.class_names = coarse ? names_from(d / "coarse_label_names.txt", cifar100_coarse_classes())
                           : names_from(d / "fine_label_names.txt", cifar100_fine_classes());
  return out;
}

const std::vector<std::string>& cifar10_classes() {
  static const std::vector<std::string> names = {"airplane", "automobile", "bird",  "cat",  "deer",
                                                 "dog",      "frog",       "horse", "ship", "truck"};
  return names;
}

const std::vector<std::string>& cifar100_fine_classes() {
  static const std::vector<std::string> names = {
      "apple",      "aquarium_fish", "baby",         "bear",       "beaver",      "bed",         "bee",
      "beetle",     "bicycle",       "bottle",       "bowl",       "boy",         "bridge",      "bus",
      "butterfly",  "camel",         "can",          "castle",     "caterpillar", "cattle",      "chair",
      "chimpanzee", "clock",         "cloud",        "cockroach",  "couch",       "crab",        "crocodile",
      "cup",        "dinosaur",      "dolphin",      "elephant",   "flatfish",    "forest",      "fox",
      "girl",       "hamster",       "house",        "kangaroo",   "keyboard",    "lamp",        "lawn_mower",
      "leopard",    "lion",          "lizard",       "lobster",    "man",         "maple_tree",  "motorcycle",
      "mountain",   "mouse",         "mushroom",     "oak_tree",   "orange",      "orchid",      "otter",
      "palm_tree",  "pear",          "pickup_truck", "pine_tree",  "plain",       "plate",       "poppy",
      "porcupine",  "possum",        "rabbit",       "raccoon",    "ray",         "road",        "rocket",
      "rose",       "sea",           "seal",         "shark",      "shrew",       "skunk",       "skyscraper",
      "snail",      "snake",         "spider",       "squirrel",   "streetcar",   "sunflower",   "sweet_pepper",
      "table",      "tank",          "telephone",    "television", "tiger",       "tractor",     "train",
      "trout",      "tulip",         "turtle",       "wardrobe",   "whale",       "willow_tree", "wolf",
      "woman",      "worm"};
  return names;
}

const std::vector<std::string>& cifar100_coarse_classes() {
  static const std::vector<std::string> names = {"aquatic_mammals",
                                                 "fish",
                                                 "flowers",
                                                 "food_containers",
                                                 "fruit_and_vegetables",
                                                 "household_electrical_devices",
                                                 "household_furniture",
                                                 "insects",
                                                 "large_carnivores",
                                                 "large_man-made_outdoor_things",
                                                 "large_natural_outdoor_scenes",
                                                 "large_omnivores_and_herbivores",
                                                 "medium_mammals",
                                                 "non-insect_invertebrates",
                                                 "people",
                                                 "reptiles",
                                                 "small_mammals",
                                                 "trees",
                                                 "vehicles_1",
                                                 "vehicles_2"};
  return names;
}

}  // namespace convnet::data
