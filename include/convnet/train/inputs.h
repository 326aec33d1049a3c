#pragma once
#pragma GCC visibility push(default)
/// \file
/// Inputs prepared the way a checkpoint's model was trained, shared by `convnet eval`,
/// `predict`, `visualize` and `report`: image files (channels, size, normalization) and
/// the dataset splits of the training run.
#include <string>

#include "convnet/core/tensor.h"
#include "convnet/data/dataset.h"
#include "convnet/train/checkpoint.h"

namespace convnet::train {

/// One image file prepared for a checkpoint's model.
struct InputImage {
  Tensor pixels;  ///< (C, H, W) in [0, 1]: converted and resized as the model expects (for pictures).
  Tensor input;   ///< (1, C, H, W): `pixels` normalized with the checkpoint's mean and std.
  /// What was done to make the file fit, e.g. "'cat.png' is 3x64x48 (RGB); the model expects
  /// 1x28x28: converted to gray, resized from 64x48 to 28x28"; empty when it fitted as it was.
  std::string conversion;
};

/// Reads an image file as the checkpoint's model expects it: the deterministic
/// preprocessing of training.
/// Decodes `path`, converts it to the model's channel count (RGB to gray as PIL's
/// convert("L"), gray to RGB by repetition, alpha dropped), resizes it with the run's
/// resize mode to the model's input size (none when the checkpoint's input_size is 0), and
/// normalizes it.
/// \pre  `ck` comes from load_checkpoint(); `path` is an image file data::load_image reads.
/// \post Returns the pixels, the normalized input and a note of the conversion.
/// \throws convnet::Error when the file cannot be read or decoded (naming it), the result
///         does not have the shape the checkpoint expects (naming the file, the checkpoint and
///         the expected C x H x W), or the checkpoint's normalization statistics do not have
///         one entry per input channel.
InputImage load_input_image(const Checkpoint& ck, const std::string& path);
/// The same for an image file's bytes in memory (PNG, JPEG, BMP, ... as read from a file or
/// received over a network); `name` stands for the file in messages.
/// \pre  `ck` comes from load_checkpoint(); `bytes` hold an image data::decode_image_bytes reads.
/// \post as load_input_image().
/// \throws convnet::Error as load_input_image(), naming `name`.
InputImage load_input_image_bytes(const Checkpoint& ck, const std::string& bytes,
                                  const std::string& name = "image bytes");

/// A split of the checkpoint's dataset, built from the run's dataset options and normalized
/// with the checkpoint's statistics.
/// "test" is the dataset's test split; "train" and "val" come from its training split with
/// the run's `--limit-train`, then divided by the run's `--val-split` and seed ("val": the
/// images held out for validation; "train": the rest). The run's `--per-class` choice is not
/// applied. `dataset` / `data_dir` override the checkpoint's when non-empty.
/// \pre  `split` is "test", "train" or "val"; the data is where the checkpoint's (or the
///       given) dataset spec says.
/// \post Returns the normalized split.
/// \throws convnet::Error when `split` is unknown, "val" is asked of a run trained without
///         `--val-split`, the dataset cannot be loaded, or its images or class count do not fit
///         the checkpoint's model (naming the split, the dataset and the checkpoint).
data::Dataset load_checkpoint_split(const Checkpoint& ck, const std::string& split, const std::string& dataset = "",
                                    const std::string& data_dir = "");

}  // namespace convnet::train
#pragma GCC visibility pop
