// idx files (MNIST, Fashion-MNIST), read through zlib so .gz and raw files both work.
#include "convnet/data/idx.h"

#include <zlib.h>

#include <algorithm>
#include <climits>
#include <filesystem>
#include <memory>

#include "convnet/core/error.h"

namespace convnet::data {

namespace {

constexpr uint32_t kImagesMagic = 0x00000803;  // unsigned byte, 3 dimensions
constexpr uint32_t kLabelsMagic = 0x00000801;  // unsigned byte, 1 dimension

std::string hex32(uint32_t v) {
  static const char* digits = "0123456789abcdef";
  std::string s = "0x00000000";
  for (int i = 9; i >= 2; --i, v >>= 4) s[i] = digits[v & 0xf];
  return s;
}

// An open idx file; read() returns the number of bytes actually read.
class IdxFile {
 public:
  explicit IdxFile(const std::string& path) : path_(path) {
    CONVNET_CHECK(std::filesystem::exists(path), "load_idx: '", path, "': no such file");
    CONVNET_CHECK(!std::filesystem::is_directory(path), "load_idx: '", path, "' is a directory, not an idx file");
    CONVNET_CHECK(std::filesystem::is_regular_file(path), "load_idx: '", path,
                  "' is not a regular file (a FIFO or device), not an idx file");
    f_ = gzopen(path.c_str(), "rb");
    CONVNET_CHECK(f_ != nullptr, "load_idx: '", path, "': cannot open");
  }
  ~IdxFile() {
    if (f_) gzclose(f_);
  }
  IdxFile(const IdxFile&) = delete;
  IdxFile& operator=(const IdxFile&) = delete;

  int64_t read(void* dst, int64_t n) {
    auto* p = static_cast<unsigned char*>(dst);
    int64_t got = 0;
    while (got < n) {
      const unsigned chunk = static_cast<unsigned>(std::min<int64_t>(n - got, INT_MAX / 2));
      const int r = gzread(f_, p + got, chunk);
      if (r < 0) {
        int errnum = 0;
        const char* msg = gzerror(f_, &errnum);
        throw Error(detail::cat("load_idx: '", path_, "': read error: ", msg ? msg : "unknown"));
      }
      if (r == 0) break;
      got += r;
    }
    return got;
  }

  // The big-endian header words; the magic number is checked before the rest is read, so
  // a wrong file is reported as such even when it is shorter than the header.
  std::vector<uint32_t> header(uint32_t magic, int words, const char* what) {
    std::vector<uint32_t> w(static_cast<size_t>(words));
    for (int i = 0; i < words; ++i) {
      unsigned char b[4];
      const int64_t got = read(b, 4);
      CONVNET_CHECK(got == 4, "load_idx: '", path_, "': truncated ", what, " file: expected a ", 4 * words,
                    "-byte header, got ", 4 * i + got, " bytes");
      w[i] = (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]};
      if (i == 0)
        CONVNET_CHECK(w[0] == magic, "load_idx: '", path_, "': wrong magic number ", hex32(w[0]), ", expected ",
                      hex32(magic), " (idx ", what, "); is this an idx ", what, " file?");
    }
    return w;
  }

  // Exactly n bytes, read in chunks of at most 64 MiB into a buffer that grows as they
  // arrive; fewer throws convnet::Error with message(bytes read).
  template <class Message>
  std::vector<unsigned char> read_exactly(int64_t n, const Message& message) {
    constexpr int64_t kChunk = int64_t{64} << 20;
    std::vector<unsigned char> out;
    int64_t got = 0;
    while (got < n) {
      const int64_t want = std::min(kChunk, n - got);
      out.resize(static_cast<size_t>(got + want));
      const int64_t r = read(out.data() + got, want);
      got += r;
      if (r < want) break;
    }
    if (got < n) throw Error(message(got));
    return out;
  }

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  gzFile f_ = nullptr;
};

}  // namespace

