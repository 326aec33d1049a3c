#include "convnet/dist/data_parallel.h"

#include <chrono>
#include <cstring>

#include "convnet/core/error.h"
#include "convnet/core/profiler.h"
#include "kernels/elementwise.h"

namespace convnet::dist {

namespace {
using Clock = std::chrono::steady_clock;
double secs(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}
}  // namespace

struct GradientReducer::State {
  ProcessGroup* pg;
  std::vector<Tensor> params;
  std::vector<int64_t> hook_ids;
  // Bucket b holds params[members[b]] back to back, then one presence flag per member
  // (1 when this rank's backward reached it), all reduced together.
  struct Bucket {
    std::vector<size_t> members;
    std::vector<int64_t> offsets;
    std::vector<float> buf;
    int64_t values = 0, ready = 0;
    std::shared_ptr<Work> work;
    bool launched = false;
  };
  std::vector<Bucket> buckets;
  std::vector<std::pair<size_t, size_t>> where;  // param -> (bucket, member)
  std::vector<char> reached;                     // param reached by this backward
  size_t next_launch = 0;
  float weight = 1;
  bool armed = false;
  Clock::time_point first_launch;
  ReducerStats stats;

  void launch_ready() {
    while (next_launch < buckets.size()) {
      Bucket& b = buckets[next_launch];
      if (b.ready < static_cast<int64_t>(b.members.size())) return;
      if (next_launch == 0) first_launch = Clock::now();
      b.work = pg->allreduce_async(b.buf.data(), static_cast<int64_t>(b.buf.size()), ReduceOp::sum);
      b.launched = true;
      ++next_launch;
    }
  }

  void on_ready(size_t i) {
    if (!armed || reached[i]) return;
    reached[i] = 1;
    auto [bi, mi] = where[i];
    Bucket& b = buckets[bi];
    Tensor g = params[i].grad();
    const int64_t n = params[i].numel();
    float* dst = b.buf.data() + b.offsets[mi];
    kernels::keys::scale(n, weight, g.data(), dst);
    b.buf[static_cast<size_t>(b.values) + mi] = 1;  // presence
    ++b.ready;
    launch_ready();
  }
};

GradientReducer::GradientReducer(ProcessGroup& pg, std::vector<Tensor> params, ReducerOptions o)
    : s_(std::make_unique<State>()) {
  CONVNET_CHECK(o.bucket_mb > 0, "--bucket-mb must be positive, got ", o.bucket_mb);
  s_->pg = &pg;
  s_->params = std::move(params);
  const auto cap = static_cast<int64_t>(o.bucket_mb * 1e6 / sizeof(float));
  const size_t np = s_->params.size();
  s_->where.resize(np);
  s_->reached.assign(np, 0);
  for (size_t k = np; k-- > 0;) {  // reverse: the last layers' gradients come first
    const Tensor& p = s_->params[k];
    CONVNET_CHECK(
        p.defined() && p.requires_grad() && !p.grad_fn() && p.dtype() == DType::float32 && p.device().is_cpu(),
        "GradientReducer: parameter ", k, " is not a float32 CPU leaf that requires grad");
    if (s_->buckets.empty() || (s_->buckets.back().values > 0 && s_->buckets.back().values + p.numel() > cap))
      s_->buckets.emplace_back();
    State::Bucket& b = s_->buckets.back();
    s_->where[k] = {s_->buckets.size() - 1, b.members.size()};
    b.members.push_back(k);
    b.offsets.push_back(b.values);
    b.values += p.numel();
  }
  for (auto& b : s_->buckets) b.buf.assign(static_cast<size_t>(b.values) + b.members.size(), 0.f);
  for (size_t k = 0; k < np; ++k)
    s_->hook_ids.push_back(
        s_->params[k].register_post_accumulate_grad_hook([st = s_.get(), k](const Tensor&) { st->on_ready(k); }));
  s_->stats.buckets = static_cast<int64_t>(s_->buckets.size());
}

GradientReducer::~GradientReducer() {
  for (size_t k = 0; k < s_->params.size(); ++k) s_->params[k].remove_post_accumulate_grad_hook(s_->hook_ids[k]);
  for (auto& b : s_->buckets)
    if (b.work) try {
        b.work->wait();
      } catch (...) {
      }
}

void GradientReducer::prepare(double weight, bool sync) {
  CONVNET_CHECK(weight >= 0, "GradientReducer::prepare: negative weight ", weight);
  s_->weight = static_cast<float>(weight);
  if (weight > 0) set_grad_weight(weight);
  s_->armed = sync;
  s_->next_launch = 0;
  std::fill(s_->reached.begin(), s_->reached.end(), 0);
  for (auto& b : s_->buckets) {
    b.ready = 0, b.launched = false, b.work.reset();
    std::fill(b.buf.begin() + b.values, b.buf.end(), 0.f);
  }
}

void GradientReducer::finish() {
  State& s = *s_;
  if (!s.armed) return;
  profiler::Scope scope("allreduce_wait");
  const auto end_of_backward = Clock::now();
  int64_t during = 0;
  for (const auto& b : s.buckets) during += b.launched;
  if (during > 0) s.stats.first_launch_before_end += secs(end_of_backward - s.first_launch);
  s.stats.launched_during_backward += during;
  // Parameters that backward did not reach: zero gradient, absent.
  for (size_t k = 0; k < s.params.size(); ++k) {
    if (s.reached[k]) continue;
    auto [bi, mi] = s.where[k];
    State::Bucket& b = s.buckets[bi];
    std::memset(b.buf.data() + b.offsets[mi], 0, sizeof(float) * static_cast<size_t>(s.params[k].numel()));
    ++b.ready;
  }
  s.launch_ready();
  for (size_t bi = 0; bi < s.buckets.size(); ++bi) {
    State::Bucket& b = s.buckets[bi];
    b.work->wait();
    for (size_t mi = 0; mi < b.members.size(); ++mi) {
      Tensor p = s.params[b.members[mi]];
      if (b.buf[static_cast<size_t>(b.values) + mi] == 0) {  // no rank's backward reached it
        p.zero_grad();
        continue;
      }
      Tensor g = p.grad();
      if (!g.defined()) {
        g = Tensor::empty(p.shape());
        p.set_grad(g);
      }
      std::memcpy(g.data(), b.buf.data() + b.offsets[mi], sizeof(float) * static_cast<size_t>(p.numel()));
    }
  }
  s.stats.wait += secs(Clock::now() - end_of_backward);
  ++s.stats.steps;
  s.armed = false;
}

int64_t GradientReducer::num_buckets() const {
  return static_cast<int64_t>(s_->buckets.size());
}
const ReducerStats& GradientReducer::stats() const {
  return s_->stats;
}

void broadcast_module(ProcessGroup& pg, nn::Module& m, int root) {
  if (pg.size() == 1) return;
  for (auto& [name, t] : m.state_dict()) {
    Tensor x = t;
    pg.broadcast(x.raw_ptr(), x.numel() * dtype_size(x.dtype()), root);
  }
}

}  // namespace convnet::dist
