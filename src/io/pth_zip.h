// Internal to the .pth reader (src/io/pth.cpp): the file with bounded reads, and the zip
// archive of torch.save (stored entries only, ZIP64 read, each entry checked against the
// file's size before anything is read, and against its CRC-32 when read).
#pragma once
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "convnet/core/error.h"

namespace convnet::io::pth_impl {

// The file, read with explicit bounds.
struct File {
  std::string path;
  std::ifstream f;
  int64_t size = 0;

  explicit File(const std::string& p) : path(p) {
    namespace fs = std::filesystem;
    std::error_code ec;
    CONVNET_CHECK(fs::exists(p, ec), "pth: cannot open '", p, "' (no such file or not readable)");
    CONVNET_CHECK(fs::is_regular_file(p, ec), "pth: '", p,
                  "' is not a regular file (a directory, FIFO or device); give a .pth file");
    f.open(p, std::ios::binary);
    CONVNET_CHECK(f.good(), "pth: cannot open '", p, "' (not readable)");
    f.seekg(0, std::ios::end);
    size = f.tellg();
    f.seekg(0);
  }
  std::string read(int64_t off, int64_t n, const char* what) {
    CONVNET_CHECK(off >= 0 && n >= 0 && off <= size && n <= size - off, "pth: '", path, "': ", what, " (bytes ", off,
                  " to ", off + n, ") lies outside the ", size, "-byte file (truncated?)");
    std::string s(static_cast<size_t>(n), '\0');
    f.seekg(off);
    if (n) f.read(s.data(), n);
    CONVNET_CHECK(f.good(), "pth: '", path, "': read error in ", what);
    return s;
  }
};

inline uint64_t le(const std::string& s, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

// ---------------------------------------------------------------------------------------
// The zip archive: stored (uncompressed) entries only, as torch.save writes them.
struct ZipEntry {
  int64_t offset = 0, size = 0;  // of the data
  uint32_t crc = 0;
  int method = 0;  // 0: stored
  bool encrypted = false;
};

std::map<std::string, ZipEntry> read_zip(File& file);
// The bytes of entry `name`; refuses compressed and encrypted entries and a CRC mismatch.
std::string read_entry(File& file, const std::string& name, const ZipEntry& e);

}  // namespace convnet::io::pth_impl
