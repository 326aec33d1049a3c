#pragma once
// Throughput of a zoo model, measured like shared/bench/pytorch_peer.py: random inputs,
// 3 warm-up steps, then as many steps as fit in `seconds`. A training step is forward +
// cross-entropy + backward + SGD (momentum 0.9, weight decay 5e-4) update; inference is
// eval mode without a graph, through an InferenceSession by default (engine).
#include <string>
#include <vector>

#include "convnet/core/profiler.h"

namespace convnet::train {

struct BenchConfig {
  std::string model = "lenet5";
  int64_t batch = 128;
  int threads = 0;  // 0 = all cores
  std::string mode = "train";  // train | infer
  double seconds = 5.0;
  int64_t in_channels = 0;  // 0 = the model's usual input (1x28x28 for lenet5, else 3x32x32)
  int64_t input_size = 0;
  // Time every kernel call during the measured steps (adds a little overhead per call).
  bool profile = false;
  // infer: optimize the session's graph (BatchNorm folded, fusions), or fold BatchNorm into the
  // preceding convolutions of the eager module (nn::fold_batch_norms); false: neither.
  bool fold_batch_norm = true;
  // fp32, or bf16 / fp16 mixed precision: the forward pass (and the loss) under
  // convnet::autocast (ops/autocast.h); weights and the update stay float32.
  std::string precision = "fp32";
  // infer: "session" runs the network as deployed (inference/session.h: the graph optimized,
  // BatchNorm folded, activations and residual adds fused into the convolutions); "eager"
  // runs the module op by op (BatchNorm folded unless fold_batch_norm is false).
  std::string engine = "session";
  // infer: an ONNX file to time instead of a zoo model (its declared input shape; a symbolic
  // H / W is input_size, a symbolic C in_channels).
  std::string onnx;
  // infer: time every call on its own and report the p50 / p90 / p99 call latency too.
  bool latency = false;
};

struct BenchResult {
  double images_per_s = 0;
  int64_t steps = 0;
  int threads = 0;
  int64_t input_size = 0;  // the H = W that was measured
  double peak_rss_mb = 0;  // peak resident memory of the process (getrusage ru_maxrss)
  double step_ms = 0;      // mean wall time of one measured step
  double p50_ms = 0, p90_ms = 0, p99_ms = 0;  // with latency: percentiles of the step times
  int64_t in_channels = 0;
  std::vector<profiler::Row> profile;  // per op, over all measured steps (when profiling)
};

BenchResult benchmark(const BenchConfig& cfg);

// The profile as a table: op, calls per step, ms per step, % of the step; the time
// no kernel accounts for is the last row ("(other)").
std::string format_profile(const BenchResult& r);

}  // namespace convnet::train
