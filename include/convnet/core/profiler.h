#pragma once
// A per-op time profile: while enabled, every kernel call dispatched through the kernel
// registry (and a few library steps outside it, e.g. the optimizer update) adds its wall
// time to a row keyed by its name. `convnet bench --profile` prints the table.
// Disabled (the default) it costs one relaxed atomic load per kernel call.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace convnet::profiler {

struct Row {
  std::string name;
  int64_t calls = 0;
  double ms = 0;
};

extern std::atomic<bool> g_enabled;
inline bool enabled() {
  return g_enabled.load(std::memory_order_relaxed);
}
void enable(bool on);
void reset();
void add(const char* name, double ms);
std::vector<Row> rows();  // sorted by time, largest first

// Times its own lifetime under `name` when profiling is on.
class Scope {
 public:
  explicit Scope(const char* name) : name_(enabled() ? name : nullptr) {
    if (name_) t0_ = std::chrono::steady_clock::now();
  }
  ~Scope() {
    if (name_) add(name_, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0_).count());
  }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  const char* name_;
  std::chrono::steady_clock::time_point t0_;
};

}  // namespace convnet::profiler
