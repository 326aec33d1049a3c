#pragma once
#pragma GCC visibility push(default)
/// \file
/// Define-by-run autograd (as torch.autograd). Every op that produces a tensor from inputs
/// that require gradients attaches a Node to its output: the inputs, and a function that
/// maps the gradient of the output to the gradients of the inputs. Tensor::backward() walks
/// the nodes in reverse topological order, accumulating gradients of tensors used twice.
/// Grad mode (grad_enabled(), NoGradGuard, EnableGradGuard) is per thread.
#include <functional>
#include <string>
#include <vector>

#include "convnet/core/tensor.h"

namespace convnet {

/// The backward function of a Node: maps the gradient of the op's output to the gradients
/// of its inputs. grads[i] is the gradient for inputs[i]; an undefined Tensor means "no
/// gradient".
using BackwardFn = std::function<std::vector<Tensor>(const Tensor& grad_output)>;

/// One recorded op of the autograd graph (what torch.Tensor.grad_fn refers to): its
/// inputs and its backward function. Tensor::grad_fn() of an op's output points to it.
struct Node {
  std::string name;  ///< op name, for error messages and debugging
  std::vector<Tensor> inputs;  ///< The op's tensor inputs (kept alive by the node).
  BackwardFn backward;  ///< Gradient of the output to one gradient per input.
};

/// Whether ops record the autograd graph on this thread (as torch.is_grad_enabled); true
/// unless a NoGradGuard is alive (and no EnableGradGuard made after it).
bool grad_enabled();

/// While alive, no graph is recorded (inference, optimizer updates) on this thread: an
/// RAII guard, as `with torch.no_grad():`.
class NoGradGuard {
 public:
  /// Turns recording off on this thread.
  /// \post grad_enabled() is false; the destructor restores the previous mode.
  NoGradGuard();
  /// Restores the mode that was current at construction.
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool prev_;
};

/// While alive, graphs are recorded even inside a NoGradGuard (tracing for export needs
/// autograd to name the ops it cannot trace). An RAII guard on this thread, as
/// `with torch.enable_grad():`.
class EnableGradGuard {
 public:
  /// Turns recording on on this thread.
  /// \post grad_enabled() is true; the destructor restores the previous mode.
  EnableGradGuard();
  /// Restores the mode that was current at construction.
  ~EnableGradGuard();
  EnableGradGuard(const EnableGradGuard&) = delete;
  EnableGradGuard& operator=(const EnableGradGuard&) = delete;

 private:
  bool prev_;
};

namespace autograd {
/// True when grad mode is on and at least one input requires a gradient.
/// Null pointers and undefined tensors count as not requiring one.
/// \post false whenever grad_enabled() is false.
bool needs_grad(std::initializer_list<const Tensor*> inputs);
/// As above, for a vector of tensors (undefined ones count as not requiring a gradient).
bool needs_grad(const std::vector<Tensor>& inputs);
/// Attaches a backward node to `out` when needs_grad(inputs). The closure must not
/// capture `out` itself (use out.detach()) or the graph would own itself.
/// \pre  `out` is defined; `fn` returns one gradient per input, each undefined or of that
///       input's shape (Tensor::backward checks both and throws naming `name`); `name` is a
///       null-terminated string (it is copied).
/// \post when needs_grad(inputs): `out.grad_fn()` is a new Node {`name`, `inputs`, `fn`}
///       and `out.requires_grad()` is true; otherwise `out` is unchanged.
void record(Tensor& out, const char* name, std::vector<Tensor> inputs, BackwardFn fn);
}  // namespace autograd

}  // namespace convnet
#pragma GCC visibility pop
