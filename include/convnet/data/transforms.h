#pragma once
#pragma GCC visibility push(default)
/// \file
/// Data augmentation (Augment): per-sample, size-preserving random transforms of one float
/// (C, H, W) image with values in [0, 1] (before normalization), as torchvision's
/// transforms.v1 define them, and the deterministic building blocks they call. Every random
/// draw comes from the Generator passed in, so the DataLoader can give each sample its own
/// generator and stay reproducible regardless of thread count.
///
/// The augmentation spec (the CLI's --augment): items separated by ',', applied in the
/// order written; "" or "none" is no augmentation.
/// \verbatim
///   crop:P           RandomCrop(H x W, padding=P): zero-pad P pixels on each side, then
///                    crop H x W at a uniformly random offset in [0, 2P] x [0, 2P]
///   flip[:P]         RandomHorizontalFlip(p=P), P = 0.5 by default
///   rotate:D         RandomRotation(D): angle ~ U(-D, D) degrees (counter-clockwise),
///                    about the image center, bilinear, zero fill
///   affine:T[:S0:S1] RandomAffine(degrees=0, translate=(T, T), scale=(S0, S1)):
///                    shift by round(U(-T W, T W)), round(U(-T H, T H)) pixels, scale ~ U(S0, S1)
///                    (S0 = S1 = 1 when omitted), bilinear, zero fill
///   jitter:B[:C[:S]] ColorJitter(brightness=B, contrast=C, saturation=S): factors
///                    ~ U(max(0, 1 - x), 1 + x), applied in a random order, results clamped
///                    to [0, 1]; saturation only acts on 3-channel images
///   erasing[:P]      RandomErasing(p=P, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0),
///                    P = 0.5 by default. Note: here it erases before normalization (value 0
///                    is black), where torchvision pipelines usually erase after Normalize.
/// \endverbatim
/// e.g. "crop:4,flip" is the classic CIFAR augmentation.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "convnet/core/rng.h"
#include "convnet/data/image.h"  // load_image: the deterministic preprocessing for predict

namespace convnet::data {

/// A parsed augmentation spec: a list of random transforms applied in order (as a
/// torchvision.transforms.Compose of the transforms the spec names; grammar in the file comment).
class Augment {
 public:
  /// Parses an augmentation spec (grammar in the file comment).
  /// Items are trimmed of spaces and tabs; "" or "none" gives the empty augmentation.
  /// \pre  every item is one of the grammar's, with the right number of finite numeric
  ///       parameters: crop's padding a non-negative integer, probabilities in [0, 1], rotate's
  ///       degrees in [0, 180], affine's translate fraction in [0, 1] and `0 < S0 <= S1`,
  ///       jitter strengths >= 0.
  /// \post an Augment with one step per item, in the order written, defaults filled in.
  /// \throws convnet::Error naming the bad item, the spec, what is wrong and the grammar
  ///         when the spec is malformed.
  static std::shared_ptr<Augment> parse(const std::string& spec);
  /// Transforms `img` (C, H, W) in place, drawing every random parameter from `gen`.
  /// Thread-safe (const; the state lives in `gen`).
  /// \pre  `img` points to `C * H * W` floats, values in [0, 1] (the jitter clamps to that
  ///       range); C is 1 or 3 for a jitter step with a contrast strength > 0.
  /// \post `img` holds the augmented image, same shape; `gen` has advanced.
  /// \throws convnet::Error from adjust_contrast() when a jitter step meets a C other than 1 or 3.
  void apply(float* img, int64_t C, int64_t H, int64_t W, Generator& gen) const;
  /// A canonical spec with every parameter spelled out ("crop:4,flip:0.5"); parse(describe())
  /// gives the same augmentation. "none" when empty.
  std::string describe() const;
  bool empty() const { return steps_.empty(); }  ///< True when there are no steps (apply() does nothing).

  /// The transform of one step (one item of the spec).
  enum class Kind { Crop, Flip, Rotate, Affine, Jitter, Erasing };
  /// \var Kind::Crop
  /// `crop:P`, RandomCrop with padding.

  /// \var Kind::Flip
  /// `flip[:P]`, RandomHorizontalFlip.

  /// \var Kind::Rotate
  /// `rotate:D`, RandomRotation.

  /// \var Kind::Affine
  /// `affine:T[:S0:S1]`, RandomAffine (translation and scale).

  /// \var Kind::Jitter
  /// `jitter:B[:C[:S]]`, ColorJitter.

  /// \var Kind::Erasing
  /// `erasing[:P]`, RandomErasing.

  /// One step of an Augment: a transform and its parameters.
  struct Step {
    Kind kind;              ///< which transform
    std::vector<double> p;  ///< the parameters in the order of the grammar above, defaults filled in
  };
  const std::vector<Step>& steps() const { return steps_; }  ///< The steps, in the order they are applied.

