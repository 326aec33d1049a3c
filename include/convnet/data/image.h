#pragma once
#pragma GCC visibility push(default)
/// \file
/// Decoding image files (PNG, JPEG, BMP, ... through stb_image) and the deterministic
/// resizing used to bring them to a network's input size. Images are float (C, H, W) with
/// values pixel / 255 in [0, 1], as torchvision's ToTensor.
#include <cstdint>
#include <string>
#include <vector>

#include "convnet/core/tensor.h"

namespace convnet::data {

/// A decoded image: `data` is (channels, height, width), row-major, values in [0, 1].
struct Image {
  /// The number of channels (1 gray, 3 RGB).
  int64_t channels = 0, height = 0, width = 0;  ///< The width in pixels.
  /// \var height
  /// The height in pixels.
  std::vector<float> data;  ///< `channels * height * width` values, channel planes one after another
};

/// Decodes `path` to `channels` (1 or 3) channels (as PIL's Image.open(path).convert(...) then ToTensor).
/// RGB to gray is PIL's convert("L") (0.299 R + 0.587 G + 0.114 B, rounded to a byte as PIL
/// does); gray to RGB repeats the channel; alpha is dropped.
/// \pre  `channels` is 1 or 3; `path` is an image file stb_image can decode.
/// \post an Image of `channels` channels and the file's height and width, values pixel / 255.
/// \throws convnet::Error when `channels` is not 1 or 3, when the file is not a regular file,
///         when its header claims more pixels than max_image_pixels() (checked before any
///         pixel is decoded), or naming the file and stb's reason when it cannot be decoded.
Image decode_image(const std::string& path, int64_t channels);
/// The same for an image file's bytes in memory; `name` stands for the file in messages.
/// The same checks run on the bytes as on a file (the header against max_image_pixels()
/// before any pixel is decoded, the malformed headers stb would trust).
/// \pre  `channels` is 1 or 3; `bytes` hold an image stb_image can decode.
/// \post as decode_image().
/// \throws convnet::Error as decode_image(), naming `name`.
Image decode_image_bytes(const std::string& bytes, int64_t channels, const std::string& name = "image bytes");

/// The most pixels (width * height) an image file may have: 89,478,485 by default (PIL's
/// Image.MAX_IMAGE_PIXELS), so that a hostile header claiming 20000x20000 is refused before
/// gigabytes are decoded. The CLI's `--max-image-pixels` sets it.
/// \post the current limit, shared by all threads.
int64_t max_image_pixels();
/// Sets the limit of max_image_pixels().
/// \pre  `pixels` > 0.
/// \post decode_image() and image_info() refuse larger images.
/// \throws convnet::Error when `pixels` is not positive.
void set_max_image_pixels(int64_t pixels);

/// The size and channel count stored in an image file.
struct ImageInfo {
  /// The stored channel count: 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA.
  int64_t channels = 0, height = 0, width = 0;  ///< The width in pixels.
  /// \var height
  /// The height in pixels.
};
/// The size and channel count stored in the file (1 gray, 2 gray + alpha, 3 RGB, 4 RGBA),
/// read from its header without decoding the pixels.
/// \pre  `path` is an image file stb_image can read.
/// \post the file's channel count, height and width.
/// \throws convnet::Error as decode_image does: not a regular file, over max_image_pixels(),
///         or stb's reason, naming the file.
ImageInfo image_info(const std::string& path);
/// The same for an image file's bytes in memory; `name` stands for the file in messages.
/// \pre  `bytes` hold an image stb_image can read.
/// \post the stored channel count, height and width.
/// \throws convnet::Error as image_info(), naming `name`.
ImageInfo image_info_bytes(const std::string& bytes, const std::string& name = "image bytes");

/// Resizes to (out_h, out_w) with PIL's bilinear filter (as torchvision.transforms.Resize on a PIL image).
/// The filter is a triangle whose support widens when shrinking, i.e. antialiased; when
/// enlarging it equals bilinear interpolation with align_corners = False and clamped edges.
/// \pre  `out_h > 0`, `out_w > 0`; `img` is not empty.
/// \post an Image of `img.channels` channels and size (out_h, out_w); a copy of `img` when the size is unchanged.
/// \throws convnet::Error when the target size is not positive or the image is empty (naming the sizes).
Image resize_bilinear(const Image& img, int64_t out_h, int64_t out_w);
/// The central (out_h, out_w) window (as torchvision.transforms.CenterCrop).
/// The window's offsets are torchvision's `(int(round((H - out_h) / 2)), int(round((W - out_w) / 2)))`,
/// rounding halves to even.
/// \pre  `0 < out_h <= img.height`, `0 < out_w <= img.width`.
/// \post an Image of `img.channels` channels and size (out_h, out_w).
/// \throws convnet::Error when the window does not fit (naming both sizes).
Image center_crop(const Image& img, int64_t out_h, int64_t out_w);
/// Brings `img` to `size` x `size` as `resize_mode` says.
/// "resize": straight to (size, size) (the aspect ratio is not kept); "center-crop": the
/// shorter side to `size` (torchvision Resize(int)), then CenterCrop(size).
/// \pre  `resize_mode` is "resize" or "center-crop"; `size >= 0`.
/// \post a (channels, size, size) Image; a copy of `img` when size is 0.
/// \throws convnet::Error for another resize mode (naming it) or a negative size, or as
///         resize_bilinear / center_crop.
Image resize_to(const Image& img, int64_t size, const std::string& resize_mode);

/// Deterministic preprocessing for prediction: decode, convert to `channels`, resize_to().
/// \pre  as decode_image() and resize_to().
/// \post a (channels, H, W) float32 tensor with values in [0, 1] (not normalized); H = W = `size`
///       unless `size` is 0 (then the file's size).
/// \throws convnet::Error as decode_image() and resize_to().
Tensor load_image(const std::string& path, int64_t channels, int64_t size, const std::string& resize_mode = "resize");

}  // namespace convnet::data
#pragma GCC visibility pop
