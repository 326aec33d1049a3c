#pragma once
#pragma GCC visibility push(default)
/// \file
/// Op tracing: while a Tracer is alive on a thread, every op called on that thread appends
/// one TraceOp (its name, its tensor inputs, its output and the attributes that define it,
/// such as a convolution's stride and padding) to the tracer. One forward pass of any
/// model then yields its whole computation as a flat list of ops -- including the ops that
/// are not modules (a residual add, DenseNet's concatenations, x.flatten(1)) -- which is
/// what ONNX export (io/onnx_export.h) turns into a graph. Autograd records the same calls
/// but keeps only backward closures; the trace keeps the forward arguments.
///
/// Module::operator() pushes the module's path as the current scope, so every op knows the
/// layer it ran in ("layer1.0.conv1"). Tensors are identified by their TensorImpl; the
/// tracer holds every tensor it saw, so no address is reused while it is alive.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "convnet/core/tensor.h"

namespace convnet::trace {

/// The arguments of an op that are not tensors: integer lists and real numbers by name.
struct Attrs {
  std::map<std::string, std::vector<int64_t>> ints = {};  ///< Integer lists by name ("stride", "padding" ...). "= {}": designated initializers may omit it
  std::map<std::string, double> floats = {};  ///< Real numbers by name ("eps", "momentum" ...).
  /// `ints[name][0]`: the first value of an integer attribute.
  /// \throws convnet::Error when `name` is absent or empty, naming it.
  int64_t i(const std::string& name) const;
  /// `ints[name]`: the whole integer list.
  /// \post a non-empty list.
  /// \throws convnet::Error when `name` is absent or empty, naming it.
  const std::vector<int64_t>& v(const std::string& name) const;
  /// `floats[name]`: a real attribute.
  /// \throws convnet::Error when `name` is absent, naming it.
  double f(const std::string& name) const;
};

/// One traced op call.
struct TraceOp {
  std::string type;            ///< the op's name: "conv2d", "batch_norm", "add", "reshape", ...
  std::string scope;           ///< path of the innermost module being called ("" = the top)
  std::vector<Tensor> inputs;  ///< in the op's argument order; undefined = an absent optional input
  Tensor output;  ///< The op's result.
  Attrs attrs;  ///< The non-tensor arguments.
};

/// Whether a Tracer is alive on this thread (ops check this before building a record).
bool active();

/// Called by ops once `out` is computed; a no-op unless active().
/// \pre  `type` is a null-terminated string (it is copied).
/// \post when active(): the Tracer of this thread has one more TraceOp {`type`, the current
///       Scope's name, `inputs`, `out`, `attrs`}, holding the tensors (not copies).
void record(const char* type, std::vector<Tensor> inputs, const Tensor& out, Attrs attrs = {});

/// Collects the ops called on its thread while alive (RAII). At most one per thread.
class Tracer {
 public:
  /// Starts tracing on this thread.
  /// \pre  no other Tracer is alive on this thread.
  /// \post active() is true on this thread until the Tracer is destroyed.
  /// \throws convnet::Error when another Tracer is alive on this thread.
  Tracer();
  /// Stops tracing on this thread (active() becomes false).
  ~Tracer();
  Tracer(const Tracer&) = delete;
  Tracer& operator=(const Tracer&) = delete;
  /// The ops recorded so far, in call order.
  const std::vector<TraceOp>& ops() const { return ops_; }

 private:
  friend void record(const char*, std::vector<Tensor>, const Tensor&, Attrs);
  friend class Scope;
  std::vector<TraceOp> ops_;
  std::vector<std::string> scopes_;
};

/// Names the ops recorded while it is alive (Module::operator() uses it); no-op when no
/// Tracer is active.
class Scope {
 public:
  /// Makes `name` the scope of the ops recorded from now until this Scope is destroyed (an
  /// inner Scope takes over until it ends). `name` is stored as given, not joined to the
  /// outer one: Module passes its full path ("layer1.0.conv1").
  /// \post when active(): record() stores `name` as TraceOp::scope; otherwise nothing.
  explicit Scope(const std::string& name);
  /// Restores the enclosing scope.
  ~Scope();
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  bool pushed_ = false;
};

}  // namespace convnet::trace
#pragma GCC visibility pop
