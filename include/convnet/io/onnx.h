#pragma once
#pragma GCC visibility push(default)
/// \file
/// ONNX import: an .onnx file (as torch.onnx.export writes for image classifiers, opsets
/// 13-17; older opsets' attribute forms are read too) becomes an nn::Module (OnnxModel) that
/// runs the graph with convnet ops, so autograd works through it and it can be fine-tuned:
///
/// \code
///   auto net = convnet::io::load_onnx("resnet18.onnx");
///   net->eval();
///   Tensor logits = (*net)(x);               // x: the graph's one input, e.g. (N, 3, 224, 224)
/// \endcode
///
/// Parameters: every float initializer becomes a parameter named as in the file (for
/// torch.onnx.export, torchvision's state_dict keys, or "onnx::Conv_193" for the weights of
/// a Conv with a BatchNorm folded into it). Weights and biases of Conv, Gemm and MatMul and
/// the scale and bias of BatchNormalization require gradients; BatchNormalization's mean
/// and variance are buffers (updated in train mode, PyTorch's momentum = 1 - ONNX momentum);
/// any other float initializer is a parameter that does not require a gradient. Integer
/// initializers and Constant nodes are constants. An Identity of an initializer (exporters
/// use it to share one copy of equal tensors) becomes its own parameter named by its
/// output, a copy, so that fine-tuning one never changes the other.
/// train()/eval() switch BatchNormalization between batch and running statistics and
/// Dropout between dropping and the identity.
///
/// Values: float data is a convnet Tensor (float32); integer data (int64, int32, bool, ...)
/// is shape arithmetic in CNN graphs (Shape -> Gather -> Unsqueeze -> Concat -> Reshape)
/// and is computed at run time, so such graphs work for any batch size.
///
/// Errors (convnet::Error) name the file and the node: a file that is not an ONNX model,
/// unsupported operators (all of them, in one message), inputs that no node produces
/// (missing initializers), cycles, and at run time inputs of the wrong rank or channel count.
/// Supported operators: onnx_supported_ops(); see docs/onnx.md.
#include <memory>
#include <string>
#include <vector>

#include "convnet/core/rng.h"
#include "convnet/core/tensor.h"
#include "convnet/nn/module.h"

namespace convnet::io {

/// A value of an ONNX graph: float data (a Tensor) or integer data (int64 values).
struct OnnxValue {
  Tensor tensor;              ///< float data, defined unless is_int
  std::vector<int64_t> ints;  ///< integer data, row-major
  Shape int_shape;            ///< the shape of `ints`
  bool is_int = false;        ///< true: the value is `ints` (of `int_shape`), else `tensor`

  /// A float value holding `t`.
  /// \post `is_int` false, `tensor` = `t` (the same tensor, not a copy).
  static OnnxValue of(Tensor t);
  /// An integer value of `shape` holding `values`, row-major.
  /// \pre  `values.size()` is the number of elements of `shape` (not checked).
  /// \post `is_int` true, `int_shape` = `shape`, `ints` = `values`.
  static OnnxValue of_ints(Shape shape, std::vector<int64_t> values);
  bool defined() const { return is_int || tensor.defined(); }  ///< Integer data, or a defined tensor.
  const Shape& shape() const { return is_int ? int_shape : tensor.shape(); }  ///< The shape of the data.
  std::string describe() const;  ///< "float (2, 3)" or "int64 (4)"; "an absent value" when undefined
};

/// The declaration of a graph input or output: name, element type and shape; dims[k] = -1
/// for a symbolic or unknown dimension; rank -1 (empty dims, known_rank false) if undeclared.
struct OnnxTensorInfo {
  std::string name;       ///< the value's name in the graph
  std::string elem_type;  ///< "float", "int64", ...; empty when undeclared
  Shape dims;             ///< the declared dimensions, -1 where symbolic or unknown
  bool known_rank = false;  ///< whether a shape is declared (then `dims.size()` is the rank)
};

/// An ONNX graph imported as an nn::Module: forward() runs the graph with convnet ops
/// (see the file comment for how initializers become parameters and buffers).
/// Made by load() / load_from_bytes() / load_onnx().
class OnnxModel : public nn::Module {
 public:
  /// Reads and checks the whole file.
  /// \pre  `path` is a readable, serialized ONNX ModelProto with graph nodes, under 2 GiB
  ///       (external data files beside it), importing an ai.onnx opset from 1 to 17, whose
  ///       nodes use only supported operators (onnx_supported_ops(), ai.onnx domain), read
  ///       only values some node, graph input or initializer defines (each defined once),
  ///       form no cycle, and give the graph at least one output that some node, input or
  ///       initializer defines.
  /// \post an OnnxModel in train mode (the nn::Module default) with the file's initializers
  ///       as parameters and buffers; source() is `path`.
  /// \throws convnet::Error naming `path` when the file cannot be opened or breaks a
  ///         requirement above: not an ONNX model, the opset, a value defined twice, inputs that
  ///         no node produces (listed), a cycle (naming its nodes), every unsupported operator
  ///         (in one message, with the nodes that use it), a missing graph output, or a bad
  ///         initializer (naming it) or node attribute (naming the node).
  static std::shared_ptr<OnnxModel> load(const std::string& path);
  /// As load(), from the serialized bytes of a ModelProto; `source` names them in errors, and
  /// external data files are looked for in the directory of `source`.
  /// \pre  as load(), for `bytes`.
  /// \post as load(); source() is `source`.
  /// \throws convnet::Error naming `source`, as load().
  static std::shared_ptr<OnnxModel> load_from_bytes(const std::string& bytes, const std::string& source);

