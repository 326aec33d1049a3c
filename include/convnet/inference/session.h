#pragma once
// InferenceSession: a trained network prepared once for deployment, then run many times.
//
//   auto s = convnet::InferenceSession::from_onnx("resnet18.onnx");          // or from_checkpoint,
//   convnet::Tensor logits = s->run(batch);  // (N, C, H, W) float32         //    from_zoo, from_module
//
// What preparing does: the network becomes one ONNX graph (a module is exported with
// io::export_onnx_bytes; an .onnx file is read as it is), which is optimized for inference
// (io::OnnxModel::optimize_for_inference: BatchNorm folded into the convolutions, ReLU / ReLU6 /
// Clip and residual adds fused into the convolution that produces them as oneDNN post-ops).
// The convolution weights are packed into the kernels' layouts on the first run and kept
// (kernels/cpu/onednn_common.h), so steady-state runs reorder no constant.
//
// Threads: run() is const and may be called from several threads at once. Each call computes
// on its own activations; the graph and weights are shared and never written after
// construction. Every call uses the kernels' thread pool (set_num_threads), so concurrent
// calls share the cores: for the lowest latency call from one thread, for throughput batch
// the images, or call from a few threads with set_num_threads(1).
//
// Precision: float32, or bfloat16 (every run() under autocast: convolutions and linear layers
// in bfloat16 with float32 accumulation); the logits are float32 either way.
//
// Errors (convnet::Error) name the file or model and what is wrong: a missing or corrupt
// file, an input of the wrong rank, channels or size.
#include <memory>
#include <string>
#include <vector>

#include "convnet/core/tensor.h"
#include "convnet/nn/module.h"

namespace convnet::io {
class OnnxModel;
}
namespace convnet::train {
struct Checkpoint;
}

namespace convnet {

struct SessionOptions {
  DType precision = DType::float32;  // float32 or bfloat16
  bool optimize = true;              // false: run the graph as exported (for comparisons)
};

class InferenceSession {
 public:
  // `model` in eval mode, traced on an input of `input_shape` (N, C, H, W; any N): the model
  // is not changed, and later changes to it do not reach the session.
  static std::shared_ptr<InferenceSession> from_module(nn::Module& model, const Shape& input_shape,
                                                       const SessionOptions& options = {});
  // An ONNX file (one float input); its declared input shape is the session's. `input_shape`
  // (N, C, H, W) fills the symbolic dimensions (entries <= 0: as declared); a dimension it
  // gives that the file declares otherwise is refused, naming both.
  static std::shared_ptr<InferenceSession> from_onnx(const std::string& path, const SessionOptions& options = {},
                                                     const Shape& input_shape = {});
  // A zoo model (models/registry.h) with safetensors weights named as its state_dict.
  static std::shared_ptr<InferenceSession> from_zoo(const std::string& model, const std::string& weights,
                                                    int64_t num_classes, const Shape& input_shape,
                                                    const SessionOptions& options = {});
  // A checkpoint of `convnet train` (a file or a run directory): its model and weights, and its
  // preprocessing for run_image(). The precision is the options' (default float32).
  static std::shared_ptr<InferenceSession> from_checkpoint(const std::string& path, const SessionOptions& options = {});

  ~InferenceSession();

  // (N, C, H, W) float32, normalized as the model expects -> (N, classes) float32 logits.
  Tensor run(const Tensor& batch) const;
  // An image file (PNG, JPEG, BMP, ...) through the checkpoint's preprocessing (channels,
  // size, normalization) -> (1, classes) logits. Only for sessions from a checkpoint.
  Tensor run_image(const std::string& path) const;

  // (1, C, H, W): the input the session was prepared for (N is free).
  const Shape& input_shape() const { return input_shape_; }
  const SessionOptions& options() const { return options_; }
  // What the optimizer did, e.g. "48 -> 21 nodes: 19 batch norm(s) folded ...".
  const std::string& optimization() const { return optimization_; }
  const std::vector<std::string>& class_names() const { return class_names_; }

 private:
  InferenceSession() = default;
  static std::shared_ptr<InferenceSession> from_graph(std::shared_ptr<io::OnnxModel> graph, Shape input_shape,
                                                      const SessionOptions& options);
  std::shared_ptr<io::OnnxModel> graph_;
  Shape input_shape_;
  SessionOptions options_;
  std::string optimization_;
  std::vector<std::string> class_names_;
  std::shared_ptr<const train::Checkpoint> checkpoint_;  // from_checkpoint's, without weights (preprocessing)
};

}  // namespace convnet