 private:
  std::vector<Step> steps_;
};

// ---- the deterministic building blocks (the random transforms draw their parameters and
// ---- call these; tests check them by hand) ----------------------------------------------
// All take `img`, a float (C, H, W) image of `C * H * W` values, and change it in place.

/// Mirrors left-right, `x[c][h][w] <- x[c][h][W-1-w]` (as torchvision.transforms.functional.hflip).
/// \pre  `img` points to `C * H * W` floats.
/// \post `img` holds the mirrored image.
void hflip(float* img, int64_t C, int64_t H, int64_t W);
/// The H x W window at (top, left) of the image zero-padded by `pad` on every side (the
/// deterministic part of torchvision.transforms.RandomCrop with padding).
/// pad 0 with offset (0, 0) is the identity.
/// \pre  `img` points to `C * H * W` floats; `pad >= 0`, `0 <= top <= 2 pad`, `0 <= left <= 2 pad`.
/// \post `img` holds the window, same shape; pixels from the padding are 0.
/// \throws convnet::Error when the offset is outside `[0, 2 pad]` (naming it and `pad`).
void pad_crop(float* img, int64_t C, int64_t H, int64_t W, int64_t pad, int64_t top, int64_t left);
/// torchvision's affine warp (torchvision.transforms.functional.affine, bilinear, fill 0) about
/// the center ((W-1)/2, (H-1)/2) of pixel indices.
/// Output pixel p samples the input at `A^-1 (p - center - t) + center`, with A = scale *
/// rotation by `angle` degrees counter-clockwise (as seen with y pointing down), t = (tx, ty)
/// pixels; bilinear, outside the image reads 0.
/// \pre  `img` points to `C * H * W` floats; `scale > 0`.
/// \post `img` holds the warped image, same shape (unchanged for the identity transform).
/// \throws convnet::Error when `scale` is not positive.
void affine(float* img, int64_t C, int64_t H, int64_t W, double angle, double tx, double ty, double scale);
/// ColorJitter's brightness adjustment (torchvision.transforms.functional.adjust_brightness,
/// float images): `clamp(f * img, 0, 1)`.
/// Each of ColorJitter's adjustments (torchvision functional_tensor, float images) is
/// `blend(img, other, f) = clamp(f * img + (1 - f) * other, 0, 1)`; here other = 0.
/// \pre  `img` points to `C * H * W` floats.
/// \post `img` holds the adjusted values, in [0, 1].
void adjust_brightness(float* img, int64_t C, int64_t H, int64_t W, double f);
/// ColorJitter's contrast adjustment (torchvision.transforms.functional.adjust_contrast, float
/// images): blend with the mean of the grayscale image.
/// Grayscale is 0.2989 R + 0.587 G + 0.114 B; a 1-channel image is its own grayscale.
/// \pre  `img` points to `C * H * W` floats; C is 1 or 3.
/// \post `img` holds the adjusted values, in [0, 1].
/// \throws convnet::Error when C is not 1 or 3.
void adjust_contrast(float* img, int64_t C, int64_t H, int64_t W, double f);
/// ColorJitter's saturation adjustment (torchvision.transforms.functional.adjust_saturation,
/// float images): blend with the grayscale image (0.2989 R + 0.587 G + 0.114 B).
/// \pre  `img` points to `3 * H * W` floats; C is 3.
/// \post `img` holds the adjusted values, in [0, 1].
/// \throws convnet::Error when C is not 3.
void adjust_saturation(float* img, int64_t C, int64_t H, int64_t W, double f);
/// A rectangle of an image, in pixels.
struct Box {
  /// The top row.
  int64_t top = 0, left = 0, height = 0, width = 0;  ///< The width in pixels.
  /// \var left
  /// The left column.

  /// \var height
  /// The height in pixels (0: no box).
};
/// RandomErasing's box (torchvision.transforms.RandomErasing.get_params with scale (0.02, 0.33),
/// ratio (0.3, 3.3)).
/// Up to 10 tries of area ~ U(0.02, 0.33) H W, log aspect ~ U(log 0.3, log 3.3),
/// h = round(sqrt(area aspect)), w = round(sqrt(area / aspect)), accepted when h < H and
/// w < W, then top ~ [0, H - h], left ~ [0, W - w].
/// \post a box inside the H x W image, or a box of height 0 when no try fit; `gen` has advanced.
Box random_erasing_box(int64_t H, int64_t W, Generator& gen);
/// Sets the box to `value` in every channel (torchvision.transforms.functional.erase).
/// \pre  `img` points to `C * H * W` floats; the box lies inside the H x W image (non-negative
///       corner and size, `top + height <= H`, `left + width <= W`).
/// \post the box's pixels equal `value` in every channel; the others are unchanged.
/// \throws convnet::Error when the box is outside the image (naming the box and the size).
void erase(float* img, int64_t C, int64_t H, int64_t W, const Box& box, float value = 0.f);

}  // namespace convnet::data
#pragma GCC visibility pop
