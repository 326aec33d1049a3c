#pragma once
#pragma GCC visibility push(default)
/// \file
/// 8-bit RGB pictures for "what a CNN sees": colormaps that state their scale, grids of
/// tiles, heat-map overlays, and PNG encoding (stb_image_write; its one definition in the
/// library is src/viz/picture.cpp). Pictures are row-major, 3 bytes per pixel.
#include <cstdint>
#include <string>
#include <vector>

#include "convnet/core/tensor.h"

namespace convnet::viz {

/// An 8-bit RGB picture, row-major, 3 bytes per pixel.
struct Picture {
  /// Width in pixels.
  int64_t width = 0, height = 0;  ///< Height in pixels.
  std::vector<uint8_t> rgb;  ///< The pixels: height * width * 3 bytes, R G B per pixel.
  /// An empty picture (0 x 0).
  Picture() = default;
  /// A `w` x `h` picture of one gray level.
  /// \pre  `w` >= 0 and `h` >= 0.
  /// \post Every byte of `rgb` is `fill` (255: white).
  /// \throws convnet::Error when a size is negative (naming it).
  Picture(int64_t w, int64_t h, uint8_t fill = 255);
  /// The 3 bytes (R, G, B) of pixel (x, y).
  /// \pre  0 <= x < width and 0 <= y < height (not checked).
  uint8_t* at(int64_t x, int64_t y) { return &rgb[static_cast<size_t>((y * width + x) * 3)]; }
  /// As above, read-only.
  /// \pre  0 <= x < width and 0 <= y < height (not checked).
  const uint8_t* at(int64_t x, int64_t y) const { return &rgb[static_cast<size_t>((y * width + x) * 3)]; }
};

/// How a value in [lo, hi] becomes a color:
/// - Gray: lo black, hi white;
/// - Diverging: blue (lo), white (middle), red (hi); with a symmetric scale [-m, m], 0 is
///   white (matplotlib's RdBu_r end points);
/// - Heat: "inferno"-like black, purple, orange, yellow, for magnitudes and activations.
enum class Colormap { Gray, Diverging, Heat };
/// The color of t in [0, 1] under `cm`.
/// \pre  `rgb` has room for 3 bytes.
/// \post `rgb` holds the color of t clamped to [0, 1] (a t that is not finite counts as 0).
void colormap(Colormap cm, float t, uint8_t rgb[3]);

/// A value range shown by a colormap; every picture that maps values to colors says which.
struct Scale {
  /// The value shown as the colormap's first color.
  float lo = 0, hi = 1;  ///< The value shown as the colormap's last color.
  /// `v` mapped to [0, 1] when lo <= v <= hi: (v - lo) / (hi - lo); 0.5 when hi <= lo.
  /// Values outside [lo, hi] map outside [0, 1] (the colormap clamps them).
  float to_unit(float v) const { return hi > lo ? (v - lo) / (hi - lo) : 0.5f; }
};
/// The range of `n` values: [min, max] of the finite ones; with `symmetric`, [-m, m] with
/// m = max |v| (0 stays the middle color).
/// \pre  `v` points to `n` floats.
/// \post Returns the range; [0, 1] when no value is finite.
Scale value_range(const float* v, int64_t n, bool symmetric = false);

/// One (H, W) plane of floats, each value a color through `cm` on `scale`, every pixel
/// drawn as a zoom x zoom block (nearest neighbour: small kernels stay crisp).
/// \pre  `plane` points to H * W floats, row-major; H, W >= 0; `zoom` >= 1.
/// \post Returns a (W * zoom) x (H * zoom) picture.
Picture plane_picture(const float* plane, int64_t H, int64_t W, const Scale& scale, Colormap cm, int64_t zoom = 1);
/// A (3, H, W) image with values in [lo, hi] mapped to 0..255 in every channel (an RGB
/// filter or an RGB input image); values outside the scale are clamped; zoom as above.
/// \pre  `chw` points to 3 * H * W floats, channel planes one after another; `zoom` >= 1.
/// \post Returns a (W * zoom) x (H * zoom) picture.
Picture rgb_picture(const float* chw, int64_t H, int64_t W, const Scale& scale, int64_t zoom = 1);
/// A (C, H, W) image with values in [0, 1] (C = 1: gray, C = 3: RGB), as it was loaded.
/// \pre  `chw` is a float32 CPU tensor of shape (1, H, W) or (3, H, W); `zoom` >= 1.
/// \post Returns a (W * zoom) x (H * zoom) picture; values outside [0, 1] are clamped.
/// \throws convnet::Error when `chw` has another shape (naming it).
Picture image_picture(const Tensor& chw, int64_t zoom = 1);

/// Tiles of equal size laid out row by row, `cols` per row, `gap` pixels of `background`
/// between them and around them.
/// \pre  `tiles` is not empty and its pictures have one size; `cols` >= 1; `gap` >= 0.
/// \post Returns the grid, with min(cols, number of tiles) columns.
/// \throws convnet::Error when `tiles` is empty, `cols` < 1, or two tiles differ in size
///         (naming both sizes).
Picture tile_grid(const std::vector<Picture>& tiles, int64_t cols, int64_t gap = 2, uint8_t background = 255);
/// Pictures of any size side by side (tops aligned), with `gap` pixels between them.
/// \pre  `pictures` is not empty; `gap` >= 0.
/// \post Returns a picture as high as the highest; the space around the lower ones is
///       `background`.
/// \throws convnet::Error when `pictures` is empty.
Picture side_by_side(const std::vector<Picture>& pictures, int64_t gap = 4, uint8_t background = 255);
/// A horizontal color bar, lo on the left and hi on the right (the legend of a scale).
/// \pre  `width` >= 0 and `height` >= 0.
/// \post Returns a `width` x `height` picture, column x the color of x / (width - 1) (of 0.5
///       when `width` is 1).
/// \throws convnet::Error when a size is negative.
Picture colorbar(Colormap cm, int64_t width = 256, int64_t height = 16);
/// A heat map blended over a picture of the same size: with t the heat value mapped by
/// `scale` and clamped to [0, 1], out = (1 - alpha * t) * base + alpha * t * color(t), so
/// zero leaves the image visible.
/// \pre  `heat` points to base.height * base.width floats, row-major.
/// \post Returns the blended picture, the size of `base`.
Picture overlay(const Picture& base, const float* heat, const Scale& scale, Colormap cm = Colormap::Heat,
                float alpha = 0.75f);
/// Nearest-neighbour enlargement by an integer factor.
/// \pre  `factor` >= 1.
/// \post Returns a (p.width * factor) x (p.height * factor) picture.
Picture zoom(const Picture& p, int64_t factor);

/// The PNG bytes of the picture (8-bit RGB).
/// \pre  `p` is not empty.
/// \post Returns the PNG file's bytes.
/// \throws convnet::Error when the picture is empty, or the encoder fails (naming the size).
std::string encode_png(const Picture& p);
/// Writes the picture as a PNG file, atomically (train::write_file_atomic).
/// \pre  `p` is not empty; the directory of `path` exists.
/// \post `path` holds the PNG.
/// \throws convnet::Error as encode_png(), or when the file cannot be written (naming it).
void write_png(const std::string& path, const Picture& p);
/// "data:image/png;base64,..." for inlining into a self-contained HTML page.
/// \pre  `p` is not empty.
/// \post Returns the URI of encode_png(p).
/// \throws convnet::Error as encode_png().
std::string png_data_uri(const Picture& p);
/// Standard base64 (RFC 4648 alphabet, with '=' padding) of the bytes.
/// \post Returns 4 characters for every 3 bytes or part of them.
std::string base64(const std::string& bytes);

}  // namespace convnet::viz
#pragma GCC visibility pop
