#pragma once
// Inputs prepared the way a checkpoint's model was trained, shared by `convnet eval`,
// `predict`, `visualize` and `report`: image files (channels, size, normalization) and
// the dataset splits of the training run.
#include <string>

#include "convnet/core/tensor.h"
#include "convnet/data/dataset.h"
#include "convnet/train/checkpoint.h"

namespace convnet::train {

struct InputImage {
  Tensor pixels;  // (C, H, W) in [0, 1]: converted and resized as the model expects (for pictures)
  Tensor input;   // (1, C, H, W): pixels normalized with the checkpoint's mean and std
  // What was done to make the file fit, e.g. "'cat.png' is 3x64x48 (RGB); the model expects
  // 1x28x28: converted to gray, resized from 64x48 to 28x28"; empty when it fitted as it was.
  std::string conversion;
};

// Decodes `path`, converts it to the model's channel count (RGB -> gray as PIL's
// convert("L"), gray -> RGB by repetition, alpha dropped), resizes it with the run's
// resize mode to the model's input size, and normalizes it: the deterministic
// preprocessing of training. Throws convnet::Error naming the file and what the model
// expects when the file cannot be read or brought to that shape.
InputImage load_input_image(const Checkpoint& ck, const std::string& path);

// A split ("test", "train" or "val": the images --val-split held out) of the checkpoint's
// dataset, built as the training run built it (same spec, same held-out validation
// images), normalized with the checkpoint's statistics. `dataset` / `data_dir` override the
// checkpoint's when non-empty. Errors name the checkpoint and what does not fit.
data::Dataset load_checkpoint_split(const Checkpoint& ck, const std::string& split, const std::string& dataset = "",
                                    const std::string& data_dir = "");

}  // namespace convnet::train