  /// One float input to the first output (Module::forward).
  /// \pre  the graph has exactly one input; `x` is float data of the declared rank, matching
  ///       every declared dimension but the first (the batch); the first output is float data;
  ///       in eval mode if optimized_for_inference().
  /// \post the graph's first output for `x`.
  /// \throws convnet::Error naming the model: for a graph of several inputs, an input that
  ///         does not match its declaration, an integer first output, train mode after
  ///         optimize_for_inference(), or an error of a node (naming the node).
  Tensor forward(const Tensor& x) override;
  /// All inputs in graph order to all outputs in graph order.
  /// \pre  one value per graph input (inputs()), each defined, float or integer as declared,
  ///       of the declared rank and matching every declared dimension but the first; in eval
  ///       mode if optimized_for_inference().
  /// \post the values of outputs(), in that order.
  /// \throws convnet::Error naming the model: a wrong number of inputs (listing the declared
  ///         ones), an input that does not match its declaration (naming it), train mode after
  ///         optimize_for_inference(), an output that was not computed, or an error of a node
  ///         (naming the node).
  std::vector<OnnxValue> run(const std::vector<OnnxValue>& inputs);

  std::string type_name() const override { return "OnnxModel"; }  ///< "OnnxModel".
  /// The file, the opset, the node count and the inputs, for printing the module.
  std::string extra_repr() const override;

  const std::vector<OnnxTensorInfo>& inputs() const;   ///< The graph's inputs (initializers excluded), in order.
  const std::vector<OnnxTensorInfo>& outputs() const;  ///< The graph's outputs, in order.
  int64_t opset() const;                               ///< The ai.onnx opset the model imports.
  const std::string& source() const;                   ///< The file (or `source`) the model was read from.
  int64_t num_nodes() const;  ///< The compiled nodes, after folding Identity/Constant nodes into constants (and optimize_for_inference()).

  // ---- fine-tuning (train/finetune.h; src/io/onnx_finetune.cpp) ----------------------
  /// The parameters of one node: a "layer" of the graph for fine-tuning.
  struct ParamGroup {
    std::string node;                 ///< the node's name (its label when unnamed)
    std::string op_type;              ///< "Conv", "Gemm", "BatchNormalization", ...
    std::vector<std::string> params;  ///< the parameters this node is the first to read
  };
  /// One group per node that reads parameters, in run order: the graph's "layers".
  /// \post every parameter a node reads is in exactly one group, the group of its first reader.
  std::vector<ParamGroup> parameter_groups() const;
  /// The classifier head: the last Gemm or Conv node whose weight is a parameter, and its
  /// number of outputs.
  /// \pre  the graph has such a node.
  /// \post (the node's name, or its label when unnamed; its number of outputs).
  /// \throws convnet::Error naming the model when there is none.
  std::pair<std::string, int64_t> head() const;
  /// Gives the head freshly initialized weight and bias (PyTorch's default for Linear and
  /// Conv2d, uniform in +-1/sqrt(fan_in)) with `num_classes` outputs, same names.
  /// \pre  `num_classes > 0`; the graph has a head (see head()).
  /// \post the head's weight, and its bias when that is a parameter with one entry per
  ///       output, are new parameters that require gradients, drawn from `gen`; a declared
  ///       output whose last dimension was the old number of outputs now declares `num_classes`.
  /// \throws convnet::Error when `num_classes` is not positive or there is no head.
  void replace_head(int64_t num_classes, Generator& gen);
  /// The nodes named here (BatchNormalization: frozen layers of a fine-tuned graph) run as in
  /// eval mode also in train mode: they normalize with, and keep, their running statistics.
  /// \post exactly the nodes whose name (label when unnamed) is in `nodes` run in eval mode;
  ///       this replaces the set of an earlier call; names that match no node are ignored.
  void keep_in_eval(const std::vector<std::string>& nodes);

