#pragma once
// ONNX export: any nn::Module (a zoo model, a fine-tuned one, an imported ONNX graph)
// becomes an ONNX model (opset 13, IR version 7) that onnx.checker accepts with full
// shape inference and that io::load_onnx reads back:
//
//   auto net = convnet::models::create("resnet18", {.num_classes = 10, .in_channels = 3});
//   convnet::io::export_onnx(*net, {1, 3, 224, 224}, "resnet18.onnx");
//
// How: one forward pass in eval mode on an input of `input_shape` runs under a
// trace::Tracer (autograd/trace.h), which records every op with its arguments -- the
// modules' ops and the ones a forward() calls itself (residual adds, concatenations,
// flatten, channel padding). Each op type has an emitter that writes its ONNX nodes
// (src/io/onnx_export_ops.cpp), so the export needs no per-model code and a new model
// exports as soon as its ops do.
//
// The graph: eval semantics (BatchNorm as BatchNormalization with the running statistics,
// dropout absent: it is the identity in eval), one input `input_name` of shape
// (batch, C, H, W) and one output `output_name`, whose first dimension is the symbol
// "batch" when dynamic_batch. Parameters and buffers are initializers under their
// state_dict names (so io::load_onnx gives back a module with the same parameter names);
// other constants (a Clip bound, a pooling matrix) are Constant nodes. Only the spatial
// size traced is valid: adaptive pooling is written for that size.
//
// Errors (convnet::Error) name the layer: an op without an emitter (e.g. dropout in
// training, or an op the tracer does not know, named by its autograd node), BatchNorm
// without running statistics, a pooling whose output size ONNX computes differently.
#include <map>
#include <string>

#include "convnet/core/shape.h"
#include "convnet/nn/module.h"

namespace convnet::io {

struct OnnxExportOptions {
  int64_t opset = 13;
  std::string input_name = "input";
  std::string output_name = "logits";
  bool dynamic_batch = true;
  std::string graph_name = "convnet";
  std::map<std::string, std::string> metadata;  // ModelProto.metadata_props (class names, normalization, ...)
  // A file name: initializers of 1 KiB or more are written to this file beside the model
  // (ONNX external data) instead of inside it -- for models over protobuf's 2 GiB, and
  // tools that need not read the weights. "" = everything in the .onnx file.
  std::string external_data;
};

// The serialized ModelProto. The module's train/eval state is restored afterwards.
std::string export_onnx_bytes(nn::Module& model, const Shape& input_shape, const OnnxExportOptions& options = {});
// Writes export_onnx_bytes(...) to `path`; errors name the file.
void export_onnx(nn::Module& model, const Shape& input_shape, const std::string& path,
                 const OnnxExportOptions& options = {});

// The op types (trace names: "conv2d", "add", ...) that export can write.
std::vector<std::string> onnx_exportable_ops();

}  // namespace convnet::io
