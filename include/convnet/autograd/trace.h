#pragma once
// Op tracing: while a Tracer is alive on a thread, every op called on that thread appends
// one TraceOp (its name, its tensor inputs, its output and the attributes that define it,
// such as a convolution's stride and padding) to the tracer. One forward pass of any
// model then yields its whole computation as a flat list of ops -- including the ops that
// are not modules (a residual add, DenseNet's concatenations, x.flatten(1)) -- which is
// what ONNX export (io/onnx_export.h) turns into a graph. Autograd records the same calls
// but keeps only backward closures; the trace keeps the forward arguments.
//
// Module::operator() pushes the module's path as the current scope, so every op knows the
// layer it ran in ("layer1.0.conv1"). Tensors are identified by their TensorImpl; the
// tracer holds every tensor it saw, so no address is reused while it is alive.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "convnet/core/tensor.h"

namespace convnet::trace {

// The arguments of an op that are not tensors: integer lists and real numbers by name.
struct Attrs {
  std::map<std::string, std::vector<int64_t>> ints = {};  // "= {}": designated initializers may omit it
  std::map<std::string, double> floats = {};
  int64_t i(const std::string& name) const;  // ints[name][0]; throws when absent
  const std::vector<int64_t>& v(const std::string& name) const;
  double f(const std::string& name) const;
};

struct TraceOp {
  std::string type;            // the op's name: "conv2d", "batch_norm", "add", "reshape", ...
  std::string scope;           // path of the innermost module being called ("" = the top)
  std::vector<Tensor> inputs;  // in the op's argument order; undefined = an absent optional input
  Tensor output;
  Attrs attrs;
};

// Whether a Tracer is alive on this thread (ops check this before building a record).
bool active();

// Called by ops once `out` is computed; a no-op unless active().
void record(const char* type, std::vector<Tensor> inputs, const Tensor& out, Attrs attrs = {});

class Tracer {
 public:
  Tracer();  // throws if another Tracer is alive on this thread
  ~Tracer();
  Tracer(const Tracer&) = delete;
  Tracer& operator=(const Tracer&) = delete;
  const std::vector<TraceOp>& ops() const { return ops_; }

 private:
  friend void record(const char*, std::vector<Tensor>, const Tensor&, Attrs);
  friend class Scope;
  std::vector<TraceOp> ops_;
  std::vector<std::string> scopes_;
};

// Names the ops recorded while it is alive (Module::operator() uses it); no-op when no
// Tracer is active.
class Scope {
 public:
  explicit Scope(const std::string& name);
  ~Scope();
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  bool pushed_ = false;
};

}  // namespace convnet::trace
