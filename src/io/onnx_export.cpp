// ONNX export: trace one eval-mode forward pass (autograd/trace.h), then write every
// traced op with its emitter (onnx_export_ops.cpp) into a ModelProto. This file names the
// values (graph input and output, op outputs, initializers for parameters and buffers,
// Constant nodes for other tensors) and writes the model.
#include <cstring>
#include <filesystem>
#include <fstream>
#include <unordered_map>

#include "convnet/autograd/autograd.h"
#include "convnet/core/error.h"
#include "convnet/version.h"
#include "io/onnx_export_internal.h"

namespace convnet::io {

using namespace export_impl;

namespace {

constexpr int64_t kIrVersion = 7;    // the IR version of opset 13 (ONNX 1.8)
constexpr int64_t kIrVersion17 = 8;  // the IR version of opset 17 (ONNX 1.12)

void set_float_data(onnx::TensorProto& t, const float* data, int64_t n) {
  t.set_data_type(onnx::TensorProto::FLOAT);
  t.set_raw_data(std::string(reinterpret_cast<const char*>(data), static_cast<size_t>(n) * sizeof(float)));
}

void set_shape(onnx::ValueInfoProto& v, const std::string& name, const Shape& s, bool dynamic_batch) {
  v.set_name(name);
  auto* tt = v.mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  auto* shape = tt->mutable_shape();
  for (size_t k = 0; k < s.size(); ++k) {
    auto* d = shape->add_dim();
    if (k == 0 && dynamic_batch)
      d->set_dim_param("batch");
    else
      d->set_dim_value(s[k]);
  }
}

// "layer1.0.conv1" -> "/layer1.0.conv1" (torch.onnx.export names nodes by module path too).
std::string scope_prefix(const std::string& scope) {
  return scope.empty() ? "" : "/" + scope;
}

class Writer final : public Emit {
 public:
  Writer(onnx::GraphProto& g, const nn::Module& model, const OnnxExportOptions& o) : g_(g) {
    for (const auto& [name, t] : model.named_parameters())
      if (t.defined()) named_[t.impl()] = name;
    for (const auto& [name, t] : model.named_buffers())
      if (t.defined()) named_[t.impl()] = name;
  }

  void bind(const Tensor& t, const std::string& name) { values_[t.impl()] = name; }

  void write(const trace::TraceOp& op, const Tensor& result, const std::string& result_name) {
    op_ = &op;
    out_name_ = op.output.impl() == result.impl() ? result_name : "";
    node_base_ = unique(scope_prefix(op.scope) + "/" + op.type);
    tmp_count_ = 0;
    const auto& table = emitters();
    auto it = table.find(op.type);
    CONVNET_CHECK(it != table.end(), "ONNX export: ", label(),
                  " cannot be exported (exportable ops: ", exportable_list(), ")");
    it->second(*this);
    values_[op.output.impl()] = out();
  }

  std::string in(size_t i) override {
    const Tensor& t = op().inputs.at(i);
    if (!t.defined()) return "";
    if (auto v = values_.find(t.impl()); v != values_.end()) return v->second;
    if (auto p = named_.find(t.impl()); p != named_.end()) {  // a parameter or buffer: its initializer
      auto* init = g_.add_initializer();
      init->set_name(p->second);
      for (int64_t d : t.shape()) init->add_dims(d);
      set_float_data(*init, t.data(), t.numel());
      return values_[t.impl()] = p->second;
    }
    // Computed during the forward pass by something the tracer did not see: autograd
    // names it, because the traced input requires a gradient.
    CONVNET_CHECK(!t.grad_fn(), "ONNX export: input ", i, " of ", label(), " is computed by '", t.grad_fn()->name,
                  "', an operation that is not traced, so it cannot be exported");
    // A tensor that depends on no input and no parameter: a constant.
    std::vector<float> v(t.data(), t.data() + t.numel());
    return values_[t.impl()] = const_floats("const", v, t.shape());
  }

  std::string out() override {
    if (out_name_.empty()) out_name_ = node_base_ + "_output_0";
    return out_name_;
  }