Dataset load_idx(const std::string& images_path, const std::string& labels_path,
                 std::vector<std::string> class_names) {
  Dataset d;
  // images: magic, N, rows, cols, pixels
  IdxFile fi(images_path);
  const auto hi = fi.header(kImagesMagic, 4, "images");
  const int64_t n = hi[1], rows = hi[2], cols = hi[3];
  CONVNET_CHECK(rows > 0 && cols > 0, "load_idx: '", images_path, "': images of ", rows, "x", cols,
                " pixels (both must be positive)");
  // Each count is below 2^32, but rows*cols may not fit in 63 bits: bound the sides first,
  // then n before n*rows*cols can overflow.
  CONVNET_CHECK(rows <= (1 << 20) && cols <= (1 << 20), "load_idx: '", images_path, "': images of ", rows, "x", cols,
                " pixels (each side must be at most 1048576)");
  CONVNET_CHECK(n <= (int64_t{1} << 40) / (rows * cols), "load_idx: '", images_path, "': ", n, " images of ", rows,
                "x", cols, " is implausibly large");
  const int64_t bytes = n * rows * cols;
  // The header's count is a claim: the pixels are read in chunks and the buffer grows only
  // with bytes that actually arrive, so a 16-byte file claiming millions of images costs
  // nothing before it is found truncated.
  const std::vector<unsigned char> pix = fi.read_exactly(bytes, [&](int64_t got) {
    return detail::cat("load_idx: '", images_path, "': truncated images file: expected ", bytes, " bytes of pixels (",
                       n, " images of ", rows, "x", cols, "), got ", got);
  });

  // labels: magic, N, labels
  IdxFile fl(labels_path);
  const auto hl = fl.header(kLabelsMagic, 2, "labels");
  CONVNET_CHECK(int64_t{hl[1]} == n, "load_idx: inconsistent counts: '", images_path, "' has ", n, " images but '",
                labels_path, "' has ", hl[1], " labels");
  const std::vector<unsigned char> lab = fl.read_exactly(n, [&](int64_t got) {
    return detail::cat("load_idx: '", labels_path, "': truncated labels file: expected ", n, " bytes of labels, got ",
                       got);
  });

  d.images = Tensor::empty({n, 1, rows, cols});
  float* x = d.images.data();
  for (int64_t i = 0; i < bytes; ++i) x[i] = static_cast<float>(pix[i]) / 255.f;  // as torchvision's ToTensor
  d.labels.assign(lab.begin(), lab.end());
  if (!class_names.empty())
    for (int64_t i = 0; i < n; ++i)
      CONVNET_CHECK(d.labels[i] < static_cast<int64_t>(class_names.size()), "load_idx: '", labels_path, "': label ",
                    d.labels[i], " of sample ", i, " is out of range for ", class_names.size(), " classes");
  d.class_names = std::move(class_names);
  return d;
}

const std::vector<std::string>& fashion_mnist_classes() {
  static const std::vector<std::string> names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                 "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return names;
}

Dataset load_fashion_mnist(const std::string& dir, bool train) {
  namespace fs = std::filesystem;
  const std::string split = train ? "train" : "t10k";
  // name.gz if present, else the uncompressed name.
  auto find = [&](const std::string& name) {
    const fs::path base = fs::path(dir) / name;
    for (const fs::path& p : {fs::path(base.string() + ".gz"), base})
      if (fs::is_regular_file(p)) return p.string();
    throw Error(detail::cat("Fashion-MNIST not found at ", dir, ": expected ", name, ".gz (or ", name,
                            "); install Debian's dataset-fashion-mnist package (apt-get install "
                            "dataset-fashion-mnist) or pass --data-dir"));
  };
  const std::string images = find(split + "-images-idx3-ubyte");
  const std::string labels = find(split + "-labels-idx1-ubyte");
  return load_idx(images, labels, fashion_mnist_classes());
}

}  // namespace convnet::data
