#pragma once
// A model summary: one row per leaf layer in call order, with its output shape,
// parameters and multiply-accumulates, and totals. MACs count convolutions and linear
// layers (the arithmetic that dominates a CNN); pooling, normalization and activations
// are listed with 0 MACs, as torchinfo-style summaries do.
#include <string>
#include <vector>

#include "convnet/core/shape.h"
#include "convnet/nn/module.h"

namespace convnet::nn {

struct SummaryRow {
  std::string name;  // dotted path, e.g. "layer1.0.conv1"
  std::string type;  // "Conv2d"
  Shape output;      // for a batch of 1
  int64_t params = 0;
  int64_t macs = 0;  // per image
};

struct Summary {
  Shape input;  // (C, H, W)
  std::vector<SummaryRow> rows;
  Shape output;
  int64_t total_params = 0, trainable_params = 0, frozen_params = 0;
  int64_t macs = 0;               // per image
  int64_t activation_floats = 0;  // sum of every layer's output size per image
  // The table as text; activation memory is given for `batch` images (float32).
  std::string table(int64_t batch = 1) const;
};

// Runs one forward pass on a zero image of shape (1, C, H, W) in eval mode without a graph.
Summary summarize(Module& m, const Shape& input_chw);

}  // namespace convnet::nn
