// Image decoding (stb_image, compiled here with static linkage so that no other part of the
// program can clash with it) and PIL-compatible resizing.
#include "convnet/data/image.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <memory>

#include "convnet/core/error.h"

// stb is third-party C code: keep our -Wall -Wextra (-Werror) off it.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Warray-bounds"
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_MAX_DIMENSIONS (1 << 24)  // no side over 16M pixels, whatever a header says
#define STBI_FAILURE_USERMSG  // "unknown image type" rather than "unknown format"
#include <stb/stb_image.h>
#pragma GCC diagnostic pop

namespace convnet::data {

namespace {
std::atomic<int64_t> g_max_pixels{89'478'485};  // PIL's Image.MAX_IMAGE_PIXELS

int32_t le32(const unsigned char* p) {
  return static_cast<int32_t>(uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24);
}

// The largest image file read: more than any image within max_image_pixels() can need
// (uncompressed 16-bit RGBA, plus 16 MiB of metadata), so a hostile file is refused before it
// is read whole.
int64_t max_image_bytes() {
  return g_max_pixels.load() * 8 + (int64_t{16} << 20);
}

// A regular file's bytes (a FIFO would block), within max_image_bytes().
std::string read_image_file(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  CONVNET_CHECK(fs::exists(path, ec), "cannot decode image '", path, "': no such file");
  CONVNET_CHECK(fs::is_regular_file(path, ec), "cannot decode image '", path,
                "': not a regular file (a directory, FIFO or device)");
  const auto size = static_cast<int64_t>(fs::file_size(path, ec));
  CONVNET_CHECK(!ec, "cannot decode image '", path, "': cannot read its size (", ec.message(), ")");
  CONVNET_CHECK(size <= max_image_bytes(), "cannot decode image '", path, "': the file has ", size,
                " bytes, more than any image of at most ", g_max_pixels.load(), " pixels needs");
  std::ifstream f(path, std::ios::binary);
  CONVNET_CHECK(f.good(), "cannot decode image '", path, "': cannot open it");
  std::string bytes(static_cast<size_t>(size), '\0');
  f.read(bytes.data(), size);
  bytes.resize(static_cast<size_t>(f.gcount()));
  return bytes;
}

// Validates what stb would trust before it runs, on the file's bytes in memory (`path` names
// them in errors): BMP and PNM dimensions that stb's own arithmetic mishandles (a BMP height
// of INT_MIN, a PNM side of 2^32-1), PNG chunks and JPEG Huffman tables that make it read out
// of bounds, then the width and height from the header against the pixel limit. Returns them.
ImageInfo check_image_header(const std::string& bytes, const std::string& path) {
  CONVNET_CHECK(static_cast<int64_t>(bytes.size()) <= max_image_bytes(), "cannot decode image '", path,
                "': ", bytes.size(), " bytes, more than any image of at most ", g_max_pixels.load(), " pixels needs");
  // The first 4 KiB: every format's header below lies within them (zeros past the end).
  unsigned char head[4096] = {};
  const int64_t head_bytes = static_cast<int64_t>(std::min(bytes.size(), sizeof head));
  std::memcpy(head, bytes.data(), static_cast<size_t>(head_bytes));
  const auto file_size = static_cast<int64_t>(bytes.size());
  if (head[0] == 'B' && head[1] == 'M') {
    const int64_t w = le32(head + 18), h = le32(head + 22);
    CONVNET_CHECK(w > 0 && w <= (1 << 24) && h != 0 && h > -(1 << 24) && h <= (1 << 24), "cannot decode image '", path,
                  "': BMP header claims ", w, "x", h, " pixels (each side must be 1 to 16777216)");
    // Uncompressed (BI_RGB): the pixel rows must be in the file (stb would read past its
    // end as zeros, so a 54-byte file could stand for gigapixels).
    const int64_t bpp = int64_t{head[28]} | int64_t{head[29]} << 8, offset = uint32_t(le32(head + 10));
    if (le32(head + 30) == 0 && bpp > 0 && bpp <= 32) {
      const int64_t need = offset + std::abs(h) * ((w * bpp + 31) / 32 * 4);
      CONVNET_CHECK(file_size >= need, "cannot decode image '", path, "': BMP of ", w, "x", std::abs(h), " pixels at ",
                    bpp, " bits needs ", need, " bytes, the file has ", file_size, " (truncated)");
    }
  }
  if (head[0] == 'P' && head[1] >= '1' && head[1] <= '6') {
    // PNM: width, height and (but for P1/P4) maxval, decimal, separated by whitespace and
    // comments. Sides over 16M (more than 8 digits) would overflow stb's arithmetic; binary
    // P5/P6 must then hold all their samples (stb fills what is missing with zeros).
    const bool has_maxval = head[1] != '1' && head[1] != '4';
    const int want = has_maxval ? 3 : 2;
    int64_t v[3] = {0, 0, 0};
    int got = 0;
    int64_t i = 2;
    while (i < head_bytes && got < want) {
      if (head[i] == '#') {
        while (i < head_bytes && head[i] != '\n') ++i;
      } else if (head[i] >= '0' && head[i] <= '9') {
        const int64_t start = i;
        while (i < head_bytes && head[i] >= '0' && head[i] <= '9') ++i;
        CONVNET_CHECK(i - start <= 8, "cannot decode image '", path, "': PNM header has a number of ", i - start,
                      " digits (each side must be at most 16777216)");
        v[got++] = std::stoll(std::string(reinterpret_cast<const char*>(head) + start, static_cast<size_t>(i - start)));
      } else if (head[i] == ' ' || head[i] == '\t' || head[i] == '\n' || head[i] == '\r') {
        ++i;
      } else {
        break;
      }
    }
    CONVNET_CHECK(got == want && i < head_bytes && (!has_maxval || (v[2] >= 1 && v[2] <= 65535)),
                  "cannot decode image '", path, "': P", head[1] - '0',
                  " header is incomplete or malformed (width, height", has_maxval ? " and a maxval of 1 to 65535)" : ")");
    if (head[1] == '5' || head[1] == '6') {
      const int64_t samples = v[0] * v[1] * (head[1] == '6' ? 3 : 1) * (v[2] > 255 ? 2 : 1);
      CONVNET_CHECK(file_size >= i + 1 + samples, "cannot decode image '", path, "': P", head[1] - '0', " of ", v[0],
                    "x", v[1], " pixels needs ", samples, " bytes of samples, the file has ", file_size,
                    " in all (truncated)");
    }
  }
  if (std::memcmp(head, "\x89PNG\r\n\x1a\n", 8) == 0) {
    // The chunk lengths, walked before stb: a chunk past the end of the file or an empty
    // IDAT (on which stb_image copies from a null pointer) is refused.
    const int64_t size = file_size;
    int64_t at = 8;
    while (at + 8 <= size) {
      const auto* c = reinterpret_cast<const unsigned char*>(bytes.data()) + at;
      const int64_t len = int64_t{c[0]} << 24 | int64_t{c[1]} << 16 | int64_t{c[2]} << 8 | int64_t{c[3]};
      CONVNET_CHECK(len < (int64_t{1} << 31) && at + 12 + len <= size, "cannot decode image '", path,
                    "': PNG chunk at byte ", at, " claims ", len, " bytes, past the end of the file (", size,
                    " bytes)");
      if (std::memcmp(c + 4, "IDAT", 4) == 0)
        CONVNET_CHECK(len > 0, "cannot decode image '", path, "': PNG has an empty IDAT chunk at byte ", at);
      if (std::memcmp(c + 4, "IEND", 4) == 0) break;
      at += 12 + len;
    }
  }
  if (head[0] == 0xFF) {  // JPEG: stb takes any run of FF fill bytes before the SOI (FF D8)
    // JPEG Huffman tables (DHT segments, marker FF C4; entropy-coded data stuffs FF as FF 00,
    // so the marker appears nowhere else): more than 256 codes in a table makes stb_image
    // index past its tables. Refused before stb.
    const std::string& b = bytes;
    const auto u = [&](size_t i) { return static_cast<unsigned char>(b[i]); };
    // Walked as stb_image walks it: marker by marker from the start; a DHT's tables are read
    // while any of its declared length remains, and the next marker is read where the last
    // table ended (a table may spill into the following bytes); after a scan (SOS) the next
    // marker is the next FF not followed by 00 or a restart code.
    const auto at = [&](size_t i) -> unsigned { return i < b.size() ? u(i) : 0u; };
    size_t p = 0;
    while (p < b.size()) {
      if (at(p) != 0xFF) {  // stb skips to the next FF
        ++p;
        continue;
      }
      while (p < b.size() && at(p) == 0xFF) ++p;  // fill bytes
      const unsigned marker = at(p++);
      if (marker == 0xD9 || marker == 0x00 || (marker >= 0xD0 && marker <= 0xD8)) {
        if (marker == 0xD9) break;  // EOI
        continue;
      }
      const int64_t len = int64_t{at(p)} << 8 | at(p + 1);
      if (len < 2) break;  // stb stops at a bad length
      if (marker == 0xC4) {
        int64_t L = len - 2;
        size_t q = p + 2;
        while (L > 0 && q < b.size()) {
          size_t codes = 0;
          for (size_t k = 1; k <= 16; ++k) codes += at(q + k);
          CONVNET_CHECK(codes <= 256, "cannot decode image '", path, "': JPEG Huffman table at byte ", q, " has ",
                        codes, " codes (at most 256)");
          q += 17 + codes;
          L -= 17 + static_cast<int64_t>(codes);
        }
        p = q;
      } else {
        p += static_cast<size_t>(len);
        if (marker == 0xDA)  // entropy-coded data up to the next marker
          while (p + 1 < b.size() && !(at(p) == 0xFF && at(p + 1) != 0x00 && (at(p + 1) < 0xD0 || at(p + 1) > 0xD7)))
            ++p;
      }
    }
  }
  // stb's header probe runs on memory, not on the file: its file reader keeps a 128-byte
  // buffer, and a probe that reads past it (the JPEG one) "rewinds" to the start of the
  // current buffer, so the next probe parsed bytes from the middle of the file as a header
  // (a "P5" at byte 128 of a JPEG; found by the image fuzzer). Every header stb reads lies in
  // the first MiB (JPEG's SOF after at most a few 64 KiB APP segments).
  int w = 0, h = 0, n = 0;
  const auto prefix = static_cast<int>(std::min<int64_t>(file_size, 1 << 20));
  if (!stbi_info_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()), prefix, &w, &h, &n)) {
    const char* why = stbi_failure_reason();
    throw Error(detail::cat("cannot decode image '", path, "': ", why ? why : "unknown error"));
  }
  CONVNET_CHECK(w > 0 && h > 0, "cannot decode image '", path, "': its header says ", w, "x", h, " pixels");
  const int64_t limit = g_max_pixels.load();
  CONVNET_CHECK(int64_t{w} * h <= limit, "image '", path, "' is ", w, "x", h, " = ", int64_t{w} * h,
                " pixels, over the limit of ", limit, " (--max-image-pixels raises it)");
  return {n, h, w};
}
}  // namespace

