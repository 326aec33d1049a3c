// The zip archive of torch.save for the .pth reader (pth_zip.h).
#include "pth_zip.h"

#include <zlib.h>

#include <algorithm>

namespace convnet::io::pth_impl {

namespace {
constexpr int64_t kMaxZipEntries = 1 << 20;
}  // namespace

std::map<std::string, ZipEntry> read_zip(File& file) {
  const std::string& path = file.path;
  // End of central directory: 22 bytes plus a comment of up to 65535, at the end.
  const int64_t tail_n = std::min<int64_t>(file.size, 22 + 65535);
  const std::string tail = file.read(file.size - tail_n, tail_n, "the end of the zip archive");
  int64_t eocd = -1;
  for (int64_t i = tail_n - 22; i >= 0; --i)
    if (le(tail, i, 4) == 0x06054b50) {
      eocd = i;
      break;
    }
  CONVNET_CHECK(eocd >= 0, "pth: '", path,
                "' starts as a zip archive but has no end-of-central-directory record (truncated?)");
  uint64_t entries = le(tail, eocd + 10, 2), cd_size = le(tail, eocd + 12, 4), cd_off = le(tail, eocd + 16, 4);
  if (entries == 0xFFFF || cd_size == 0xFFFFFFFF || cd_off == 0xFFFFFFFF) {
    // ZIP64: the locator sits just before the record and points at the ZIP64 record.
    const int64_t at = file.size - tail_n + eocd - 20;
    CONVNET_CHECK(at >= 0, "pth: '", path, "': a ZIP64 archive without its locator");
    const std::string loc = file.read(at, 20, "the ZIP64 locator");
    CONVNET_CHECK(le(loc, 0, 4) == 0x07064b50, "pth: '", path, "': a ZIP64 archive without its locator");
    const uint64_t rec_off = le(loc, 8, 8);
    CONVNET_CHECK(rec_off <= static_cast<uint64_t>(file.size), "pth: '", path,
                  "': the ZIP64 record offset lies outside the file");
    const std::string rec = file.read(static_cast<int64_t>(rec_off), 56, "the ZIP64 end-of-central-directory record");
    CONVNET_CHECK(le(rec, 0, 4) == 0x06064b50, "pth: '", path,
                  "': the ZIP64 end-of-central-directory record is corrupt");
    entries = le(rec, 32, 8), cd_size = le(rec, 40, 8), cd_off = le(rec, 48, 8);
  }
  CONVNET_CHECK(cd_off <= static_cast<uint64_t>(file.size) && cd_size <= static_cast<uint64_t>(file.size) - cd_off,
                "pth: '", path, "': the zip central directory (", cd_size, " bytes at ", cd_off, ") lies outside the ",
                file.size, "-byte file");
  CONVNET_CHECK(entries <= static_cast<uint64_t>(kMaxZipEntries) && entries * 46 <= cd_size, "pth: '", path,
                "': the zip archive claims ", entries, " entries in a ", cd_size, "-byte central directory");
  const std::string cd =
      file.read(static_cast<int64_t>(cd_off), static_cast<int64_t>(cd_size), "the zip central directory");
  std::map<std::string, ZipEntry> out;
  size_t p = 0;
  for (uint64_t k = 0; k < entries; ++k) {
    CONVNET_CHECK(p + 46 <= cd.size() && le(cd, p, 4) == 0x02014b50, "pth: '", path, "': zip central directory entry ",
                  k, " is corrupt");
    const uint64_t flags = le(cd, p + 8, 2), method = le(cd, p + 10, 2), crc = le(cd, p + 16, 4);
    uint64_t csize = le(cd, p + 20, 4), usize = le(cd, p + 24, 4), local = le(cd, p + 42, 4);
    const size_t nlen = le(cd, p + 28, 2), xlen = le(cd, p + 30, 2), clen = le(cd, p + 32, 2);
    CONVNET_CHECK(p + 46 + nlen + xlen + clen <= cd.size(), "pth: '", path, "': zip central directory entry ", k,
                  " runs past the directory");
    const std::string name = cd.substr(p + 46, nlen);
    // ZIP64 extra field (id 1): the 64-bit sizes and offset, for those whose 32-bit field is full.
    for (size_t x = p + 46 + nlen; x + 4 <= p + 46 + nlen + xlen;) {
      const uint64_t id = le(cd, x, 2), len = le(cd, x + 2, 2);
      CONVNET_CHECK(x + 4 + len <= p + 46 + nlen + xlen, "pth: '", path, "': zip entry '", name,
                    "' has a malformed extra field");
      if (id == 1) {
        size_t y = x + 4;
        for (uint64_t* v : {&usize, &csize, &local})
          if (*v == 0xFFFFFFFF) {
            CONVNET_CHECK(y + 8 <= x + 4 + len, "pth: '", path, "': zip entry '", name,
                          "' has a ZIP64 field too short for its sizes");
            *v = le(cd, y, 8), y += 8;
          }
      }
      x += 4 + len;
    }
    p += 46 + nlen + xlen + clen;
    // Compressed or encrypted entries are refused when read (a TorchScript archive, which
    // compresses its code, is then named as such first).
    if (method != 0 || (flags & 1)) usize = 0;
    CONVNET_CHECK(csize == usize || method != 0 || (flags & 1), "pth: '", path, "': zip entry '", name,
                  "' is stored but its sizes differ (", csize, " and ", usize, ")");
    CONVNET_CHECK(local <= static_cast<uint64_t>(file.size) - 30, "pth: '", path, "': zip entry '", name,
                  "' has a local header outside the file");
    const std::string lh = file.read(static_cast<int64_t>(local), 30, "a zip local header");
    CONVNET_CHECK(le(lh, 0, 4) == 0x04034b50, "pth: '", path, "': zip entry '", name,
                  "' points at a corrupt local header");
    const uint64_t data = local + 30 + le(lh, 26, 2) + le(lh, 28, 2);
    CONVNET_CHECK(data <= static_cast<uint64_t>(file.size) && usize <= static_cast<uint64_t>(file.size) - data,
                  "pth: '", path, "': zip entry '", name, "' (", usize, " bytes at ", data, ") lies outside the ",
                  file.size, "-byte file (truncated?)");
    CONVNET_CHECK(out.emplace(name, ZipEntry{static_cast<int64_t>(data), static_cast<int64_t>(usize),
                                             static_cast<uint32_t>(crc), static_cast<int>(method), (flags & 1) != 0})
                      .second,
                  "pth: '", path, "': the zip archive has the entry '", name, "' twice");
  }
  return out;
}

std::string read_entry(File& file, const std::string& name, const ZipEntry& e) {
  CONVNET_CHECK(!e.encrypted, "pth: '", file.path, "': zip entry '", name, "' is encrypted");
  CONVNET_CHECK(e.method == 0, "pth: '", file.path, "': zip entry '", name, "' is compressed (method ", e.method,
                "); torch.save stores entries uncompressed, and only those are read");
  std::string s = file.read(e.offset, e.size, ("zip entry '" + name + "'").c_str());
  const uLong crc = crc32_z(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(s.data()), s.size());
  CONVNET_CHECK(crc == e.crc, "pth: '", file.path, "': zip entry '", name, "' fails its CRC check (corrupt file)");
  return s;
}

}  // namespace convnet::io::pth_impl
