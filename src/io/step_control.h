#pragma once
// Per-step control of the ONNX executor (OnnxModel::Graph::execute) on the calling thread,
// for the inference session's thread tuning (inference/session.cpp): how many OpenMP threads
// each step may use, and how long each step took.
#include <cstdint>
#include <vector>

namespace convnet::io {

struct StepControl {
  // Per step: 1 runs it on one thread, anything else on all of the caller's; steps past the
  // end run on all. Null: no limit.
  const std::vector<int8_t>* threads = nullptr;
  // Filled with each step's seconds (resized to the step count). Null: not timed.
  std::vector<double>* seconds = nullptr;
};

// The calling thread's control of the next execute() (null: none). execute() takes it for its
// own steps and clears it while they run, so a nested graph runs uncontrolled.
StepControl*& step_control();

}  // namespace convnet::io