int64_t max_image_pixels() {
  return g_max_pixels.load();
}
void set_max_image_pixels(int64_t pixels) {
  CONVNET_CHECK(pixels > 0, "the image pixel limit must be positive, got ", pixels);
  g_max_pixels.store(pixels);
}

Image decode_image_bytes(const std::string& bytes, int64_t channels, const std::string& name) {
  const std::string& path = name;
  CONVNET_CHECK(channels == 1 || channels == 3, "decode_image: channels must be 1 or 3, got ", channels);
  check_image_header(bytes, path);
  CONVNET_CHECK(bytes.size() <= static_cast<size_t>(std::numeric_limits<int>::max()), "cannot decode image '", path,
                "': ", bytes.size(), " bytes, more than stb_image reads (2 GiB)");
  int w = 0, h = 0, n = 0;
  std::unique_ptr<unsigned char, void (*)(void*)> px(
      stbi_load_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()), static_cast<int>(bytes.size()), &w, &h, &n,
                            0),
      stbi_image_free);
  if (!px) {
    const char* why = stbi_failure_reason();
    throw Error(detail::cat("cannot decode image '", path, "': ", why ? why : "unknown error"));
  }
  CONVNET_CHECK(w > 0 && h > 0 && n >= 1 && n <= 4, "cannot decode image '", path, "': decoded as ", w, "x", h,
                " pixels of ", n, " channels");
  Image img;
  img.channels = channels;
  img.height = h;
  img.width = w;
  const int64_t HW = int64_t{h} * w;
  img.data.resize(static_cast<size_t>(channels * HW));
  const unsigned char* p = px.get();
  for (int64_t i = 0; i < HW; ++i) {
    const unsigned char* q = p + i * n;  // interleaved: gray[, alpha] or R, G, B[, alpha]
    if (n <= 2) {
      for (int64_t c = 0; c < channels; ++c) img.data[c * HW + i] = q[0] / 255.f;
    } else if (channels == 3) {
      for (int64_t c = 0; c < 3; ++c) img.data[c * HW + i] = q[c] / 255.f;
    } else {
      // PIL's convert("L"): L = R 299/1000 + G 587/1000 + B 114/1000 in 16-bit fixed point,
      // rounded to a byte, so gray images match torchvision's Grayscale exactly.
      const uint32_t L = (q[0] * 19595u + q[1] * 38470u + q[2] * 7471u + 0x8000u) >> 16;
      img.data[i] = static_cast<float>(L) / 255.f;
    }
  }
  return img;
}

