#pragma once
// Throughput of a zoo model, measured like shared/bench/pytorch_peer.py: random inputs,
// 3 warm-up steps, then as many steps as fit in `seconds`. A training step is forward +
// cross-entropy + backward + SGD (momentum 0.9, weight decay 5e-4) update; inference is
// eval mode without a graph.
#include <string>

namespace convnet::train {

struct BenchConfig {
  std::string model = "lenet5";
  int64_t batch = 128;
  int threads = 0;  // 0 = all cores
  std::string mode = "train";  // train | infer
  double seconds = 5.0;
  int64_t in_channels = 0;  // 0 = the model's usual input (1x28x28 for lenet5, else 3x32x32)
  int64_t input_size = 0;
};

struct BenchResult {
  double images_per_s;
  int64_t steps;
  int threads;
};

BenchResult benchmark(const BenchConfig& cfg);

}  // namespace convnet::train
