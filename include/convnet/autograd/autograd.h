#pragma once
// Define-by-run autograd. Every op that produces a tensor from inputs that require
// gradients attaches a Node to its output: the inputs, and a function that maps the
// gradient of the output to the gradients of the inputs. Tensor::backward() walks the
// nodes in reverse topological order, accumulating gradients of tensors used twice.
#include <functional>
#include <string>
#include <vector>

#include "convnet/core/tensor.h"

namespace convnet {

// grads[i] is the gradient for inputs[i]; an undefined Tensor means "no gradient".
using BackwardFn = std::function<std::vector<Tensor>(const Tensor& grad_output)>;

struct Node {
  std::string name;  // op name, for error messages and debugging
  std::vector<Tensor> inputs;
  BackwardFn backward;
};

bool grad_enabled();

// While alive, no graph is recorded (inference, optimizer updates).
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool prev_;
};

// While alive, graphs are recorded even inside a NoGradGuard (tracing for export needs
// autograd to name the ops it cannot trace).
class EnableGradGuard {
 public:
  EnableGradGuard();
  ~EnableGradGuard();
  EnableGradGuard(const EnableGradGuard&) = delete;
  EnableGradGuard& operator=(const EnableGradGuard&) = delete;

 private:
  bool prev_;
};

namespace autograd {
// True when grad mode is on and at least one input requires a gradient.
bool needs_grad(std::initializer_list<const Tensor*> inputs);
bool needs_grad(const std::vector<Tensor>& inputs);
// Attaches a backward node to `out` when needs_grad(inputs). The closure must not
// capture `out` itself (use out.detach()) or the graph would own itself.
void record(Tensor& out, const char* name, std::vector<Tensor> inputs, BackwardFn fn);
}  // namespace autograd

}  // namespace convnet
