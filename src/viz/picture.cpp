// Pictures: colormaps, grids, overlays, and the PNG encoder.
#include "convnet/viz/picture.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "convnet/core/error.h"
#include "convnet/train/checkpoint.h"

// The one definition of stb_image_write's implementation in the library (the data side
// defines only the reader, stb_image). STATIC keeps its symbols private to this file, so
// it cannot clash with Debian's libstb or any other copy; the rest of the library writes
// PNGs through encode_png().
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#endif
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

namespace convnet::viz {

Picture::Picture(int64_t w, int64_t h, uint8_t fill) : width(w), height(h), rgb(static_cast<size_t>(w * h * 3), fill) {
  CONVNET_CHECK(w >= 0 && h >= 0, "Picture: negative size ", w, "x", h);
}

namespace {
struct Stop {
  float t;
  uint8_t r, g, b;
};
// Piecewise-linear interpolation between color stops.
void interpolate(const Stop* stops, int n, float t, uint8_t rgb[3]) {
  t = std::clamp(std::isfinite(t) ? t : 0.f, 0.f, 1.f);
  int i = 0;
  while (i + 2 < n && t > stops[i + 1].t) ++i;
  const Stop& a = stops[i];
  const Stop& b = stops[i + 1];
  const float u = (t - a.t) / (b.t - a.t);
  rgb[0] = static_cast<uint8_t>(std::lround(a.r + u * (b.r - a.r)));
  rgb[1] = static_cast<uint8_t>(std::lround(a.g + u * (b.g - a.g)));
  rgb[2] = static_cast<uint8_t>(std::lround(a.b + u * (b.b - a.b)));
}
// matplotlib's RdBu_r end points and middle; inferno at five points.
constexpr Stop kDiverging[] = {{0.f, 33, 102, 172}, {0.5f, 247, 247, 247}, {1.f, 178, 24, 43}};
constexpr Stop kHeat[] = {
    {0.f, 0, 0, 4}, {0.25f, 87, 16, 110}, {0.5f, 188, 55, 84}, {0.75f, 249, 142, 9}, {1.f, 252, 255, 164}};
constexpr Stop kGray[] = {{0.f, 0, 0, 0}, {1.f, 255, 255, 255}};
}  // namespace

void colormap(Colormap cm, float t, uint8_t rgb[3]) {
  switch (cm) {
    case Colormap::Gray:
      return interpolate(kGray, 2, t, rgb);
    case Colormap::Diverging:
      return interpolate(kDiverging, 3, t, rgb);
    case Colormap::Heat:
      return interpolate(kHeat, 5, t, rgb);
  }
}

Scale value_range(const float* v, int64_t n, bool symmetric) {
  float lo = INFINITY, hi = -INFINITY;
  for (int64_t i = 0; i < n; ++i)
    if (std::isfinite(v[i])) lo = std::min(lo, v[i]), hi = std::max(hi, v[i]);
  if (lo > hi) return {0.f, 1.f};  // nothing finite
  if (symmetric) {
    const float m = std::max(std::abs(lo), std::abs(hi));
    return {-m, m};
  }
  return {lo, hi};
}

Picture plane_picture(const float* plane, int64_t H, int64_t W, const Scale& scale, Colormap cm, int64_t zoom_by) {
  Picture p(W * zoom_by, H * zoom_by);
  for (int64_t y = 0; y < p.height; ++y)
    for (int64_t x = 0; x < p.width; ++x)
      colormap(cm, scale.to_unit(plane[(y / zoom_by) * W + x / zoom_by]), p.at(x, y));
  return p;
}

Picture rgb_picture(const float* chw, int64_t H, int64_t W, const Scale& scale, int64_t zoom_by) {
  Picture p(W * zoom_by, H * zoom_by);
  for (int64_t y = 0; y < p.height; ++y)
    for (int64_t x = 0; x < p.width; ++x)
      for (int64_t c = 0; c < 3; ++c) {
        const float t = std::clamp(scale.to_unit(chw[(c * H + y / zoom_by) * W + x / zoom_by]), 0.f, 1.f);
        p.at(x, y)[c] = static_cast<uint8_t>(std::lround(255 * t));
      }
  return p;
}

Picture image_picture(const Tensor& chw, int64_t zoom_by) {
  CONVNET_CHECK(chw.dim() == 3 && (chw.size(0) == 1 || chw.size(0) == 3),
                "image_picture: expected a (1 or 3, H, W) image, got ", shape_str(chw.shape()));
  const int64_t H = chw.size(1), W = chw.size(2);
  if (chw.size(0) == 3) return rgb_picture(chw.data(), H, W, {0.f, 1.f}, zoom_by);
  return plane_picture(chw.data(), H, W, {0.f, 1.f}, Colormap::Gray, zoom_by);
}

Picture tile_grid(const std::vector<Picture>& tiles, int64_t cols, int64_t gap, uint8_t background) {
  CONVNET_CHECK(!tiles.empty(), "tile_grid: no tiles");
  CONVNET_CHECK(cols >= 1, "tile_grid: cols must be positive, got ", cols);
  const int64_t tw = tiles[0].width, th = tiles[0].height, n = static_cast<int64_t>(tiles.size());
  for (const auto& t : tiles)
    CONVNET_CHECK(t.width == tw && t.height == th, "tile_grid: tiles differ in size (", tw, "x", th, " and ", t.width,
                  "x", t.height, ")");
  cols = std::min(cols, n);
  const int64_t rows = (n + cols - 1) / cols;
  Picture p(cols * (tw + gap) + gap, rows * (th + gap) + gap, background);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t x0 = gap + (i % cols) * (tw + gap), y0 = gap + (i / cols) * (th + gap);
    for (int64_t y = 0; y < th; ++y) std::memcpy(p.at(x0, y0 + y), tiles[i].at(0, y), static_cast<size_t>(tw * 3));
  }
  return p;
}

