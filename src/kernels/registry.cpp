#include "kernels/registry.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>

#include "convnet/core/error.h"

namespace convnet::kernels {

namespace {
struct State {
  std::map<std::string, std::vector<Variant>> table;
  std::string forced;
};

State& state() {
  static State* s = [] {
    auto* st = new State;
    if (const char* env = std::getenv("CONVNET_BACKEND")) st->forced = env;
    return st;
  }();
  return *s;
}

void ensure_registered() {
  static std::once_flag once;
  std::call_once(once, [] {
    register_ref_conv2d();
    register_ref_gemm();
    register_ref_pool();
    register_ref_batch_norm();
    register_ref_activation();
    register_ref_softmax();
    register_ref_loss();
    register_ref_elementwise();
    register_ref_pad();
    register_ref_clamp();
    register_ref_strided();
    register_cpu_conv2d();
    register_cpu_gemm();
    register_cpu_activation();
    register_cpu_elementwise();
    register_cpu_batch_norm();
    register_cpu_pool();
    register_cpu_softmax();
    register_cpu_loss();
    register_onednn_conv2d();
  });
}
}  // namespace

void add_variant(const std::string& op, const std::string& backend, int priority, AnyFn fn) {
  auto& v = state().table[op];
  v.push_back({backend, priority, fn});
  std::stable_sort(v.begin(), v.end(), [](const Variant& a, const Variant& b) { return a.priority > b.priority; });
}

namespace {
// The variant find_variant(op) picks, or null.
const Variant* select(const std::string& op) {
  ensure_registered();
  auto it = state().table.find(op);
  if (it == state().table.end() || it->second.empty()) return nullptr;
  const std::string& forced = state().forced;
  if (!forced.empty()) {
    for (const auto& v : it->second)
      if (v.backend == forced) return &v;
    for (const auto& v : it->second)
      if (v.backend == "ref") return &v;
  }
  return &it->second.front();
}
}  // namespace

AnyFn find_variant(const std::string& op) {
  const Variant* v = select(op);
  CONVNET_CHECK(v != nullptr, "kernel registry: no kernel for op '", op, "'");
  return v->fn;
}

std::string selected_backend(const std::string& op) {
  const Variant* v = select(op);
  return v ? v->backend : std::string();
}

std::vector<Variant> variants(const std::string& op) {
  ensure_registered();
  auto it = state().table.find(op);
  return it == state().table.end() ? std::vector<Variant>{} : it->second;
}

std::vector<std::string> registered_ops() {
  ensure_registered();
  std::vector<std::string> ops;
  for (const auto& [op, v] : state().table)
    if (!v.empty()) ops.push_back(op);
  return ops;
}

void force_backend(const std::string& backend) { state().forced = backend; }
std::string forced_backend() { return state().forced; }

}  // namespace convnet::kernels
