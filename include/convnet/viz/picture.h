#pragma once
// 8-bit RGB pictures for "what a CNN sees": colormaps that state their scale, grids of
// tiles, heat-map overlays, and PNG encoding (stb_image_write; its one definition in the
// library is src/viz/picture.cpp). Pictures are row-major, 3 bytes per pixel.
#include <cstdint>
#include <string>
#include <vector>

#include "convnet/core/tensor.h"

namespace convnet::viz {

struct Picture {
  int64_t width = 0, height = 0;
  std::vector<uint8_t> rgb;  // height * width * 3
  Picture() = default;
  Picture(int64_t w, int64_t h, uint8_t fill = 255);
  uint8_t* at(int64_t x, int64_t y) { return &rgb[static_cast<size_t>((y * width + x) * 3)]; }
  const uint8_t* at(int64_t x, int64_t y) const { return &rgb[static_cast<size_t>((y * width + x) * 3)]; }
};

// How a value in [lo, hi] becomes a color:
//   Gray     lo -> black, hi -> white
//   Diverging  blue (lo) - white (middle) - red (hi); with a symmetric scale [-m, m], 0 is white
//   Heat     "inferno"-like black - purple - orange - yellow, for magnitudes and activations
enum class Colormap { Gray, Diverging, Heat };
// The color of t in [0, 1] (clamped).
void colormap(Colormap cm, float t, uint8_t rgb[3]);

// A value range shown by a colormap; every picture that maps values to colors says which.
struct Scale {
  float lo = 0, hi = 1;
  float to_unit(float v) const { return hi > lo ? (v - lo) / (hi - lo) : 0.5f; }
};
// [min, max] of the values; symmetric: [-m, m] with m = max |v| (0 stays the middle color).
Scale value_range(const float* v, int64_t n, bool symmetric = false);

// One (H, W) plane of floats, each value a color through `cm` on `scale`, every pixel
// drawn as a zoom x zoom block (nearest neighbour: small kernels stay crisp).
Picture plane_picture(const float* plane, int64_t H, int64_t W, const Scale& scale, Colormap cm, int64_t zoom = 1);
// A (3, H, W) image with values in [lo, hi] per channel mapped to 0..255 (an RGB filter or
// an RGB input image); zoom as above.
Picture rgb_picture(const float* chw, int64_t H, int64_t W, const Scale& scale, int64_t zoom = 1);
// A (C, H, W) image with values in [0, 1] (C = 1: gray, C = 3: RGB), as it was loaded.
Picture image_picture(const Tensor& chw, int64_t zoom = 1);

// Tiles of equal size laid out row by row, `cols` per row, `gap` pixels of `background`
// between them and around them.
Picture tile_grid(const std::vector<Picture>& tiles, int64_t cols, int64_t gap = 2, uint8_t background = 255);
// Pictures of any size side by side (tops aligned), with `gap` pixels between them.
Picture side_by_side(const std::vector<Picture>& pictures, int64_t gap = 4, uint8_t background = 255);
// A horizontal color bar, lo on the left and hi on the right (the legend of a scale).
Picture colorbar(Colormap cm, int64_t width = 256, int64_t height = 16);
// The heat map (H, W) in [0, 1] blended over the picture of the same size:
// out = (1 - alpha * t) * base + alpha * t * color(t), so zero leaves the image visible.
Picture overlay(const Picture& base, const float* heat, const Scale& scale, Colormap cm = Colormap::Heat,
                float alpha = 0.75f);
// Nearest-neighbour enlargement by an integer factor.
Picture zoom(const Picture& p, int64_t factor);

// PNG bytes of the picture; write_png writes them atomically. Errors name the file.
std::string encode_png(const Picture& p);
void write_png(const std::string& path, const Picture& p);
// "data:image/png;base64,..." for inlining into a self-contained HTML page.
std::string png_data_uri(const Picture& p);
std::string base64(const std::string& bytes);

}  // namespace convnet::viz