Picture side_by_side(const std::vector<Picture>& pictures, int64_t gap, uint8_t background) {
  CONVNET_CHECK(!pictures.empty(), "side_by_side: no pictures");
  int64_t w = -gap, h = 0;
  for (const auto& q : pictures) w += q.width + gap, h = std::max(h, q.height);
  Picture p(w, h, background);
  int64_t x0 = 0;
  for (const auto& q : pictures) {
    for (int64_t y = 0; y < q.height; ++y) std::memcpy(p.at(x0, y), q.at(0, y), static_cast<size_t>(q.width * 3));
    x0 += q.width + gap;
  }
  return p;
}

Picture colorbar(Colormap cm, int64_t width, int64_t height) {
  Picture p(width, height);
  for (int64_t x = 0; x < width; ++x) {
    uint8_t c[3];
    colormap(cm, width > 1 ? static_cast<float>(x) / static_cast<float>(width - 1) : 0.5f, c);
    for (int64_t y = 0; y < height; ++y) std::memcpy(p.at(x, y), c, 3);
  }
  return p;
}

Picture overlay(const Picture& base, const float* heat, const Scale& scale, Colormap cm, float alpha) {
  Picture p = base;
  for (int64_t y = 0; y < p.height; ++y)
    for (int64_t x = 0; x < p.width; ++x) {
      const float t = std::clamp(scale.to_unit(heat[y * p.width + x]), 0.f, 1.f);
      uint8_t c[3];
      colormap(cm, t, c);
      uint8_t* d = p.at(x, y);
      for (int k = 0; k < 3; ++k) d[k] = static_cast<uint8_t>(std::lround((1 - alpha * t) * d[k] + alpha * t * c[k]));
    }
  return p;
}

Picture zoom(const Picture& q, int64_t factor) {
  Picture p(q.width * factor, q.height * factor);
  for (int64_t y = 0; y < p.height; ++y)
    for (int64_t x = 0; x < p.width; ++x) std::memcpy(p.at(x, y), q.at(x / factor, y / factor), 3);
  return p;
}

std::string encode_png(const Picture& p) {
  CONVNET_CHECK(p.width > 0 && p.height > 0, "encode_png: empty picture (", p.width, "x", p.height, ")");
  std::string png;
  auto sink = [](void* ctx, void* data, int size) {
    static_cast<std::string*>(ctx)->append(static_cast<const char*>(data), static_cast<size_t>(size));
  };
  CONVNET_CHECK(stbi_write_png_to_func(sink, &png, static_cast<int>(p.width), static_cast<int>(p.height), 3,
                                       p.rgb.data(), static_cast<int>(p.width * 3)) != 0,
                "encode_png: stb_image_write failed on a ", p.width, "x", p.height, " picture");
  return png;
}

void write_png(const std::string& path, const Picture& p) {
  train::write_file_atomic(path, encode_png(p));
}

std::string base64(const std::string& bytes) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    out += {k[v >> 18], k[(v >> 12) & 63], k[(v >> 6) & 63], k[v & 63]};
  }
  if (i + 1 == bytes.size()) {
    const uint32_t v = uint8_t(bytes[i]) << 16;
    out += {k[v >> 18], k[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == bytes.size()) {
    const uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8);
    out += {k[v >> 18], k[(v >> 12) & 63], k[(v >> 6) & 63], '='};
  }
  return out;
}

std::string png_data_uri(const Picture& p) {
  return "data:image/png;base64," + base64(encode_png(p));
}

}  // namespace convnet::viz