Image decode_image(const std::string& path, int64_t channels) {
  CONVNET_CHECK(channels == 1 || channels == 3, "decode_image: channels must be 1 or 3, got ", channels);
  return decode_image_bytes(read_image_file(path), channels, path);
}

ImageInfo image_info(const std::string& path) {
  return check_image_header(read_image_file(path), path);
}
ImageInfo image_info_bytes(const std::string& bytes, const std::string& name) {
  return check_image_header(bytes, name);
}

namespace {

// PIL's resampling weights along one axis (Imaging/Resample.c, precompute_coeffs) for the
// bilinear (triangle, support 1) filter: output i covers input centre (i + 0.5) * scale, and
// when shrinking the filter is stretched by the scale so every input pixel contributes.
struct Taps {
  std::vector<int64_t> first;         // first input index of each output
  std::vector<std::vector<float>> w;  // normalized weights from `first` on
};

Taps taps(int64_t in, int64_t out) {
  const double scale = static_cast<double>(in) / static_cast<double>(out);
  const double fs = std::max(scale, 1.0), support = fs;  // triangle support 1, stretched
  Taps t;
  for (int64_t i = 0; i < out; ++i) {
    const double center = (static_cast<double>(i) + 0.5) * scale;
    const auto lo = std::max<int64_t>(static_cast<int64_t>(center - support + 0.5), 0);
    const auto hi = std::min<int64_t>(static_cast<int64_t>(center + support + 0.5), in);
    std::vector<float> w;
    double sum = 0;
    std::vector<double> wd;
    for (int64_t x = lo; x < hi; ++x) {
      const double v = std::max(0.0, 1.0 - std::abs((static_cast<double>(x) - center + 0.5) / fs));
      wd.push_back(v);
      sum += v;
    }
    for (double v : wd) w.push_back(static_cast<float>(sum > 0 ? v / sum : 0.0));
    t.first.push_back(lo);
    t.w.push_back(std::move(w));
  }
  return t;
}

}  // namespace

