#include "convnet/autograd/trace.h"

#include "convnet/core/error.h"

namespace convnet::trace {

namespace {
thread_local Tracer* g_tracer = nullptr;
}

int64_t Attrs::i(const std::string& name) const {
  return v(name).at(0);
}
const std::vector<int64_t>& Attrs::v(const std::string& name) const {
  auto it = ints.find(name);
  CONVNET_CHECK(it != ints.end() && !it->second.empty(), "trace: op has no integer attribute '", name, "'");
  return it->second;
}
double Attrs::f(const std::string& name) const {
  auto it = floats.find(name);
  CONVNET_CHECK(it != floats.end(), "trace: op has no real attribute '", name, "'");
  return it->second;
}

bool active() {
  return g_tracer != nullptr;
}

void record(const char* type, std::vector<Tensor> inputs, const Tensor& out, Attrs attrs) {
  if (!g_tracer) return;
  TraceOp op;
  op.type = type;
  op.scope = g_tracer->scopes_.empty() ? "" : g_tracer->scopes_.back();
  op.inputs = std::move(inputs);
  op.output = out;
  op.attrs = std::move(attrs);
  g_tracer->ops_.push_back(std::move(op));
}

Tracer::Tracer() {
  CONVNET_CHECK(g_tracer == nullptr, "trace: a Tracer is already active on this thread");
  g_tracer = this;
}
Tracer::~Tracer() {
  g_tracer = nullptr;
}

Scope::Scope(const std::string& name) {
  if (!g_tracer) return;
  g_tracer->scopes_.push_back(name);
  pushed_ = true;
}
Scope::~Scope() {
  if (pushed_ && g_tracer) g_tracer->scopes_.pop_back();
}

}  // namespace convnet::trace
