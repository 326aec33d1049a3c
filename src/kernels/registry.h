#pragma once
// Kernel registry: every kernel is registered under an op key ("conv2d_fwd") by a
// backend ("ref", "cpu", ...) with a priority. Ops ask for the key and get the
// highest-priority variant, unless a backend is forced: CONVNET_BACKEND=ref in the
// environment, or force_backend() from code (tests). The reference backend registers
// every key, so forcing "ref" always works; a forced backend that lacks a key falls
// back to "ref".
#include <string>
#include <utility>
#include <vector>

#include "convnet/core/profiler.h"

namespace convnet::kernels {

using AnyFn = void (*)();

struct Variant {
  std::string backend;
  int priority;
  AnyFn fn;
};

void add_variant(const std::string& op, const std::string& backend, int priority, AnyFn fn);
AnyFn find_variant(const std::string& op);  // throws if the op has no kernel
std::vector<Variant> variants(const std::string& op);
// Every op key that has at least one kernel, sorted (for the tests that check coverage).
std::vector<std::string> registered_ops();
// The backend of the kernel find_variant(op) returns ("" when there is none).
std::string selected_backend(const std::string& op);
void force_backend(const std::string& backend);  // "" = automatic
std::string forced_backend();

template <class Fn>
void add(const std::string& op, const std::string& backend, int priority, Fn* fn) {
  add_variant(op, backend, priority, reinterpret_cast<AnyFn>(fn));
}
template <class Fn>
Fn* get(const std::string& op) {
  return reinterpret_cast<Fn*>(find_variant(op));
}
// get<Fn>(op)(args...), timed under `op` when the profiler is on (convnet bench --profile).
template <class Fn, class... Args>
void call(const std::string& op, Args&&... args) {
  Fn* fn = get<Fn>(op);
  if (!profiler::enabled()) {
    fn(std::forward<Args>(args)...);
    return;
  }
  profiler::Scope scope(op.c_str());
  fn(std::forward<Args>(args)...);
}
template <class Fn>
Fn* cast(const Variant& v) {
  return reinterpret_cast<Fn*>(v.fn);
}

// One registration function per kernel family and backend; registry.cpp calls them all
// on first use (explicit calls, because a static library drops unreferenced objects).
void register_ref_conv2d();
void register_ref_gemm();
void register_ref_pool();
void register_ref_batch_norm();
void register_ref_activation();
void register_ref_softmax();
void register_ref_loss();
void register_ref_elementwise();
void register_ref_pad();
void register_ref_clamp();
void register_ref_strided();
void register_cpu_conv2d();
void register_cpu_gemm();
void register_cpu_activation();
void register_cpu_elementwise();
void register_cpu_batch_norm();
void register_cpu_pool();
void register_cpu_softmax();
void register_cpu_loss();
void register_onednn_conv2d();

}  // namespace convnet::kernels
