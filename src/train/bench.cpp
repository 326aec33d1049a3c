#include "convnet/train/bench.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>

#include "convnet/autograd/autograd.h"
#include "convnet/core/error.h"
#include "convnet/core/rng.h"
#include "convnet/core/storage.h"
#include "convnet/core/threads.h"
#include "convnet/inference/session.h"
#include "convnet/models/registry.h"
#include "convnet/nn/fuse.h"
#include "convnet/ops/autocast.h"
#include "convnet/ops/loss.h"
#include "convnet/optim/sgd.h"

namespace convnet::train {

namespace {
BenchResult run_benchmark(const BenchConfig& c);
}

BenchResult benchmark(const BenchConfig& c) {
  try {
    return run_benchmark(c);
  } catch (const Error& e) {
    // The GPU allocator names the bytes; the user needs the model and batch that asked.
    const std::string m = e.what();
    if (m.find("out of GPU memory") == std::string::npos) throw;
    throw Error("bench " + (c.onnx.empty() ? c.model : c.onnx) + " at batch " + std::to_string(c.batch) + ": " + m +
                "; try a smaller --batch");
  }
}

namespace {
BenchResult run_benchmark(const BenchConfig& c) {
  CONVNET_CHECK(c.mode == "train" || c.mode == "infer", "bench: mode must be train or infer, got '", c.mode, "'");
  CONVNET_CHECK(c.engine == "session" || c.engine == "eager", "bench: engine must be session or eager, got '", c.engine,
                "'");
  CONVNET_CHECK(c.batch >= 1, "bench: batch must be at least 1, got ", c.batch);
  CONVNET_CHECK(c.onnx.empty() || (c.mode == "infer" && c.engine == "session"),
                "bench: an ONNX file is timed in infer mode with the session engine");
  const DType compute = parse_precision(c.precision);
  const Device dev = parse_device(c.device);  // names the devices that exist
  const bool gpu = !dev.is_cpu();
  CONVNET_CHECK(!gpu || (c.onnx.empty() && (c.mode == "train" || c.engine == "eager")), "bench --device ", c.device,
                ": the inference session runs on the cpu only; time a GPU with --mode train or --engine eager");
  if (c.threads > 0) set_num_threads(c.threads);
  manual_seed(0);
  Generator gen(0);
  const bool session = c.mode == "infer" && c.engine == "session";
  std::shared_ptr<InferenceSession> sess;
  nn::ModulePtr model;
  models::ModelArgs a;
  Tensor x;
  // --no-fold measures the network as it is: unoptimized in the session, unfolded eagerly.
  const SessionOptions so{.precision = compute, .optimize = c.fold_batch_norm};
  if (!c.onnx.empty()) {
    // The file's input shape, its symbolic dimensions from --in-channels / --input-size.
    const int64_t size = c.input_size > 0 ? c.input_size : -1;
    sess = InferenceSession::from_onnx(c.onnx, so, {c.batch, c.in_channels > 0 ? c.in_channels : -1, size, size});
    const Shape& in = sess->input_shape();
    a.in_channels = in[1], a.input_size = in[2];
    x = Tensor::randn({c.batch, in[1], in[2], in[3]}, gen);
  } else {
    // The model's usual input (LeNet: 1x28x28), else 3x32x32 (CIFAR, also for torchvision models).
    const models::ModelInfo& info = models::info(c.model);
    a.in_channels = c.in_channels > 0 ? c.in_channels : info.default_in_channels;
    a.input_size = c.input_size > 0 ? c.input_size : info.default_input_size == 28 ? 28 : 32;
    model = models::create(c.model, a);
    x = Tensor::randn({c.batch, a.in_channels, a.input_size, a.input_size}, gen);
    if (session) sess = InferenceSession::from_module(*model, x.shape(), so);
    // Eager inference runs the network as a deployment would: BatchNorm folded into the
    // convolutions before it (nn/fuse.h); --no-fold measures the unfolded network.
    else if (c.mode == "infer" && c.fold_batch_norm)
      nn::fold_batch_norms(*model, x.shape());
    if (gpu) {
      model->to(dev);
      x = x.to(dev);
    }
  }
  std::vector<int64_t> y(c.batch);
  for (auto& v : y) v = static_cast<int64_t>(gen.randint(a.num_classes));
  optim::SGDOptions o;
  o.lr = 0.01, o.momentum = 0.9, o.weight_decay = 5e-4;
  std::unique_ptr<optim::SGD> opt;
  if (c.mode == "train") opt = std::make_unique<optim::SGD>(model->parameters(), o);
  Tensor last;  // the step's loss or logits: reading it waits for a GPU's queued work
  auto step = [&] {
    if (sess) {
      sess->run(x);
    } else if (c.mode == "train") {
      model->train();
      opt->zero_grad();
      Tensor loss;
      {
        autocast ac(compute);
        loss = ops::cross_entropy((*model)(x), y);
      }
      loss.backward();
      opt->step();
      last = loss;
    } else {
      model->eval();
      NoGradGuard g;
      autocast ac(compute);
      last = (*model)(x);
    }
  };
  // A GPU runs the queued steps behind the host: wait for them before reading the clock.
  const auto sync = [&] {
    if (gpu && last.defined()) (void)last.reshape({-1}).to(Device::cpu());
  };
  for (int i = 0; i < 3; ++i) step();
  // A session times one thread against all on its first calls at a batch size
  // (SessionOptions::tune_threads): the measurement starts once it has chosen.
  for (int i = 0; sess && sess->tuned_threads(c.batch) == 0 && i < 50; ++i) step();
  sync();
  if (c.profile) {
    profiler::reset();
    profiler::enable(true);
  }
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  int64_t n = 0;
  double elapsed = 0;
  std::vector<double> times;
  while (elapsed < c.seconds) {
    const auto s0 = Clock::now();
    step();
    ++n;
    if (c.latency) sync();
    const auto s1 = Clock::now();
    if (c.latency) times.push_back(std::chrono::duration<double, std::milli>(s1 - s0).count());
    elapsed = std::chrono::duration<double>(s1 - t0).count();
  }
  if (gpu) {
    sync();
    elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  }
  profiler::enable(false);
  BenchResult r;
  if (gpu) r.device_peak_mb = static_cast<double>(memory::allocator(dev).stats().peak_bytes) / (1024.0 * 1024.0);
  r.images_per_s = static_cast<double>(n * c.batch) / elapsed;
  r.steps = n;
  r.threads = get_num_threads();
  if (sess) {
    const int t = sess->tuned_threads(c.batch);
    r.session_threads = t == 1 ? 1 : t == 2 ? -1 : r.threads;
  }
  r.input_size = a.input_size;
  r.step_ms = elapsed * 1e3 / static_cast<double>(n);
  r.in_channels = a.in_channels;
  if (!times.empty()) {
    std::sort(times.begin(), times.end());
    // Nearest-rank percentiles.
    auto pct = [&](double p) {
      const size_t k = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(times.size())));
      return times[std::min(times.size(), std::max<size_t>(k, 1)) - 1];
    };
    r.p50_ms = pct(50), r.p90_ms = pct(90), r.p99_ms = pct(99);
  }
  if (c.profile) r.profile = profiler::rows();
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  r.peak_rss_mb = static_cast<double>(ru.ru_maxrss) / 1024.0;  // Linux reports KiB
  return r;
}
}  // namespace

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