  // ---- inference (inference/session.h; src/io/onnx_optimize.cpp) -----------------------
  /// What optimize_for_inference() did.
  struct Optimized {
    int batch_norms_folded = 0;  ///< Conv -> BatchNormalization: into the convolution's weights
    int residuals_fused = 0;     ///< Conv -> Add (-> Relu/Clip): the sum as the convolution's post-op
    int activations_fused = 0;   ///< Conv -> Relu/Clip: the activation as the convolution's post-op
    int decomposed_fused = 0;    ///< GELU (erf) / SiLU written as elementwise nodes: one gelu / silu step
    int linear_biases_fused = 0;  ///< MatMul (constant weight) -> Add (constant bias): one linear layer
    /// The number of nodes before the rewrite.
    int nodes_before = 0, nodes_after = 0;  ///< The number of nodes after the rewrite.
    std::string describe() const;  ///< "12 -> 7 nodes: 3 batch norm(s) folded into convolutions, ..."
  };
  /// Rewrites the compiled graph for inference, in place.
  /// BatchNormalization is folded into the Conv before it, and Relu / Clip / a residual Add
  /// fused into the Conv that produces their input, where that Conv's output has no other
  /// reader; GELU and SiLU written as elementwise nodes (Div/Mul, Erf, Add, Mul, Mul;
  /// Sigmoid, Mul) become one step where no other node reads their intermediate values, and
  /// a MatMul by a constant 2-D weight followed by the Add of a constant bias one linear layer. Which Add operands are
  /// equal-shaped feature maps (not a broadcast) is read from one run on zeros of `probe_shape` (the input's shape; its
  /// batch dimension is replaced by 2); residual Adds are not fused when the graph has several inputs or `probe_shape`
  /// is empty. Afterwards the model computes the same function up to float rounding, in eval
  /// mode only: running it in train mode (so fine-tuning too) throws, and its parameters no
  /// longer describe it (the folded weights are its own copies).
  /// \pre  not optimized_for_inference() already; `probe_shape` a valid input shape, or empty.
  /// \post the model is in eval mode and optimized_for_inference(); the counts of the rewrites.
  /// \throws convnet::Error naming the model when it is optimized already, or an error of the
  ///         probe run (naming the node).
  Optimized optimize_for_inference(const Shape& probe_shape);
  bool optimized_for_inference() const;  ///< Whether optimize_for_inference() ran.

  struct Graph;  // the compiled graph (src/io/onnx_internal.h)

 private:
  OnnxModel() = default;
  std::shared_ptr<Graph> graph_;
};

/// Reads an ONNX model file: OnnxModel::load(path).
/// \pre  as OnnxModel::load().
/// \post as OnnxModel::load().
/// \throws convnet::Error naming `path`, as OnnxModel::load().
inline std::shared_ptr<OnnxModel> load_onnx(const std::string& path) {
  return OnnxModel::load(path);
}

/// A serialized TensorProto file, as ONNX's test data (test_data_set_0/input_0.pb)
/// (as onnx.numpy_helper.to_array(onnx.load_tensor(path))).
/// \pre  `path` is a serialized ONNX TensorProto of float, double or integer data, with
///       non-negative dimensions and as many values as its shape needs (external data beside it).
/// \post float and double data as a float32 tensor, integer data as int64 values (is_int).
/// \throws convnet::Error naming the file when it cannot be opened or parsed, has an
///         unsupported data type, or holds the wrong number of values.
OnnxValue load_onnx_tensor(const std::string& path);
/// The operator types (domain ai.onnx) the importer supports, sorted.
std::vector<std::string> onnx_supported_ops();

}  // namespace convnet::io
#pragma GCC visibility pop