Image resize_bilinear(const Image& img, int64_t out_h, int64_t out_w) {
  CONVNET_CHECK(out_h > 0 && out_w > 0, "resize: target size must be positive, got ", out_h, "x", out_w);
  CONVNET_CHECK(img.height > 0 && img.width > 0, "resize: empty image ", img.height, "x", img.width);
  if (out_h == img.height && out_w == img.width) return img;
  const int64_t C = img.channels, H = img.height, W = img.width;
  // Horizontal pass then vertical pass, as PIL does.
  const Taps tx = taps(W, out_w), ty = taps(H, out_h);
  std::vector<float> mid(static_cast<size_t>(C * H * out_w));
  for (int64_t c = 0; c < C; ++c)
    for (int64_t y = 0; y < H; ++y) {
      const float* src = img.data.data() + (c * H + y) * W;
      float* dst = mid.data() + (c * H + y) * out_w;
      for (int64_t x = 0; x < out_w; ++x) {
        float s = 0;
        for (size_t k = 0; k < tx.w[x].size(); ++k) s += tx.w[x][k] * src[tx.first[x] + static_cast<int64_t>(k)];
        dst[x] = s;
      }
    }
  Image out;
  out.channels = C;
  out.height = out_h;
  out.width = out_w;
  out.data.assign(static_cast<size_t>(C * out_h * out_w), 0.f);
  for (int64_t c = 0; c < C; ++c)
    for (int64_t y = 0; y < out_h; ++y) {
      float* dst = out.data.data() + (c * out_h + y) * out_w;
      for (size_t k = 0; k < ty.w[y].size(); ++k) {
        const float wk = ty.w[y][k];
        const float* src = mid.data() + (c * H + ty.first[y] + static_cast<int64_t>(k)) * out_w;
        for (int64_t x = 0; x < out_w; ++x) dst[x] += wk * src[x];
      }
    }
  return out;
}

