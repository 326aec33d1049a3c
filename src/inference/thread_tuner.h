#pragma once
// The thread tuning of InferenceSession::run (SessionOptions::tune_threads): which calls run
// on one thread, on all, or with each step's own choice, and what is kept. Its own header so
// that the tests can drive it with made-up timings.
#include <algorithm>
#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

namespace convnet::inference_impl {

// SessionOptions::tune_threads, per batch size:
//   - calls 0-1 run on all threads (the first builds the primitives and packs the weights); a
//     call 1 over kLarge seconds keeps all threads, untimed;
//   - calls 2-3 on one thread (its primitives);
//   - then kRounds calls on each, alternating, every call and every step of it timed. Each
//     step gets the thread count with the lower median time, and the whole graph the one
//     with the lower median call (one thread only when at least 5% faster);
//   - where the steps' choices differ from the whole graph's, kRounds calls each, alternating,
//     time the per-step plan against the whole-graph choice, and the faster by its median is
//     kept.
// Medians, as a shared machine's noise makes single calls of either kind fast or slow.
struct ThreadTuner {
  static constexpr int kRounds = 8;
  static constexpr double kLarge = 5e-3;
  static constexpr int kFirstTimed = 4, kPlanCalls = kFirstTimed + 2 * kRounds;
  enum Mode : int { kTiming = 0, kOne = 1, kAll = -1, kSteps = 2 };
  struct Entry {
    int calls = 0;
    int choice = kTiming;
    std::vector<double> one, all;                         // whole calls, seconds
    std::vector<std::vector<double>> step_one, step_all;  // [step][call], seconds
    std::vector<int8_t> plan;                             // per step: 1 one thread, 0 all
    int versus = kTiming;                                 // the whole-graph choice the plan is timed against
    std::vector<double> planned, uniform;                 // those timings
  };
  struct Next {
    int mode;                                   // kOne, kAll or kSteps
    int call;                                   // >= 0: timed (record() it)
    bool time_steps;                            // and each of its steps
    const std::vector<int8_t>* plan = nullptr;  // kSteps: the steps' threads
  };
  std::mutex mu;
  std::map<int64_t, Entry> by_batch;

  static double median(std::vector<double> v) {
    if (v.empty()) return 1e30;
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
    return v[v.size() / 2];
  }

  Next next(int64_t batch) {
    std::lock_guard<std::mutex> lock(mu);
    Entry& e = by_batch[batch];
    if (e.choice != kTiming) return {e.choice, -1, false, &e.plan};
    const int k = e.calls++;
    if (k < 2) return {kAll, k, false};
    if (k < kFirstTimed) return {kOne, -1, false};
    if (k < kPlanCalls) return {(k % 2 == 0) ? kOne : kAll, k, true};
    // (With calls from several threads, the rounds' timings may still be on their way.)
    if (e.versus == kTiming) return {kAll, -1, false};
    return {(k % 2 == 0) ? kSteps : e.versus, k, false, &e.plan};
  }

  void record(int64_t batch, const Next& n, double seconds, const std::vector<double>& steps) {
    std::lock_guard<std::mutex> lock(mu);
    Entry& e = by_batch[batch];
    if (e.choice != kTiming) return;
    if (n.call == 1 && seconds > kLarge) {
      e.choice = kAll;
      return;
    }
    if (n.call < kFirstTimed) return;
    if (n.call < kPlanCalls) {
      (n.mode == kOne ? e.one : e.all).push_back(seconds);
      auto& per_step = n.mode == kOne ? e.step_one : e.step_all;
      per_step.resize(std::max(per_step.size(), steps.size()));
      for (size_t i = 0; i < steps.size(); ++i) per_step[i].push_back(steps[i]);
      if (e.one.size() + e.all.size() == 2 * kRounds) plan(e);
      return;
    }
    if (e.versus == kTiming) return;
    (n.mode == kSteps ? e.planned : e.uniform).push_back(seconds);
    if (e.planned.size() + e.uniform.size() >= 2 * kRounds)
      e.choice = median(e.planned) < median(e.uniform) ? kSteps : e.versus;
  }

  // After the rounds: the whole graph's choice, and each step's.
  static void plan(Entry& e) {
    const int whole = median(e.one) < 0.95 * median(e.all) ? kOne : kAll;
    const size_t n = std::max(e.step_one.size(), e.step_all.size());
    e.step_one.resize(n), e.step_all.resize(n);
    e.plan.assign(n, 0);
    for (size_t i = 0; i < n; ++i) e.plan[i] = median(e.step_one[i]) < median(e.step_all[i]) ? 1 : 0;
    const bool same = std::all_of(e.plan.begin(), e.plan.end(), [&](int8_t t) { return t == (whole == kOne); });
    if (same) {
      e.choice = whole;
      return;
    }
    e.versus = whole;
  }

  int choice(int64_t batch) {
    std::lock_guard<std::mutex> lock(mu);
    const auto it = by_batch.find(batch);
    return it == by_batch.end() ? 0 : it->second.choice;
  }
};

}  // namespace convnet::inference_impl
