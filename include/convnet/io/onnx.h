#pragma once
// ONNX import: an .onnx file (as torch.onnx.export writes for image classifiers, opsets
// 13-17; older opsets' attribute forms are read too) becomes an nn::Module that runs the
// graph with convnet ops, so autograd works through it and it can be fine-tuned:
//
//   auto net = convnet::io::load_onnx("resnet18.onnx");
//   net->eval();
//   Tensor logits = (*net)(x);               // x: the graph's one input, e.g. (N, 3, 224, 224)
//
// Parameters: every float initializer becomes a parameter named as in the file (for
// torch.onnx.export, torchvision's state_dict keys, or "onnx::Conv_193" for the weights of
// a Conv with a BatchNorm folded into it). Weights and biases of Conv, Gemm and MatMul and
// the scale and bias of BatchNormalization require gradients; BatchNormalization's mean
// and variance are buffers (updated in train mode, PyTorch's momentum = 1 - ONNX momentum);
// any other float initializer is a parameter that does not require a gradient. Integer
// initializers and Constant nodes are constants. An Identity of an initializer (exporters
// use it to share one copy of equal tensors) becomes its own parameter named by its
// output, a copy, so that fine-tuning one never changes the other.
// train()/eval() switch BatchNormalization between batch and running statistics and
// Dropout between dropping and the identity.
//
// Values: float data is a convnet Tensor (float32); integer data (int64, int32, bool, ...)
// is shape arithmetic in CNN graphs (Shape -> Gather -> Unsqueeze -> Concat -> Reshape)
// and is computed at run time, so such graphs work for any batch size.
//
// Errors (convnet::Error) name the file and the node: a file that is not an ONNX model,
// unsupported operators (all of them, in one message), inputs that no node produces
// (missing initializers), cycles, and at run time inputs of the wrong rank or channel count.
// Supported operators: onnx_supported_ops(); see docs/onnx.md.
#include <memory>
#include <string>
#include <vector>

#include "convnet/core/rng.h"
#include "convnet/core/tensor.h"
#include "convnet/nn/module.h"

namespace convnet::io {

// A value of an ONNX graph: float data (a Tensor) or integer data (int64 values).
struct OnnxValue {
  Tensor tensor;              // float data, defined unless is_int
  std::vector<int64_t> ints;  // integer data, row-major
  Shape int_shape;            // the shape of `ints`
  bool is_int = false;

  static OnnxValue of(Tensor t);
  static OnnxValue of_ints(Shape shape, std::vector<int64_t> values);
  bool defined() const { return is_int || tensor.defined(); }
  const Shape& shape() const { return is_int ? int_shape : tensor.shape(); }
  std::string describe() const;  // "float (2, 3)" or "int64 (4)"
};

// The declaration of a graph input or output: name, element type and shape; dims[k] = -1
// for a symbolic or unknown dimension; rank -1 (empty dims, known_rank false) if undeclared.
struct OnnxTensorInfo {
  std::string name;
  std::string elem_type;  // "float", "int64", ...
  Shape dims;
  bool known_rank = false;
};

class OnnxModel : public nn::Module {
 public:
  // Reads and checks the whole file; throws convnet::Error naming `path`.
  static std::shared_ptr<OnnxModel> load(const std::string& path);
  // The same from the serialized bytes of a ModelProto; `source` names them in errors.
  static std::shared_ptr<OnnxModel> load_from_bytes(const std::string& bytes, const std::string& source);

  // One float input -> the first output. Requires a graph with exactly one input.
  Tensor forward(const Tensor& x) override;
  // All inputs in graph order -> all outputs in graph order.
  std::vector<OnnxValue> run(const std::vector<OnnxValue>& inputs);

  std::string type_name() const override { return "OnnxModel"; }
  std::string extra_repr() const override;  // file, opset, node count, inputs

  const std::vector<OnnxTensorInfo>& inputs() const;
  const std::vector<OnnxTensorInfo>& outputs() const;
  int64_t opset() const;
  const std::string& source() const;
  int64_t num_nodes() const;  // after folding Identity/Constant nodes into constants

  // ---- fine-tuning (train/finetune.h; src/io/onnx_finetune.cpp) ----------------------
  struct ParamGroup {
    std::string node;                 // the node's name (its label when unnamed)
    std::string op_type;              // "Conv", "Gemm", "BatchNormalization", ...
    std::vector<std::string> params;  // the parameters this node is the first to read
  };
  // One group per node that reads parameters, in run order: the graph's "layers".
  std::vector<ParamGroup> parameter_groups() const;
  // The classifier head: the last Gemm or Conv node whose weight is a parameter, and its
  // number of outputs. Throws when there is none.
  std::pair<std::string, int64_t> head() const;
  // Gives the head freshly initialized weight and bias (PyTorch's default for Linear and
  // Conv2d, uniform in +-1/sqrt(fan_in)) with `num_classes` outputs, same names.
  void replace_head(int64_t num_classes, Generator& gen);
  // The BatchNormalization nodes named here normalize with, and keep, their running
  // statistics in train mode too (frozen layers of a fine-tuned graph).
  void keep_in_eval(const std::vector<std::string>& nodes);

  // ---- inference (inference/session.h; src/io/onnx_optimize.cpp) -----------------------
  struct Optimized {
    int batch_norms_folded = 0;  // Conv -> BatchNormalization: into the convolution's weights
    int residuals_fused = 0;     // Conv -> Add (-> Relu/Clip): the sum as the convolution's post-op
    int activations_fused = 0;   // Conv -> Relu/Clip: the activation as the convolution's post-op
    int nodes_before = 0, nodes_after = 0;
    std::string describe() const;  // "12 -> 7 nodes: 3 batch norms folded, ..."
  };
  // Rewrites the compiled graph for inference, in place: BatchNormalization folded into the
  // Conv before it, and Relu / Clip / a residual Add fused into the Conv that produces their
  // input, where that Conv's output has no other reader. Which Add operands are equal-shaped
  // feature maps (not a broadcast) is read from one run on zeros of `probe_shape` (the
  // input's shape; its batch dimension is replaced by 2). Afterwards the model computes the
  // same function up to float rounding, in eval mode only: train() and fine-tuning are
  // refused, and its parameters no longer describe it (the folded weights are its own copies).
  Optimized optimize_for_inference(const Shape& probe_shape);
  bool optimized_for_inference() const;

  struct Graph;  // the compiled graph (src/io/onnx_internal.h)

 private:
  OnnxModel() = default;
  std::shared_ptr<Graph> graph_;
};

inline std::shared_ptr<OnnxModel> load_onnx(const std::string& path) {
  return OnnxModel::load(path);
}

// A serialized TensorProto file, as ONNX's test data (test_data_set_0/input_0.pb).
OnnxValue load_onnx_tensor(const std::string& path);
// The operator types (domain ai.onnx) the importer supports, sorted.
std::vector<std::string> onnx_supported_ops();

}  // namespace convnet::io
