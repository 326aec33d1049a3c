#pragma once
#pragma GCC visibility push(default)
/// \file
/// A model summary (as torchinfo.summary): one row per leaf layer in call order, with its
/// output shape, parameters and multiply-accumulates, and totals. MACs count convolutions
/// and linear layers (the arithmetic that dominates a CNN); pooling, normalization and
/// activations are listed with 0 MACs, as torchinfo-style summaries do.
#include <string>
#include <vector>

#include "convnet/core/shape.h"
#include "convnet/nn/module.h"

namespace convnet::nn {

/// One call of a leaf layer (a module without children) during the summary's forward pass.
struct SummaryRow {
  std::string name;  ///< dotted path, for example "layer1.0.conv1"
  std::string type;  ///< type_name(), for example "Conv2d"
  Shape output;      ///< the output shape, for a batch of 1
  int64_t params = 0;  ///< the layer's parameter elements (all, trainable or not)
  int64_t macs = 0;  ///< multiply-accumulates per image (Conv2d and Linear; 0 for other layers)
};

/// What summarize() found: the rows and the totals, all for one image.
struct Summary {
  Shape input;  ///< (C, H, W)
  std::vector<SummaryRow> rows;  ///< one per leaf-layer call, in call order
  Shape output;  ///< the model's output shape for a batch of 1
  /// total_params: parameter elements of the model, all of them.
  int64_t total_params = 0, trainable_params = 0, frozen_params = 0;  ///< frozen_params: those that require no gradient
  /** \var trainable_params
   *  Parameter elements of the model that require a gradient. */
  int64_t macs = 0;               ///< per image: the sum of the rows' MACs
  int64_t activation_floats = 0;  ///< sum of every layer's output size per image
  /// The table as text (one line per row, then the totals); activation memory is given for
  /// `batch` images (float32).
  std::string table(int64_t batch = 1) const;
};

/// Summarizes `m` by one forward pass on a zero image of shape (1, C, H, W) in eval mode
/// without a graph (NoGradGuard), with hooks on the leaf modules.
/// \pre  `input_chw` is (C, H, W), and `m` accepts a float32 CPU input of shape (1, C, H, W).
/// \post the summary; `m` is back in the training mode it had and its hooks are removed,
///       also when the forward pass throws. Leaves called through forward() directly (not
///       operator()) are not listed.
/// \throws convnet::Error when `input_chw` does not have 3 dimensions (naming it), or what
///       the forward pass throws.
Summary summarize(Module& m, const Shape& input_chw);

}  // namespace convnet::nn
#pragma GCC visibility pop
