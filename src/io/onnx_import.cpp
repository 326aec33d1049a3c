// ONNX import: parse the ModelProto, check the graph (every input produced, no cycle,
// every operator supported), fold Constant and Identity-of-initializer nodes, register
// the initializers as parameters and buffers, and compile the nodes in topological order
// into steps over numbered value slots. run() executes the steps with convnet ops.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <unordered_map>
#include <utility>

#include "convnet/core/error.h"
#include "io/onnx_internal.h"
#include "io/step_control.h"
#include "kernels/cpu/parallel.h"

namespace convnet::io {

using namespace onnx_impl;

namespace onnx_impl {
const BuilderTable& builders() {
  static const BuilderTable table = [] {
    BuilderTable t;
    add_nn_builders(t);
    add_tensor_builders(t);
    return t;
  }();
  return table;
}
}  // namespace onnx_impl

std::vector<std::string> onnx_supported_ops() {
  std::vector<std::string> out;
  for (const auto& [name, b] : builders()) out.push_back(name);
  return out;  // std::map keeps them sorted
}

namespace {

// The opsets whose operator definitions the builders follow (libonnx 1.12 knows up to
// 17); builders read the older forms of the attributes that changed (Softmax's 2-D
// coercion before 13, Clip/Pad/Unsqueeze bounds as attributes, legacy broadcast, ...).
constexpr int64_t kMinOpset = 1, kMaxOpset = 17;

// "node 'name'", or for an unnamed node its position and first output.
std::string node_name(const onnx::NodeProto& n, int index) {
  if (!n.name().empty()) return "node '" + n.name() + "'";
  return "node #" + std::to_string(index) + (n.output_size() ? " (output '" + n.output(0) + "')" : "");
}
// "node 'name' (Op)"
std::string node_label(const onnx::NodeProto& n, int index) {
  return node_name(n, index) + " (" + n.op_type() + ")";
}

OnnxTensorInfo tensor_info(const onnx::ValueInfoProto& v) {
  OnnxTensorInfo info;
  info.name = v.name();
  if (!v.has_type() || !v.type().has_tensor_type()) return info;
  const auto& tt = v.type().tensor_type();
  info.elem_type = elem_type_name(tt.elem_type());
  if (tt.has_shape()) {
    info.known_rank = true;
    for (const auto& d : tt.shape().dim()) info.dims.push_back(d.has_dim_value() ? d.dim_value() : -1);
  }
  return info;
}

std::string info_str(const OnnxTensorInfo& t) {
  std::string dims = "(";
  for (size_t i = 0; i < t.dims.size(); ++i)
    dims += (i ? ", " : "") + (t.dims[i] < 0 ? "?" : std::to_string(t.dims[i]));
  return "'" + t.name + "' " + (t.elem_type.empty() ? "" : t.elem_type + " ") + (t.known_rank ? dims + ")" : "");
}

// How an initializer is used, which decides whether it is trained: the weights and biases
// of Conv, Gemm and MatMul and BatchNormalization's scale and bias are; its running mean
// and variance are buffers; anything else (a constant operand of Mul, say) is frozen.
enum class Role { Unused, Buffer, Frozen, Trainable };

Role role_of(const std::string& op, int input) {
  if (op == "Conv") return input >= 1 ? Role::Trainable : Role::Frozen;
  if (op == "Gemm" || op == "MatMul") return Role::Trainable;
  if (op == "BatchNormalization")
    return input == 1 || input == 2 ? Role::Trainable : input >= 3 ? Role::Buffer : Role::Frozen;
  return Role::Frozen;
}

}  // namespace

std::shared_ptr<OnnxModel> OnnxModel::load(const std::string& path) {
  std::error_code ec;
  CONVNET_CHECK(std::filesystem::exists(path, ec), "ONNX model '", path, "': cannot open the file (no such file)");
  CONVNET_CHECK(std::filesystem::is_regular_file(path, ec), "ONNX model '", path,
                "': not a regular file (a directory, FIFO or device)");
  std::ifstream f(path, std::ios::binary);
  CONVNET_CHECK(f, "ONNX model '", path, "': cannot open the file");
  std::stringstream ss;
  ss << f.rdbuf();
  return load_from_bytes(ss.str(), path);
}

std::shared_ptr<OnnxModel> OnnxModel::load_from_bytes(const std::string& bytes, const std::string& source) {
  const std::string where = "ONNX model '" + source + "'";
  CONVNET_CHECK(bytes.size() < static_cast<size_t>(std::numeric_limits<int>::max()), where, ": ", bytes.size(),
                " bytes is more than protobuf reads (2 GiB); store the weights as external data");
  onnx::ModelProto model;
  CONVNET_CHECK(model.ParseFromString(bytes), where,
                ": not an ONNX model (the file is not a serialized ONNX ModelProto: protobuf parsing failed)");
  CONVNET_CHECK(model.has_graph() && model.graph().node_size() > 0, where,
                ": not an ONNX model (it parses as protobuf but has no graph nodes)");
  const onnx::GraphProto& g = model.graph();
  // As onnx.checker: an IR version this reader knows (3: ONNX 1.0 ... 11: ONNX 1.18).
  CONVNET_CHECK(model.ir_version() >= 3 && model.ir_version() <= 11, where, ": ir_version ", model.ir_version(),
                " is not one of ONNX's (3 to 11)");
  for (int i = 0; i < g.node_size(); ++i) {
    std::set<std::string> attrs;
    for (const auto& a : g.node(i).attribute())
      CONVNET_CHECK(attrs.insert(a.name()).second, where, ": ", node_label(g.node(i), i), " has the attribute '",
                    a.name(), "' twice");
  }

  int64_t opset = -1;
  for (const auto& o : model.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx") opset = o.version();
  CONVNET_CHECK(opset >= 0, where, ": the model imports no ai.onnx opset");
  CONVNET_CHECK(opset >= kMinOpset && opset <= kMaxOpset, where, ": opset ", opset, " is not supported (opsets ",
                kMinOpset, " to ", kMaxOpset, " are; re-export with opset_version 13 to 17)");

  // ---- names: initializers, graph inputs, node outputs --------------------------------
  std::map<std::string, const onnx::TensorProto*> inits;
  for (const auto& t : g.initializer()) {
    CONVNET_CHECK(!inits.count(t.name()), where, ": initializer '", t.name(), "' is defined twice");
    inits[t.name()] = &t;
  }
  std::vector<OnnxTensorInfo> inputs, outputs;
  std::set<std::string> input_names;
  for (int k = 0; k < g.input_size(); ++k)
    CONVNET_CHECK(!g.input(k).name().empty(), where, ": graph input #", k, " has no name");
  for (int k = 0; k < g.output_size(); ++k)
    CONVNET_CHECK(!g.output(k).name().empty(), where, ": graph output #", k, " has no name");
  for (const auto& t : g.initializer()) CONVNET_CHECK(!t.name().empty(), where, ": an initializer has no name");
  for (const auto& in : g.input()) {
    if (inits.count(in.name())) continue;  // IR < 4 lists the initializers among the inputs
    inputs.push_back(tensor_info(in));
    input_names.insert(in.name());
  }
  const int n_nodes = g.node_size();
  std::unordered_map<std::string, int> producer;
  for (int i = 0; i < n_nodes; ++i)
    for (const auto& o : g.node(i).output()) {
      if (o.empty()) continue;  // an omitted optional output
      CONVNET_CHECK(!producer.count(o) && !inits.count(o) && !input_names.count(o), where, ": value '", o,
                    "' is defined twice (again as an output of ", node_label(g.node(i), i), ")");
      producer[o] = i;
    }
  auto known = [&](const std::string& name) {
    return producer.count(name) || inits.count(name) || input_names.count(name);
  };

  // ---- every input produced by something ------------------------------------------------
  std::vector<std::string> dangling;
  std::set<std::string> used;  // names some node or the graph's outputs read
  for (int i = 0; i < n_nodes; ++i)
    for (int k = 0; k < g.node(i).input_size(); ++k) {
      const std::string& name = g.node(i).input(k);
      if (name.empty()) continue;
      used.insert(name);
      if (!known(name))
        dangling.push_back(node_label(g.node(i), i) + " input " + std::to_string(k) + " '" + name + "'");
    }
  if (!dangling.empty()) {
    std::string list;
    for (size_t i = 0; i < dangling.size() && i < 20; ++i) list += (i ? "; " : "") + dangling[i];
    if (dangling.size() > 20) list += "; ... (" + std::to_string(dangling.size() - 20) + " more)";
    throw Error(where + ": " + std::to_string(dangling.size()) +
                " node input(s) are produced by no node and are neither graph inputs nor initializers "
                "(a missing initializer or a dangling input): " +
                list);
  }
  for (const auto& o : g.output()) {
    CONVNET_CHECK(known(o.name()), where, ": graph output '", o.name(), "' is produced by no node");
    outputs.push_back(tensor_info(o));
    used.insert(o.name());
  }
  CONVNET_CHECK(!outputs.empty(), where, ": the graph has no outputs");

  // ---- topological order (Kahn's algorithm; ties keep the file's order) -----------------
  std::vector<int> indegree(n_nodes, 0), order;
  std::vector<std::vector<int>> users(n_nodes);
  for (int i = 0; i < n_nodes; ++i)
    for (const auto& name : g.node(i).input()) {
      auto it = name.empty() ? producer.end() : producer.find(name);
      if (it == producer.end()) continue;
      users[it->second].push_back(i);
      ++indegree[i];
    }
  std::set<int> ready;
  for (int i = 0; i < n_nodes; ++i)
    if (indegree[i] == 0) ready.insert(i);
  while (!ready.empty()) {
    const int i = *ready.begin();
    ready.erase(ready.begin());
    order.push_back(i);
    for (int u : users[i])
      if (--indegree[u] == 0) ready.insert(u);
  }
  if (static_cast<int>(order.size()) < n_nodes) {
    // The nodes left wait on a cycle; those downstream of it (no remaining user) are
    // trimmed away repeatedly so the message names the cycle itself.
    std::vector<bool> left(n_nodes, false);
    for (int i = 0; i < n_nodes; ++i) left[i] = indegree[i] > 0;
    for (bool trimmed = true; trimmed;) {
      trimmed = false;
      for (int i = 0; i < n_nodes; ++i)
        if (left[i] && std::none_of(users[i].begin(), users[i].end(), [&](int u) { return left[u]; })) {
          left[i] = false;
          trimmed = true;
        }
    }
    std::string list;
    int shown = 0;
    for (int i = 0; i < n_nodes; ++i)
      if (left[i] && shown++ < 10) list += (shown > 1 ? ", " : "") + node_label(g.node(i), i);
    throw Error(where + ": the graph has a cycle: " + std::to_string(shown) +
                " node(s) depend on their own outputs: " + list + (shown > 10 ? ", ..." : ""));
  }

  // ---- values known at load time -------------------------------------------------------
  const std::string base_dir = std::filesystem::path(source).parent_path().string();
  std::map<std::string, OnnxValue> params;  // float initializers (and copies made for Identity)
  std::map<std::string, OnnxValue> consts;  // integer initializers and Constant nodes
  for (const auto& [name, t] : inits) {
    OnnxValue v = value_from_proto(*t, where + ": initializer '" + name + "'", base_dir);
    (v.is_int ? consts : params)[name] = std::move(v);
  }
  // What is unsupported, grouped by operator (and reason): a graph with 30 Erf nodes gets one
  // line for Erf with the count and the first node names.
  struct Group {
    std::string what;  // "Erf", "com.microsoft.Gelu (only the ai.onnx domain is supported)", "Conv (reason)"
    std::vector<std::string> nodes;
  };
  std::vector<Group> unsupported;
  int n_unsupported = 0;
  auto unsupported_node = [&](const std::string& what, const std::string& node) {
    ++n_unsupported;
    for (auto& g : unsupported)
      if (g.what == what) return g.nodes.push_back(node);
    unsupported.push_back({what, {node}});
  };
  std::vector<std::pair<int, Kernel>> compiled;
  for (int i : order) {
    const onnx::NodeProto& n = g.node(i);
    const std::string label = node_label(n, i);
    std::vector<bool> outputs_used;
    for (const auto& o : n.output()) outputs_used.push_back(!o.empty() && used.count(o));
    const NodeView view(n, opset, label, outputs_used);
    if (!n.domain().empty() && n.domain() != "ai.onnx") {
      unsupported_node(n.domain() + "." + n.op_type() + " (only the ai.onnx domain is supported)", node_name(n, i));
      continue;
    }
    try {
      if (n.op_type() == "Constant" && n.output_size() == 1) {
        consts[n.output(0)] = constant_value(view, base_dir);
        continue;
      }
      if (n.op_type() == "Identity" && n.input_size() == 1 && n.output_size() == 1) {
        // Exporters share equal initializers through Identity nodes; a copy keeps the
        // parameters independent when fine-tuned, under the name the node gives them.
        if (auto p = params.find(n.input(0)); p != params.end()) {
          params[n.output(0)] = OnnxValue::of(p->second.tensor.clone());
          continue;
        }
        if (auto c = consts.find(n.input(0)); c != consts.end()) {
          consts[n.output(0)] = c->second;
          continue;
        }
      }
      auto b = builders().find(n.op_type());
      if (b == builders().end()) {
        unsupported_node(n.op_type(), node_name(n, i));
        continue;
      }
      compiled.emplace_back(i, b->second(view));
    } catch (const Unsupported& u) {
      unsupported_node(n.op_type() + " (" + u.reason + ")", node_name(n, i));
    } catch (const Error& e) {
      throw Error(where + ": " + e.what());
    }
  }
  if (!unsupported.empty()) {
    std::string list, ops;
    for (const auto& g : unsupported) {
      list += "\n  " + g.what + ": " + std::to_string(g.nodes.size()) + (g.nodes.size() == 1 ? " node, " : " nodes, ");
      for (size_t k = 0; k < g.nodes.size() && k < 3; ++k) list += (k ? ", " : "") + g.nodes[k];
      if (g.nodes.size() > 3) list += ", ...";
    }
    for (const auto& op : onnx_supported_ops()) ops += (ops.empty() ? "" : " ") + op;
    throw Error(where + ": " + std::to_string(n_unsupported) + " node(s) use " + std::to_string(unsupported.size()) +
                " unsupported operator(s):" + list + "\nSupported operators: " + ops);
  }

  // ---- parameters and buffers, in the order the graph first uses them --------------------
  auto m = std::shared_ptr<OnnxModel>(new OnnxModel());
  std::vector<std::string> first_use;
  std::map<std::string, Role> roles;
  auto use = [&](const std::string& name, Role r) {
    if (!params.count(name)) return;
    if (!roles.count(name)) {
      first_use.push_back(name);
      roles[name] = Role::Unused;
    }
    roles[name] = std::max(roles[name], r);
  };
  for (const auto& [i, k] : compiled)
    for (int j = 0; j < g.node(i).input_size(); ++j) use(g.node(i).input(j), role_of(g.node(i).op_type(), j));
  for (const auto& o : outputs) use(o.name, Role::Frozen);
  for (const auto& name : first_use) {
    Tensor& t = params[name].tensor;
    if (roles[name] == Role::Buffer)
      t = m->register_buffer(name, t);
    else
      t = m->register_parameter(name, t, roles[name] == Role::Trainable);
  }

  // ---- steps over value slots -------------------------------------------------------------
  auto G = std::make_shared<Graph>();
  G->source = source;
  G->opset = opset;
  G->inputs = inputs;
  G->outputs = outputs;
  std::unordered_map<std::string, int> slot_of;
  auto slot = [&](const std::string& name) {
    if (name.empty()) return -1;
    auto [it, added] = slot_of.try_emplace(name, static_cast<int>(slot_of.size()));
    if (added) G->fixed.emplace_back();
    return it->second;
  };
  for (const auto& in : inputs) G->input_slots.push_back(slot(in.name));
  for (auto& [name, v] : params)
    if (roles.count(name)) G->fixed[slot(name)] = v;
  for (auto& [name, v] : consts) G->fixed[slot(name)] = v;
  for (auto& [i, kernel] : compiled) {
    const onnx::NodeProto& n = g.node(i);
    Graph::Step s;
    s.label = node_label(n, i);
    s.name = n.name();
    s.op_type = n.op_type();
    if (s.op_type == "Gemm") s.gemm_trans_b = NodeView(n, opset, s.label, {}).get_int("transB", 0) != 0;
    for (const auto& name : n.input()) s.in.push_back(slot(name));
    for (const auto& name : n.output()) s.out.push_back(slot(name));
    s.fn = std::move(kernel);
    s.node = n;
    G->steps.push_back(std::move(s));
  }
  for (const auto& o : outputs) G->output_slots.push_back(slot(o.name));
  G->compute_releases();
  m->graph_ = std::move(G);
  return m;
}

// Free every intermediate value after its last reader, so inference holds only the live
// feature maps (autograd keeps what backward needs on its own).
void OnnxModel::Graph::compute_releases() {
  std::vector<int> last(fixed.size(), -1);
  for (size_t k = 0; k < steps.size(); ++k) {
    steps[k].release.clear();
    for (int s : steps[k].in)
      if (s >= 0) last[s] = static_cast<int>(k);
    for (int s : steps[k].out)
      if (s >= 0 && last[s] < static_cast<int>(k)) last[s] = static_cast<int>(k);
  }
  for (int s : output_slots) last[s] = -1;
  for (size_t s = 0; s < last.size(); ++s)
    if (last[s] >= 0 && !fixed[s].defined()) steps[last[s]].release.push_back(static_cast<int>(s));
  // A fused Conv may take its residual when it is the residual's last reader and reads it once.
  for (auto& st : steps) {
    const int r = st.fuse ? st.fuse->residual_input : -1;
    st.take_residual = r >= 0 && r < static_cast<int>(st.in.size()) && st.in[r] >= 0 &&
                       std::count(st.in.begin(), st.in.end(), st.in[r]) == 1 &&
                       std::find(st.release.begin(), st.release.end(), st.in[r]) != st.release.end();
  }
}

// ---- running ---------------------------------------------------------------------------

StepControl*& step_control() {
  thread_local StepControl* control = nullptr;
  return control;
}

void OnnxModel::Graph::execute(std::vector<OnnxValue>& values, bool training, bool release_values) const {
  const RunCtx ctx{training}, eval_ctx{false};
  Inputs args;
  // The caller's step control (io/step_control.h), taken for these steps only.
  StepControl* const control = std::exchange(step_control(), nullptr);
  struct Restore {
    StepControl* c;
    ~Restore() { step_control() = c; }
  } restore{control};
  const std::vector<int8_t>* plan = control ? control->threads : nullptr;
  std::vector<double>* seconds = control ? control->seconds : nullptr;
  if (seconds) seconds->assign(steps.size(), 0.0);
  for (size_t i = 0; i < steps.size(); ++i) {
    const Step& s = steps[i];
    const kernels::cpu::ThreadLimit limit(plan && i < plan->size() && (*plan)[i] == 1 ? 1 : omp_get_max_threads());
    const auto t0 = seconds ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    args.clear();
    // A slot left empty in `values` that holds an initializer or a constant reads it from
    // `fixed` (run() does not copy them into every call's values).
    for (int k : s.in)
      args.push_back(k < 0 ? nullptr : !values[k].defined() && fixed[k].defined() ? &fixed[k] : &values[k]);
    std::vector<OnnxValue> outs;
    try {
      if (s.fuse) {
        // A residual this step reads last is handed to the kernel, which may compute the
        // output in its buffer.
        RunCtx fctx{false, s.fuse.get()};
        OnnxValue owned;
        if (s.take_residual && release_values &&
            args[s.fuse->residual_input] == &values[s.in[s.fuse->residual_input]]) {
          const int r = s.fuse->residual_input;
          owned = std::move(values[s.in[r]]);
          args[r] = &owned;
          fctx.residual_owned = true;
        }
        outs = s.fn(args, fctx);
      } else {
        outs = s.fn(args, s.force_eval ? eval_ctx : ctx);
      }
    } catch (const Error& e) {
      throw Error("ONNX model '" + source + "', " + s.label + ": " + e.what());
    }
    for (size_t k = 0; k < s.out.size() && k < outs.size(); ++k)
      if (s.out[k] >= 0) values[s.out[k]] = std::move(outs[k]);
    if (release_values)
      for (int r : s.release) values[r] = OnnxValue();
    if (seconds) (*seconds)[i] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
}

namespace {
void check_input(const OnnxTensorInfo& info, const OnnxValue& v, const std::string& source) {
  const std::string where = "ONNX model '" + source + "': input '" + info.name + "'";
  CONVNET_CHECK(v.defined(), where, " is undefined");
  const bool want_float = info.elem_type.empty() || info.elem_type == "float" || info.elem_type == "double";
  CONVNET_CHECK(want_float != v.is_int, where, " must be ", info.elem_type, " data, got ", v.describe());
  if (!info.known_rank) return;
  const Shape& s = v.shape();
  CONVNET_CHECK(s.size() == info.dims.size(), where, " of shape ", shape_str(s), " has rank ", s.size(),
                ", but the graph declares rank ", info.dims.size(), ": ", info_str(info));
  // The batch dimension is free (torch.onnx.export fixes it to the example's batch size,
  // and the graph usually works for any); the others must match where declared.
  for (size_t k = 1; k < s.size(); ++k)
    CONVNET_CHECK(info.dims[k] < 0 || info.dims[k] == s[k], where, " of shape ", shape_str(s),
                  " does not match the declared ", info_str(info), " in dimension ", k);
}
}  // namespace

std::vector<OnnxValue> OnnxModel::run(const std::vector<OnnxValue>& in) {
  const Graph& G = *graph_;
  if (in.size() != G.inputs.size()) {
    std::string names;
    for (const auto& i : G.inputs) names += (names.empty() ? "" : ", ") + info_str(i);
    throw Error("ONNX model '" + G.source + "': expected " + std::to_string(G.inputs.size()) + " input(s) (" + names +
                "), got " + std::to_string(in.size()));
  }
  std::vector<OnnxValue> values(G.fixed.size());  // the fixed values are read from G.fixed
  for (size_t i = 0; i < in.size(); ++i) {
    check_input(G.inputs[i], in[i], G.source);
    values[G.input_slots[i]] = in[i];
  }
  CONVNET_CHECK(!(G.inference_only && is_training()), "ONNX model '", G.source,
                "' was optimized for inference (BatchNorm folded, activations fused) and runs in eval mode only");
  G.execute(values, is_training(), true);
  std::vector<OnnxValue> out;
  for (size_t i = 0; i < G.output_slots.size(); ++i) {
    const int slot = G.output_slots[i];
    const OnnxValue& v = values[slot].defined() ? values[slot] : G.fixed[slot];
    CONVNET_CHECK(v.defined(), "ONNX model '", G.source, "': output '", G.outputs[i].name, "' was not computed");
    out.push_back(v);
  }
  return out;
}

Tensor OnnxModel::forward(const Tensor& x) {
  const Graph& G = *graph_;
  CONVNET_CHECK(G.inputs.size() == 1, "ONNX model '", G.source,
                "': forward(x) needs a graph with one input, this one has ", G.inputs.size(),
                "; use run() with all of them");
  auto out = run({OnnxValue::of(x)});
  CONVNET_CHECK(!out[0].is_int, "ONNX model '", G.source, "': output '", G.outputs[0].name,
                "' is integer data; use run()");
  return out[0].tensor;
}

std::string OnnxModel::extra_repr() const {
  const Graph& G = *graph_;
  std::string s =
      "'" + G.source + "', opset " + std::to_string(G.opset) + ", " + std::to_string(G.steps.size()) + " nodes, input";
  for (size_t i = 0; i < G.inputs.size(); ++i) s += (i ? ", " : " ") + info_str(G.inputs[i]);
  return s;
}

const std::vector<OnnxTensorInfo>& OnnxModel::inputs() const {
  return graph_->inputs;
}
const std::vector<OnnxTensorInfo>& OnnxModel::outputs() const {
  return graph_->outputs;
}
int64_t OnnxModel::opset() const {
  return graph_->opset;
}
const std::string& OnnxModel::source() const {
  return graph_->source;
}
int64_t OnnxModel::num_nodes() const {
  return static_cast<int64_t>(graph_->steps.size());
}

}  // namespace convnet::io