  std::string tmp(const std::string& hint) override {
    return node_base_ + "/" + hint + "_" + std::to_string(tmp_count_++);
  }

  std::string const_floats(const std::string& hint, const std::vector<float>& v, const Shape& dims) override {
    onnx::TensorProto t;
    for (int64_t d : dims) t.add_dims(d);
    set_float_data(t, v.data(), static_cast<int64_t>(v.size()));
    return constant(hint, t);
  }
  std::string const_ints(const std::string& hint, const std::vector<int64_t>& v, const Shape& dims) override {
    onnx::TensorProto t;
    for (int64_t d : dims) t.add_dims(d);
    t.set_data_type(onnx::TensorProto::INT64);
    t.set_raw_data(std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(int64_t)));
    return constant(hint, t);
  }

  onnx::NodeProto& node(const std::string& type, const std::vector<std::string>& inputs,
                        const std::vector<std::string>& outputs) override {
    auto* n = g_.add_node();
    n->set_op_type(type);
    n->set_name(unique(scope_prefix(op().scope) + "/" + type));
    for (const auto& s : inputs) n->add_input(s);
    for (const auto& s : outputs) n->add_output(s);
    return *n;
  }

 private:
  std::string constant(const std::string& hint, onnx::TensorProto& t) {
    const std::string name = tmp(hint);
    t.set_name(name);
    auto* n = g_.add_node();
    n->set_op_type("Constant");
    n->set_name(name);
    n->add_output(name);
    auto* a = n->add_attribute();
    a->set_name("value");
    a->set_type(onnx::AttributeProto::TENSOR);
    *a->mutable_t() = t;
    return name;
  }

  std::string unique(const std::string& base) {
    const int n = used_[base]++;
    return n == 0 ? base : base + "_" + std::to_string(n);
  }

  static std::string exportable_list() {
    std::string s;
    for (const auto& [name, e] : emitters()) s += (s.empty() ? "" : ", ") + name;
    return s;
  }

  onnx::GraphProto& g_;
  std::unordered_map<const TensorImpl*, std::string> named_;   // parameters and buffers
  std::unordered_map<const TensorImpl*, std::string> values_;  // tensors that have an ONNX value
  std::map<std::string, int> used_;                            // node and value names given so far
  std::string node_base_, out_name_;
  int tmp_count_ = 0;
};

// Restores the train/eval state of every module (fine-tuning mixes them: frozen BatchNorms in eval).
class ModeGuard {
 public:
  explicit ModeGuard(nn::Module& m) {
    for (auto& [name, mod] : m.named_modules()) modes_.emplace_back(mod, mod->is_training());
  }
  ~ModeGuard() {
    for (auto& [mod, training] : modes_) mod->train(training);  // parents first: children then set their own
  }

 private:
  std::vector<std::pair<nn::Module*, bool>> modes_;
};

}  // namespace

std::vector<std::string> onnx_exportable_ops() {
  std::vector<std::string> out;
  for (const auto& [name, e] : emitters()) out.push_back(name);
  return out;
}

