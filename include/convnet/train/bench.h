#pragma once
#pragma GCC visibility push(default)
/// \file
/// Throughput of a zoo model (or an ONNX file), measured like shared/bench/pytorch_peer.py:
/// random inputs, 3 warm-up steps, then as many steps as fit in `seconds`. A training step is
/// forward + cross-entropy + backward + SGD (momentum 0.9, weight decay 5e-4) update;
/// inference is eval mode without a graph, through an InferenceSession by default (engine).
/// `convnet bench` is the command line of benchmark().
#include <string>
#include <vector>

#include "convnet/core/profiler.h"

namespace convnet::train {

/// What benchmark() measures and how.
struct BenchConfig {
  std::string model = "lenet5";  ///< Zoo model name (models::names()).
  int64_t batch = 128;           ///< Images per step; at least 1.
  int threads = 0;               ///< Threads (set_num_threads); 0 = keep the current count (all cores by default).
  std::string mode = "train";    ///< "train" (training steps) or "infer" (forward passes in eval mode).
  double seconds = 5.0;          ///< Measuring time after the warm-up; steps run until it has passed.
  /// Input channels; 0 = the model's usual input (1x28x28 for lenet5, else 3x32x32). For an
  /// ONNX file: the value of a symbolic C dimension.
  int64_t in_channels = 0;
  /// Input height = width; 0 = the model's usual size. For an ONNX file: the value of a
  /// symbolic H / W dimension.
  int64_t input_size = 0;
  /// Time every kernel call during the measured steps (adds a little overhead per call).
  bool profile = false;
  /// infer: optimize the session's graph (BatchNorm folded, fusions), or fold BatchNorm into the
  /// preceding convolutions of the eager module (nn::fold_batch_norms); false: neither.
  bool fold_batch_norm = true;
  /// "fp32", or "bf16" / "fp16" mixed precision: the forward pass (and the loss) under
  /// convnet::autocast (ops/autocast.h); weights and the update stay float32.
  std::string precision = "fp32";
  /// infer: "session" runs the network as deployed (inference/session.h: the graph optimized,
  /// BatchNorm folded, activations and residual adds fused into the convolutions); "eager"
  /// runs the module op by op (BatchNorm folded unless fold_batch_norm is false).
  std::string engine = "session";
  /// infer: an ONNX file to time instead of a zoo model (its declared input shape; a symbolic
  /// H / W is input_size, a symbolic C in_channels). Needs mode "infer" and engine "session".
  std::string onnx;
  /// Time every step on its own and report the p50 / p90 / p99 step latency too.
  bool latency = false;
  /// "cpu", or "cuda" / "cuda:N" (parse_device): the model and the batch on that GPU, in any
  /// precision, train or eager infer (the inference session runs on the CPU only).
  std::string device = "cpu";
};

/// What benchmark() measured.
struct BenchResult {
  double images_per_s = 0;  ///< Images per second over the measured steps (batch * steps / time).
  int64_t steps = 0;        ///< Measured steps (the warm-up not counted).
  int threads = 0;          ///< Threads the run used (get_num_threads()).
  int64_t input_size = 0;   ///< The H = W that was measured.
  double peak_rss_mb = 0;   ///< Peak resident memory of the process, MiB (getrusage ru_maxrss).
  double step_ms = 0;       ///< Mean wall time of one measured step, ms.
  /// With latency: the median (p50) step time, ms; nearest-rank percentiles, 0 without latency.
  double p50_ms = 0, p90_ms = 0, /**< p90 step time, ms. */ p99_ms = 0;  ///< p99 step time, ms.
  int64_t in_channels = 0;             ///< The input channels that were measured.
  std::vector<profiler::Row> profile;  ///< Per op, over all measured steps (with profile; else empty).
  double device_peak_mb = 0;           ///< On a GPU: the peak of its allocator (tensors and cache), MiB; 0 on the CPU.
  /// The session's threads per call after its tuning (SessionOptions::tune_threads): 1,
  /// `threads`, or -1 where each step has its own (1 or `threads`); 0 outside the session
  /// engine.
  int session_threads = 0;
};

/// Measures the throughput of one configuration.
/// Seeds the default generator with 0, builds the model (or loads the ONNX file into an
/// InferenceSession), draws random normal inputs and random labels, runs 3 warm-up steps,
/// then measures steps until `cfg.seconds` have passed.
/// \pre  `cfg.mode` is "train" or "infer"; `cfg.engine` is "session" or "eager";
///       `cfg.batch` >= 1; `cfg.onnx` is empty unless mode is "infer" and engine "session";
///       `cfg.precision` is "fp32", "bf16" or "fp16"; `cfg.model` is a zoo model;
///       `cfg.seconds` > 0.
/// \post Returns the measurement. Process-wide state changes: the thread count (when
///       `cfg.threads` > 0), the default generator (seeded with 0), and with `cfg.profile`
///       the profiler (reset, enabled for the measured steps, then disabled).
/// \throws convnet::Error when mode, engine or batch is out of range (naming the option and
///         the value), an ONNX file is given outside infer/session, the precision or the model
///         is unknown (listing the known ones), or the model or ONNX file cannot be built or
///         read for the requested input.
BenchResult benchmark(const BenchConfig& cfg);

/// The profile as a table: op, calls per step, ms per step, percent of the step; then the
/// time no kernel accounts for ("(other)") and the whole step ("(step)").
/// \pre  `r` comes from benchmark() (with profile set, else only the last two rows show).
/// \post Returns the table, one line per row, each ending in a newline.
std::string format_profile(const BenchResult& r);

}  // namespace convnet::train
#pragma GCC visibility pop
