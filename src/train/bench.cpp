#include "convnet/train/bench.h"

#include <sys/resource.h>

#include <chrono>
#include <cstdio>

#include "convnet/autograd/autograd.h"
#include "convnet/core/error.h"
#include "convnet/core/rng.h"
#include "convnet/core/threads.h"
#include "convnet/models/registry.h"
#include "convnet/nn/fuse.h"
#include "convnet/ops/autocast.h"
#include "convnet/ops/loss.h"
#include "convnet/optim/sgd.h"

namespace convnet::train {

BenchResult benchmark(const BenchConfig& c) {
  CONVNET_CHECK(c.mode == "train" || c.mode == "infer", "bench: mode must be train or infer, got '", c.mode, "'");
  CONVNET_CHECK(c.batch >= 1, "bench: batch must be at least 1, got ", c.batch);
  const DType compute = parse_precision(c.precision);
  if (c.threads > 0) set_num_threads(c.threads);
  manual_seed(0);
  models::ModelArgs a;
  const bool mnist_like = c.model.rfind("lenet", 0) == 0;
  a.in_channels = c.in_channels > 0 ? c.in_channels : (mnist_like ? 1 : 3);
  a.input_size = c.input_size > 0 ? c.input_size : (mnist_like ? 28 : 32);
  auto model = models::create(c.model, a);
  Generator gen(0);
  Tensor x = Tensor::randn({c.batch, a.in_channels, a.input_size, a.input_size}, gen);
  // Inference runs the network as a deployment would: BatchNorm folded into the
  // convolutions before it (nn/fuse.h); --no-fold measures the unfolded network.
  if (c.mode == "infer" && c.fold_batch_norm) nn::fold_batch_norms(*model, x.shape());
  std::vector<int64_t> y(c.batch);
  for (auto& v : y) v = static_cast<int64_t>(gen.randint(a.num_classes));
  optim::SGDOptions o;
  o.lr = 0.01, o.momentum = 0.9, o.weight_decay = 5e-4;
  optim::SGD opt(model->parameters(), o);
  auto step = [&] {
    if (c.mode == "train") {
      model->train();
      opt.zero_grad();
      Tensor loss;
      {
        autocast ac(compute);
        loss = ops::cross_entropy((*model)(x), y);
      }
      loss.backward();
      opt.step();
    } else {
      model->eval();
      NoGradGuard g;
      autocast ac(compute);
      (*model)(x);
    }
  };
  for (int i = 0; i < 3; ++i) step();
  if (c.profile) {
    profiler::reset();
    profiler::enable(true);
  }
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  int64_t n = 0;
  double elapsed = 0;
  while (elapsed < c.seconds) {
    step();
    ++n;
    elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  }
  profiler::enable(false);
  BenchResult r;
  r.images_per_s = static_cast<double>(n * c.batch) / elapsed;
  r.steps = n;
  r.threads = get_num_threads();
  r.input_size = a.input_size;
  r.step_ms = elapsed * 1e3 / static_cast<double>(n);
  if (c.profile) r.profile = profiler::rows();
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  r.peak_rss_mb = static_cast<double>(ru.ru_maxrss) / 1024.0;  // Linux reports KiB
  return r;
}

std::string format_profile(const BenchResult& r) {
  std::string out;
  char line[256];
  const double steps = static_cast<double>(r.steps > 0 ? r.steps : 1);
  std::snprintf(line, sizeof line, "%-28s %10s %12s %8s\n", "op", "calls/step", "ms/step", "%step");
  out += line;
  double tracked = 0;
  for (const auto& row : r.profile) {
    const double ms = row.ms / steps;
    tracked += ms;
    std::snprintf(line, sizeof line, "%-28s %10.1f %12.3f %7.1f%%\n", row.name.c_str(),
                  static_cast<double>(row.calls) / steps, ms, 100.0 * ms / r.step_ms);
    out += line;
  }
  const double other = r.step_ms - tracked;
  std::snprintf(line, sizeof line, "%-28s %10s %12.3f %7.1f%%\n", "(other)", "", other, 100.0 * other / r.step_ms);
  out += line;
  std::snprintf(line, sizeof line, "%-28s %10s %12.3f %7.1f%%\n", "(step)", "", r.step_ms, 100.0);
  out += line;
  return out;
}

}  // namespace convnet::train