namespace {
onnx::ModelProto build_model(nn::Module& model, const Shape& input_shape, const OnnxExportOptions& o) {
  CONVNET_CHECK(o.opset == 13 || o.opset == 17, "ONNX export: opset ", o.opset,
                " is not supported (the exporter writes opset 13, or 17)");
  CONVNET_CHECK(!input_shape.empty(), "ONNX export: the input shape must not be empty");
  for (int64_t d : input_shape)
    CONVNET_CHECK(d > 0, "ONNX export: input shape ", shape_str(input_shape), " has a non-positive dimension");

  onnx::ModelProto m;
  m.set_ir_version(kIrVersion);
  m.set_producer_name("convnet");
  m.set_producer_version(CONVNET_VERSION);
  auto* opset = m.add_opset_import();
  opset->set_domain("");
  opset->set_version(o.opset);
  for (const auto& [k, v] : o.metadata) {
    auto* p = m.add_metadata_props();
    p->set_key(k);
    p->set_value(v);
  }
  auto& g = *m.mutable_graph();
  g.set_name(o.graph_name);

  // Trace with gradients on and an input that requires one: then any tensor computed from
  // the input by an op the tracer does not know carries an autograd node that names it.
  Tensor x = Tensor::zeros(input_shape).requires_grad_(true);
  Tensor y;
  std::vector<trace::TraceOp> ops;
  {
    EnableGradGuard grad_on;
    ModeGuard modes(model);
    model.eval();
    trace::Tracer tracer;
    y = model(x);
    ops = tracer.ops();
  }
  CONVNET_CHECK(y.defined(), "ONNX export: the model returned an undefined tensor");
  CONVNET_CHECK(y.impl() != x.impl(), "ONNX export: the model returns its input unchanged; there is nothing to export");

  Writer w(g, model, o);
  w.bind(x, o.input_name);
  bool produced = false;
  for (const auto& op : ops) {
    w.write(op, y, o.output_name);
    produced = produced || op.output.impl() == y.impl();
  }
  CONVNET_CHECK(produced, "ONNX export: the model's output is not computed by a traced op",
                y.grad_fn() ? " (it comes from '" + y.grad_fn()->name + "')" : std::string());
  set_shape(*g.add_input(), o.input_name, input_shape, o.dynamic_batch);
  set_shape(*g.add_output(), o.output_name, y.shape(), o.dynamic_batch && y.dim() >= 1);
  // LayerNormalization is an opset-17 operator: a graph with one is written at opset 17.
  for (const auto& n : g.node())
    if (n.op_type() == "LayerNormalization" && opset->version() < 17) {
      opset->set_version(17);
      m.set_ir_version(kIrVersion17);
    }
  if (opset->version() >= 17) m.set_ir_version(kIrVersion17);
  return m;
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  CONVNET_CHECK(f, "ONNX export: cannot open '", path, "' for writing");
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  f.close();
  CONVNET_CHECK(f, "ONNX export: writing '", path, "' failed");
}

std::string serialize(const onnx::ModelProto& m) {
  std::string bytes;
  CONVNET_CHECK(m.SerializeToString(&bytes),
                "ONNX export: protobuf serialization failed (a model over 2 GiB needs "
                "external data)");
  return bytes;
}

// Moves the bytes of every initializer of 1 KiB or more into `data` (ONNX external data:
// location relative to the model's directory, offsets aligned to 4 KiB as onnx does).
void externalize(onnx::ModelProto& m, const std::string& location, std::string& data) {
  for (auto& t : *m.mutable_graph()->mutable_initializer()) {
    if (t.raw_data().size() < 1024) continue;
    data.resize((data.size() + 4095) / 4096 * 4096, '\0');
    const size_t offset = data.size();
    data += t.raw_data();
    t.clear_raw_data();
    t.set_data_location(onnx::TensorProto::EXTERNAL);
    auto add = [&](const char* k, const std::string& v) {
      auto* e = t.add_external_data();
      e->set_key(k);
      e->set_value(v);
    };
    add("location", location);
    add("offset", std::to_string(offset));
    add("length", std::to_string(data.size() - offset));
  }
}
}  // namespace

std::string export_onnx_bytes(nn::Module& model, const Shape& input_shape, const OnnxExportOptions& o) {
  CONVNET_CHECK(o.external_data.empty(), "ONNX export: external data needs a file path (use export_onnx)");
  return serialize(build_model(model, input_shape, o));
}

void export_onnx(nn::Module& model, const Shape& input_shape, const std::string& path, const OnnxExportOptions& o) {
  onnx::ModelProto m = build_model(model, input_shape, o);
  if (!o.external_data.empty()) {
    CONVNET_CHECK(o.external_data.find('/') == std::string::npos && o.external_data != "." && o.external_data != "..",
                  "ONNX export: external data '", o.external_data,
                  "' must be a file name (it is written beside the model)");
    std::string data;
    externalize(m, o.external_data, data);
    write_file((std::filesystem::path(path).parent_path() / o.external_data).string(), data);
  }
  write_file(path, serialize(m));
}

}  // namespace convnet::io
