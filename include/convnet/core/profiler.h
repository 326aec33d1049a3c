#pragma once
#pragma GCC visibility push(default)
/// \file
/// A per-op time profile: while enabled, every kernel call dispatched through the kernel
/// registry (and a few library steps outside it, e.g. the optimizer update) adds its wall
/// time to a row keyed by its name. `convnet bench --profile` prints the table.
/// Disabled (the default) it costs one relaxed atomic load per kernel call.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace convnet::profiler {

/// One row of the profile: the total of every timed call of one name.
struct Row {
  std::string name;  ///< The kernel or step name ("conv2d", "autograd_accumulate" ...).
  int64_t calls = 0;  ///< How many calls were timed.
  double ms = 0;  ///< Their total wall time, in milliseconds.
};

/// Whether profiling is on; read it with enabled(), set it with enable().
extern std::atomic<bool> g_enabled;
/// Whether profiling is on (one relaxed atomic load).
inline bool enabled() {
  return g_enabled.load(std::memory_order_relaxed);
}
/// Turns profiling on or off for the whole process (all threads).
/// \post enabled() returns `on`; the rows recorded so far are kept (reset() clears them).
void enable(bool on);
/// Clears the table.
/// \post rows() is empty until the next add().
void reset();
/// Adds one call of `ms` milliseconds to the row `name` (creating it); thread-safe. Scope
/// calls it; code that times a step by hand may too. It records whether or not profiling
/// is enabled.
/// \pre  `name` is a null-terminated string (it is copied).
/// \post the row `name` has one more call and `ms` more milliseconds.
void add(const char* name, double ms);
/// A copy of the table: one Row per name.
/// \post sorted by total time, largest first.
std::vector<Row> rows();

/// Times its own lifetime under `name` when profiling is on (RAII, as a
/// torch.profiler.record_function block).
class Scope {
 public:
  /// Starts timing under `name` if enabled() now; otherwise the Scope does nothing.
  /// \pre  `name` stays valid until the Scope is destroyed (only the pointer is kept).
  /// \post when profiling was on at construction, the destructor add()s the elapsed wall
  ///       time (steady_clock, in milliseconds) under `name`.
  explicit Scope(const char* name) : name_(enabled() ? name : nullptr) {
    if (name_) t0_ = std::chrono::steady_clock::now();
  }
  /// Records the elapsed time under the name, if profiling was on at construction.
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
#pragma GCC visibility pop
