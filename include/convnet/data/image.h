#pragma once
// Decoding image files (PNG, JPEG, BMP, ... through stb_image) and the deterministic
// resizing used to bring them to a network's input size. Images are float (C, H, W) with
// values pixel / 255 in [0, 1], as torchvision's ToTensor.
#include <cstdint>
#include <string>
#include <vector>

#include "convnet/core/tensor.h"

namespace convnet::data {

// A decoded image: data is (channels, height, width), row-major.
struct Image {
  int64_t channels = 0, height = 0, width = 0;
  std::vector<float> data;
};

// Decodes `path` to `channels` (1 or 3) channels. RGB -> gray is PIL's convert("L")
// (0.299 R + 0.587 G + 0.114 B); gray -> RGB repeats the channel; alpha is dropped.
// Throws convnet::Error naming the file and stb's reason when it cannot be decoded.
Image decode_image(const std::string& path, int64_t channels);

// The size and channel count stored in the file (1 gray, 2 gray + alpha, 3 RGB, 4 RGBA),
// read from its header without decoding. Throws convnet::Error as decode_image does.
struct ImageInfo {
  int64_t channels = 0, height = 0, width = 0;
};
ImageInfo image_info(const std::string& path);

// Resize to (out_h, out_w) with PIL's bilinear filter (a triangle filter whose support
// widens when shrinking, i.e. antialiased; when enlarging it equals bilinear interpolation
// with align_corners = False and clamped edges). This is what torchvision's Resize does.
Image resize_bilinear(const Image& img, int64_t out_h, int64_t out_w);
// The central (out_h, out_w) window; torchvision's CenterCrop offsets
// (int(round((H - out_h) / 2)), int(round((W - out_w) / 2))). requires: out <= in.
Image center_crop(const Image& img, int64_t out_h, int64_t out_w);
// resize_mode "resize": straight to (size, size) (the aspect ratio is not kept);
// "center-crop": shorter side to `size` (torchvision Resize(int)), then CenterCrop(size).
// size 0 leaves the image as it is.
Image resize_to(const Image& img, int64_t size, const std::string& resize_mode);

// Deterministic preprocessing for prediction: decode, convert to `channels`, resize_to.
// Returns a (channels, H, W) tensor (not normalized).
Tensor load_image(const std::string& path, int64_t channels, int64_t size, const std::string& resize_mode = "resize");

}  // namespace convnet::data
