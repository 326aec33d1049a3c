#pragma once
#pragma GCC visibility push(default)
/// \file
/// ONNX export: any nn::Module (a zoo model, a fine-tuned one, an imported ONNX graph)
/// becomes an ONNX model (opset 13, IR version 7; opset 17, IR 8, with a layer norm) that onnx.checker accepts with
/// full shape inference and that io::load_onnx reads back:
///
/// \code
///   auto net = convnet::models::create("resnet18", {.num_classes = 10, .in_channels = 3});
///   convnet::io::export_onnx(*net, {1, 3, 224, 224}, "resnet18.onnx");
/// \endcode
///
/// How: one forward pass in eval mode on an input of `input_shape` runs under a
/// trace::Tracer (autograd/trace.h), which records every op with its arguments -- the
/// modules' ops and the ones a forward() calls itself (residual adds, concatenations,
/// flatten, channel padding). Each op type has an emitter that writes its ONNX nodes
/// (src/io/onnx_export_ops.cpp), so the export needs no per-model code and a new model
/// exports as soon as its ops do.
///
/// The graph: eval semantics (BatchNorm as BatchNormalization with the running statistics,
/// dropout absent: it is the identity in eval), one input `input_name` of shape
/// (batch, C, H, W) and one output `output_name`, whose first dimension is the symbol
/// "batch" when dynamic_batch. Parameters and buffers are initializers under their
/// state_dict names (so io::load_onnx gives back a module with the same parameter names);
/// other constants (a Clip bound, a pooling matrix) are Constant nodes. Only the spatial
/// size traced is valid: adaptive pooling is written for that size.
///
/// Errors (convnet::Error) name the layer: an op without an emitter (e.g. dropout in
/// training, or an op the tracer does not know, named by its autograd node), BatchNorm
/// without running statistics, a pooling whose output size ONNX computes differently.
#include <map>
#include <string>

#include "convnet/core/shape.h"
#include "convnet/nn/module.h"

namespace convnet::io {

/// The settings of export_onnx() / export_onnx_bytes() (what torch.onnx.export takes as
/// opset_version, input_names, output_names and dynamic_axes).
struct OnnxExportOptions {
  /// The ai.onnx opset: 13 or 17. A graph with a layer norm is written at 17 whatever
  /// this says (LayerNormalization is an opset-17 operator; IR version 8).
  int64_t opset = 13;
  std::string input_name = "input";      ///< the name of the graph's input
  std::string output_name = "logits";    ///< the name of the graph's output
  bool dynamic_batch = true;             ///< the first dimension of input and output is the symbol "batch"
  std::string graph_name = "convnet";    ///< GraphProto.name
  std::map<std::string, std::string> metadata;  ///< ModelProto.metadata_props (class names, normalization, ...)
  /// A file name: initializers of 1 KiB or more are written to this file beside the model
  /// (ONNX external data) instead of inside it -- for models over protobuf's 2 GiB, and
  /// tools that need not read the weights. "" = everything in the .onnx file.
  /// Only export_onnx() can write it.
  std::string external_data;
};

/// The serialized ModelProto of `model` traced on an input of `input_shape` (as torch.onnx.export to a buffer).
/// The module's train/eval state (of every submodule) is restored afterwards.
/// \pre  `options.opset` is 13 or 17; `options.external_data` is empty; `input_shape` is non-empty
///       with positive dimensions and a valid input of `model`; every op of the eval-mode
///       forward pass can be exported (onnx_exportable_ops()); the output is computed by a
///       traced op (not the input itself).
/// \post the bytes of an opset-13 ModelProto (17 with a layer norm; see the file comment); the module's parameters
///       and modes are as before.
/// \throws convnet::Error for another opset, external data, a bad input shape, an op that
///         cannot be exported (naming the layer and listing the exportable ops), an output
///         the tracer did not see, a model over protobuf's 2 GiB, or what the forward pass throws.
std::string export_onnx_bytes(nn::Module& model, const Shape& input_shape, const OnnxExportOptions& options = {});
/// Writes the ONNX export of `model` to `path` (as torch.onnx.export).
/// With `options.external_data`, the initializers of 1 KiB or more go to that file in the
/// directory of `path` (offsets aligned to 4 KiB) and the model refers to them.
/// \pre  as export_onnx_bytes(), except that `options.external_data` may be a file name
///       (no '/', not "." or ".."); the directory of `path` is writable.
/// \post `path` (and the external data file) hold the model; the module is as before.
/// \throws convnet::Error as export_onnx_bytes(), for an external data name that is not a
///         file name, or naming the file that cannot be opened or written.
void export_onnx(nn::Module& model, const Shape& input_shape, const std::string& path,
                 const OnnxExportOptions& options = {});

/// The op types (trace names: "conv2d", "add", ...) that export can write, sorted.
std::vector<std::string> onnx_exportable_ops();

}  // namespace convnet::io
#pragma GCC visibility pop
