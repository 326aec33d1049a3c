#pragma once
// Data augmentation: per-sample, size-preserving random transforms of one float (C, H, W)
// image with values in [0, 1] (before normalization), as torchvision's transforms.v1 define
// them. Every random draw comes from the Generator passed in, so the DataLoader can give
// each sample its own generator and stay reproducible regardless of thread count.
//
// The augmentation spec (the CLI's --augment): items separated by ',', applied in the
// order written; "" or "none" is no augmentation.
//   crop:P           RandomCrop(H x W, padding=P): zero-pad P pixels on each side, then
//                    crop H x W at a uniformly random offset in [0, 2P] x [0, 2P]
//   flip[:P]         RandomHorizontalFlip(p=P), P = 0.5 by default
//   rotate:D         RandomRotation(D): angle ~ U(-D, D) degrees (counter-clockwise),
//                    about the image center, bilinear, zero fill
//   affine:T[:S0:S1] RandomAffine(degrees=0, translate=(T, T), scale=(S0, S1)):
//                    shift by round(U(-T W, T W)), round(U(-T H, T H)) pixels, scale ~ U(S0, S1)
//                    (S0 = S1 = 1 when omitted), bilinear, zero fill
//   jitter:B[:C[:S]] ColorJitter(brightness=B, contrast=C, saturation=S): factors
//                    ~ U(max(0, 1 - x), 1 + x), applied in a random order, results clamped
//                    to [0, 1]; saturation only acts on 3-channel images
//   erasing[:P]      RandomErasing(p=P, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0),
//                    P = 0.5 by default. Note: here it erases before normalization (value 0
//                    is black), where torchvision pipelines usually erase after Normalize.
// e.g. "crop:4,flip" is the classic CIFAR augmentation.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "convnet/core/rng.h"
#include "convnet/data/image.h"  // load_image: the deterministic preprocessing for predict

namespace convnet::data {

class Augment {
 public:
  // Throws convnet::Error naming the bad item and the grammar when the spec is malformed.
  static std::shared_ptr<Augment> parse(const std::string& spec);
  // Transforms img (C, H, W) in place. Thread-safe (const; state lives in gen).
  void apply(float* img, int64_t C, int64_t H, int64_t W, Generator& gen) const;
  // A canonical spec with every parameter spelled out ("crop:4,flip:0.5"); parse(describe())
  // gives the same augmentation.
  std::string describe() const;
  bool empty() const { return steps_.empty(); }

  enum class Kind { Crop, Flip, Rotate, Affine, Jitter, Erasing };
  struct Step {
    Kind kind;
    std::vector<double> p;  // the parameters in the order of the grammar above
  };
  const std::vector<Step>& steps() const { return steps_; }

 private:
  std::vector<Step> steps_;
};

// ---- the deterministic building blocks (the random transforms draw their parameters and
// ---- call these; tests check them by hand) ----------------------------------------------

// Mirror left-right: x[c][h][w] <- x[c][h][W-1-w].
void hflip(float* img, int64_t C, int64_t H, int64_t W);
// The H x W window at (top, left) of the image zero-padded by `pad` on every side;
// requires 0 <= top, left <= 2 pad. pad 0 with offset (0, 0) is the identity.
void pad_crop(float* img, int64_t C, int64_t H, int64_t W, int64_t pad, int64_t top, int64_t left);
// torchvision's affine warp about the center ((W-1)/2, (H-1)/2) of pixel indices: output
// pixel p samples the input at A^-1 (p - center - t) + center, with A = scale * rotation by
// `angle` degrees counter-clockwise (as seen with y pointing down), t = (tx, ty) pixels;
// bilinear, outside the image reads 0.
void affine(float* img, int64_t C, int64_t H, int64_t W, double angle, double tx, double ty, double scale);
// ColorJitter's adjustments (torchvision functional_tensor, float images): each is
// blend(img, other, f) = clamp(f * img + (1 - f) * other, 0, 1) with other = 0 (brightness),
// the mean of the grayscale image (contrast), the grayscale image (saturation; C must be 3).
// Grayscale is 0.2989 R + 0.587 G + 0.114 B; a 1-channel image is its own grayscale.
void adjust_brightness(float* img, int64_t C, int64_t H, int64_t W, double f);
void adjust_contrast(float* img, int64_t C, int64_t H, int64_t W, double f);
void adjust_saturation(float* img, int64_t C, int64_t H, int64_t W, double f);
// RandomErasing's box: up to 10 tries of area ~ U(0.02, 0.33) H W, log aspect ~
// U(log 0.3, log 3.3), h = round(sqrt(area aspect)), w = round(sqrt(area / aspect)),
// accepted when h < H and w < W, then top ~ [0, H - h], left ~ [0, W - w]. height 0 = none fit.
struct Box {
  int64_t top = 0, left = 0, height = 0, width = 0;
};
Box random_erasing_box(int64_t H, int64_t W, Generator& gen);
// Sets the box to `value` in every channel.
void erase(float* img, int64_t C, int64_t H, int64_t W, const Box& box, float value = 0.f);

}  // namespace convnet::data
