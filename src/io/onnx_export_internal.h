#pragma once
// Internals of ONNX export, shared by onnx_export.cpp (tracing, value names, initializers,
// the ModelProto) and onnx_export_ops.cpp (one emitter per traced op type).
#include <onnx/onnx_pb.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "convnet/autograd/trace.h"
#include "convnet/io/onnx_export.h"

namespace convnet::io::export_impl {

// What an emitter sees while writing the nodes of one traced op.
class Emit {
 public:
  virtual ~Emit() = default;
  const trace::TraceOp& op() const { return *op_; }
  // "features.3 (Conv2d)"-like label for errors: the op and the layer it ran in.
  std::string label() const;
  // The ONNX value name of input i (a graph input, an earlier op's output, an initializer
  // for a parameter or buffer, or a Constant node for any other tensor). "" = absent.
  virtual std::string in(size_t i) = 0;
  // The name of the op's output value (the graph output for the last op).
  virtual std::string out() = 0;
  // A fresh name for an intermediate value of this op ("<node>/<hint>").
  virtual std::string tmp(const std::string& hint) = 0;
  // A Constant node holding float / int64 data; returns its output name.
  virtual std::string const_floats(const std::string& hint, const std::vector<float>& v, const Shape& dims) = 0;
  virtual std::string const_ints(const std::string& hint, const std::vector<int64_t>& v, const Shape& dims) = 0;
  // Appends a node of `type` named after the op's scope; set attributes on the result.
  virtual onnx::NodeProto& node(const std::string& type, const std::vector<std::string>& inputs,
                                const std::vector<std::string>& outputs) = 0;

 protected:
  const trace::TraceOp* op_ = nullptr;
};

void set_attr(onnx::NodeProto& n, const std::string& name, int64_t v);
void set_attr(onnx::NodeProto& n, const std::string& name, float v);
void set_attr(onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& v);
void set_attr(onnx::NodeProto& n, const std::string& name, const std::string& v);

using Emitter = std::function<void(Emit& e)>;
const std::map<std::string, Emitter>& emitters();

}  // namespace convnet::io::export_impl