Image center_crop(const Image& img, int64_t out_h, int64_t out_w) {
  CONVNET_CHECK(out_h > 0 && out_w > 0 && out_h <= img.height && out_w <= img.width, "center_crop: cannot crop ", out_h,
                "x", out_w, " out of a ", img.height, "x", img.width, " image");
  // Python's round() rounds halves to even; nearbyint does the same in the default mode.
  const auto top = static_cast<int64_t>(std::nearbyint((img.height - out_h) / 2.0));
  const auto left = static_cast<int64_t>(std::nearbyint((img.width - out_w) / 2.0));
  Image out;
  out.channels = img.channels;
  out.height = out_h;
  out.width = out_w;
  out.data.resize(static_cast<size_t>(img.channels * out_h * out_w));
  for (int64_t c = 0; c < img.channels; ++c)
    for (int64_t y = 0; y < out_h; ++y)
      std::copy_n(img.data.data() + (c * img.height + top + y) * img.width + left, out_w,
                  out.data.data() + (c * out_h + y) * out_w);
  return out;
}

Image resize_to(const Image& img, int64_t size, const std::string& resize_mode) {
  CONVNET_CHECK(resize_mode == "resize" || resize_mode == "center-crop", "resize mode must be 'resize' or ",
                "'center-crop', got '", resize_mode, "'");
  CONVNET_CHECK(size >= 0, "image size must be non-negative, got ", size);
  if (size == 0) return img;
  if (resize_mode == "resize") return resize_bilinear(img, size, size);
  // torchvision Resize(size): the shorter side becomes size, the longer int(size * long / short).
  const int64_t H = img.height, W = img.width;
  const int64_t oh = H <= W ? size : size * H / W, ow = H <= W ? size * W / H : size;
  return center_crop(resize_bilinear(img, oh, ow), size, size);
}

Tensor load_image(const std::string& path, int64_t channels, int64_t size, const std::string& resize_mode) {
  const Image img = resize_to(decode_image(path, channels), size, resize_mode);
  return Tensor::from_vector({img.channels, img.height, img.width}, img.data);
}

}  // namespace convnet::data
