// convnet bench
#include <cstdio>
#include <memory>

#include "commands.h"
#include "convnet/ops/autocast.h"
#include "convnet/version.h"
#include "convnet/train/bench.h"

namespace convnet::cli {

Command add_bench(CLI::App& app) {
  auto bcp = std::make_shared<train::BenchConfig>();
  train::BenchConfig& bc = *bcp;
  auto* bn = app.add_subcommand("bench",
                                "Measure training or inference throughput (images/s) of a zoo model on random data; "
                                "prints one JSON line in the format of shared/bench/pytorch_peer.py");
  auto* model =
      bn->add_option("model,-m,--model", bc.model, "Model name (see `convnet models`)")->capture_default_str();
  bn->add_option("-b,--batch", bc.batch, "Batch size")->capture_default_str()->check(positive());
  bn->add_option("-j,--threads", bc.threads, "Threads (0 = all cores)")->capture_default_str()->check(non_negative());
  bn->add_option("--input-size", bc.input_size, "Input height = width (0 = 28 for LeNet, else 32)")
      ->capture_default_str()
      ->check(in_range(0, 4096));
  bn->add_option("--in-channels", bc.in_channels, "Input channels (0 = 1 for LeNet, else 3)")
      ->capture_default_str()
      ->check(in_range(0, 4096));
  auto* mode = bn->add_option("--mode", bc.mode, "train or infer (infer with --onnx)")
                   ->capture_default_str()
                   ->check(CLI::IsMember({"train", "infer"}));
  bn->add_option("--seconds", bc.seconds, "Measuring time per run")->capture_default_str()->check(positive());
  bn->add_option("--precision", bc.precision,
                 "fp32, or bf16 / fp16 mixed precision (convolutions and linear layers in the reduced precision, "
                 "float32 weights; fp16 runs on the emulating reference kernels on a CPU)")
      ->capture_default_str()
      ->check(CLI::IsMember({"fp32", "bf16", "fp16"}));
  bn->add_option("--onnx", bc.onnx,
                 "infer: time this ONNX file instead of a zoo model (its declared input shape; "
                 "--input-size and --in-channels fill symbolic dimensions)")
      ->check(CLI::ExistingFile)
      ->excludes(model);
  bn->add_option("--engine", bc.engine,
                 "infer: session (the deployed graph: inference/session.h, BatchNorm folded, activations and "
                 "residual adds fused) or eager (the module op by op)")
      ->capture_default_str()
      ->check(CLI::IsMember({"session", "eager"}));
  bn->add_flag("--latency", bc.latency,
               "infer: also report the p50 / p90 / p99 milliseconds of single calls (use with --batch 1 for "
               "single-image latency)");
  bn->add_option("--device", bc.device,
                 "cpu, cuda or cuda:N: train or eager infer on a GPU (any --precision; needs a build with the CUDA "
                 "backend and a GPU)")
      ->capture_default_str();
  bn->add_flag("--profile", bc.profile, "Print a per-op time breakdown of a step after the JSON line");
  bn->add_flag("!--no-fold", bc.fold_batch_norm,
               "infer: run the network as it is: the session's graph unoptimized (no BatchNorm folding, no fused "
               "activations or residual adds), the eager module without BatchNorm folding");

  return {bn, [bcp, mode] {
            if (!bcp->onnx.empty() && mode->count() == 0) bcp->mode = "infer";  // an ONNX file is only inferred
            const train::BenchConfig& c = *bcp;
            if (const std::string w = precision_note(parse_precision(c.precision)); !w.empty())
              std::fprintf(stderr, "%s\n", w.c_str());
            auto r = train::benchmark(c);
            std::string latency, device;
            if (c.device != "cpu") {
              char buf[160];
              std::snprintf(buf, sizeof buf, ", \"device\": \"%s\", \"device_peak_mb\": %.1f", c.device.c_str(),
                            r.device_peak_mb);
              device = buf;
            }
            if (r.session_threads > 0) {
              char buf[64];
              std::snprintf(buf, sizeof buf, ", \"session_threads\": %d", r.session_threads);
              device += buf;
            } else if (r.session_threads < 0) {
              device += ", \"session_threads\": \"per step\"";
            }
            if (c.latency) {
              char buf[160];
              std::snprintf(buf, sizeof buf, ", \"p50_ms\": %.3f, \"p90_ms\": %.3f, \"p99_ms\": %.3f", r.p50_ms,
                            r.p90_ms, r.p99_ms);
              latency = buf;
            }
            const std::string model = c.onnx.empty() ? c.model : c.onnx;
            std::printf(
                "{\"impl\": \"convnet-%s\", \"model\": \"%s\", \"mode\": \"%s\", \"precision\": \"%s\", "
                "\"engine\": \"%s\", \"batch\": %lld, \"input_size\": %lld, \"threads\": %d, "
                "\"images_per_s\": %.1f%s%s, \"peak_rss_mb\": %.1f}\n",
                CONVNET_VERSION, model.c_str(), c.mode.c_str(), c.precision.c_str(),
                c.mode == "train" ? "train" : c.engine.c_str(), (long long)c.batch, (long long)r.input_size, r.threads,
                r.images_per_s, latency.c_str(), device.c_str(), r.peak_rss_mb);
            if (c.profile) std::printf("%s", train::format_profile(r).c_str());
            return 0;
          }};
}

}  // namespace convnet::cli
