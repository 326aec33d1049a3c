#include "convnet/core/profiler.h"

#include <algorithm>
#include <map>
#include <mutex>

namespace convnet::profiler {

std::atomic<bool> g_enabled{false};

namespace {
std::mutex& mu() {
  static std::mutex m;
  return m;
}
std::map<std::string, Row>& table() {
  static auto* t = new std::map<std::string, Row>;
  return *t;
}
}  // namespace

void enable(bool on) {
  g_enabled.store(on, std::memory_order_relaxed);
}

void reset() {
  std::lock_guard<std::mutex> lock(mu());
  table().clear();
}

void add(const char* name, double ms) {
  std::lock_guard<std::mutex> lock(mu());
  Row& r = table()[name];
  if (r.name.empty()) r.name = name;
  ++r.calls;
  r.ms += ms;
}

std::vector<Row> rows() {
  std::vector<Row> out;
  {
    std::lock_guard<std::mutex> lock(mu());
    for (const auto& [k, r] : table()) out.push_back(r);
  }
  std::sort(out.begin(), out.end(), [](const Row& a, const Row& b) { return a.ms > b.ms; });
  return out;
}

}  // namespace convnet::profiler
