#pragma once
// Internals of the ONNX importer, shared by onnx_import.cpp (file, graph checks, running)
// and the operator files onnx_ops_nn.cpp / onnx_ops_tensor.cpp.
//
// Every supported operator has a Builder: at load time it reads the node's attributes
// once (and rejects unsupported attribute values by throwing Unsupported) and returns a
// Kernel, a closure that maps the node's input values to its output values with convnet
// ops at run time.
#include <onnx/onnx_pb.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "convnet/core/error.h"
#include "convnet/io/onnx.h"
#include "convnet/ops/conv2d.h"

namespace convnet::io::onnx_impl {

// A convolution's fused epilogue (OnnxModel::optimize_for_inference): the Conv kernel reads
// the residual, when there is one, as its input `residual_input`.
struct ConvFuse {
  ConvEpilogue::Act act = ConvEpilogue::Act::none;
  float lo = 0.f, hi = 0.f;
  int residual_input = -1;
};

struct RunCtx {
  bool training = false;           // the module's train()/eval() state
  const ConvFuse* fuse = nullptr;  // a fused Conv step's epilogue
  bool residual_owned = false;     // its residual input is the step's to take (its last reader)
};

// in[i] is null for an omitted optional input (empty name or beyond the node's inputs).
using Inputs = std::vector<const OnnxValue*>;
using Kernel = std::function<std::vector<OnnxValue>(const Inputs& in, const RunCtx& ctx)>;

// A node uses an operator or attribute value the importer does not support; load()
// collects every one of them into one error.
struct Unsupported {
  std::string reason;
};

// What a builder sees of a node: attributes with defaults, input/output counts.
class NodeView {
 public:
  NodeView(const onnx::NodeProto& n, int64_t opset, std::string label, std::vector<bool> outputs_used)
      : node_(n), opset_(opset), label_(std::move(label)), outputs_used_(std::move(outputs_used)) {}
  const onnx::NodeProto& node() const { return node_; }
  int64_t opset() const { return opset_; }
  const std::string& label() const { return label_; }  // "node 'name' (Op)"
  bool has(const std::string& attr) const;
  int64_t get_int(const std::string& attr, int64_t def) const;
  float get_float(const std::string& attr, float def) const;
  std::string get_string(const std::string& attr, const std::string& def) const;
  std::vector<int64_t> get_ints(const std::string& attr, std::vector<int64_t> def = {}) const;
  std::vector<float> get_floats(const std::string& attr) const;
  const onnx::TensorProto* get_tensor(const std::string& attr) const;
  // Inputs present: index < input_size and a non-empty name.
  bool has_input(int i) const { return i < node_.input_size() && !node_.input(i).empty(); }
  int num_outputs() const { return node_.output_size(); }
  // Whether output i is named and consumed by a node or the graph's outputs (exporters
  // name optional outputs, e.g. Dropout's mask, that nothing reads).
  bool output_used(int i) const { return i < static_cast<int>(outputs_used_.size()) && outputs_used_[i]; }

 private:
  const onnx::AttributeProto* find(const std::string& attr) const;
  const onnx::NodeProto& node_;
  int64_t opset_;
  std::string label_;
  std::vector<bool> outputs_used_;
};

using Builder = std::function<Kernel(const NodeView& node)>;

}  // namespace convnet::io::onnx_impl

namespace convnet::io {
// The compiled graph of an OnnxModel (built by onnx_import.cpp, adjusted for fine-tuning
// by onnx_finetune.cpp).
struct OnnxModel::Graph {
  struct Step {
    std::string label;    // "node 'name' (Op)", for errors
    std::vector<int> in;  // slot per input, -1 for an omitted optional input
    std::vector<int> out;
    onnx_impl::Kernel fn;
    std::vector<int> release;  // slots no later step reads: freed after this step
    std::string name;          // the node's name ("" if unnamed) and operator, for fine-tuning
    std::string op_type;
    bool gemm_trans_b = false;  // Gemm: B is (N, K), as torch's Linear weight
    bool force_eval = false;    // runs with eval semantics even in train mode (frozen BatchNorm)
    onnx::NodeProto node;       // the node (attributes, input and output names), for the optimizer
    std::shared_ptr<const onnx_impl::ConvFuse> fuse;  // a Conv with a fused epilogue
    bool take_residual = false;                       // fused, and the last reader of its residual (compute_releases)
  };
  std::string source;
  int64_t opset = 0;
  std::vector<OnnxValue> fixed;  // initializers (the registered tensors) and constants; others empty
  std::vector<OnnxTensorInfo> inputs, outputs;
  std::vector<int> input_slots, output_slots;
  std::vector<Step> steps;
  bool inference_only = false;  // optimize_for_inference ran
  // Fills each step's `release` list (the non-fixed slots it is the last reader of) and
  // take_residual.
  void compute_releases();
  // Runs the steps on `values` (the inputs set; a slot left empty there reads `fixed`), in train or eval mode;
  // release_values frees each intermediate value after its last reader (off: every value is
  // kept, for a caller that reads them all).
  void execute(std::vector<OnnxValue>& values, bool training, bool release_values) const;
};

}  // namespace convnet::io

namespace convnet::io::onnx_impl {
using BuilderTable = std::map<std::string, Builder>;

// Each operator file adds its builders to the table.
void add_nn_builders(BuilderTable& table);
void add_tensor_builders(BuilderTable& table);
void add_math_builders(BuilderTable& table);
const BuilderTable& builders();

// TensorProto -> value (float types -> Tensor, integer types -> ints). `what` names the
// tensor in errors; `base_dir` resolves external data ("" = none allowed).
OnnxValue value_from_proto(const onnx::TensorProto& t, const std::string& what, const std::string& base_dir);
std::string elem_type_name(int32_t data_type);
// The value of a Constant node (attribute value, value_float(s) or value_int(s)).
OnnxValue constant_value(const NodeView& node, const std::string& base_dir);
bool is_float_type(int32_t data_type);

// ---- helpers for kernels ---------------------------------------------------------------
// A kernel's single output.
inline std::vector<OnnxValue> one(OnnxValue v) {
  std::vector<OnnxValue> out;
  out.push_back(std::move(v));
  return out;
}
// Input i as float data / integer data; throws naming the input when it is absent or of
// the other kind.
const Tensor& float_input(const Inputs& in, size_t i, const char* what);
const OnnxValue& int_input(const Inputs& in, size_t i, const char* what);
// A one-element float or integer input as a double (Clip bounds, Pad value, Dropout ratio).
double scalar_input(const Inputs& in, size_t i, const char* what);
// For every element of `out` (row-major), the flat index of the element of a tensor of
// shape `in` that NumPy broadcasting maps to it.
std::vector<int64_t> broadcast_index(const Shape& in, const Shape& out);
// Integer data broadcast to `out`.
OnnxValue int_broadcast(const OnnxValue& v, const Shape& out);
// Float data, or a constant float copy of integer data (no gradient).
Tensor as_float_tensor(const OnnxValue& v);
// "[1, 2, 3]"
std::string list_str(const std::vector<int64_t>& v);
// Normalizes an axis in [-rank, rank) to [0, rank); throws naming the op otherwise.
int64_t norm_axis(int64_t axis, int64_t rank, const char* what);

}  // namespace convnet::io::onnx_impl
