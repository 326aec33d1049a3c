#pragma once
#pragma GCC visibility push(default)
/// \file
/// SGD with momentum, dampening, L2 weight decay and Nesterov momentum, as torch.optim.SGD:
/// \verbatim
///   g = grad + weight_decay * p
///   if momentum != 0:  b = g on the first step, else b = momentum * b + (1 - dampening) * g
///                      g = nesterov ? g + momentum * b : b
///   p = p - lr * g
/// \endverbatim
/// computed in float32 in PyTorch's order of operations.
#include <optional>

#include "convnet/optim/optimizer.h"

namespace convnet::optim {

/// SGD's hyperparameters, with torch.optim.SGD's defaults except lr (required there).
struct SGDOptions {
  /// \var lr
  /// Learning rate (>= 0).
  /// \var momentum
  /// Momentum factor (>= 0; 0: plain SGD, no buffer).
  /// \var dampening
  /// Dampening of the momentum buffer's update.
  /// \var weight_decay
  /// L2 penalty added to the gradient (>= 0).
  double lr = 0.01, momentum = 0, dampening = 0, weight_decay = 0;
  bool nesterov = false;  ///< Nesterov momentum (needs momentum > 0 and dampening 0).
};

/// Stochastic gradient descent (torch.optim.SGD).
class SGD : public Optimizer {
 public:
  /// An SGD optimizer over `params`.
  /// \pre  `params` as Optimizer's; `o.lr`, `o.momentum`, `o.weight_decay` >= 0; nesterov
  ///       only with momentum > 0 and dampening 0.
  /// \post lr() == o.lr, options() == `o`; no state yet.
  /// \throws convnet::Error prefixed "SGD:" naming the offending value(s) for any of these,
  ///         or as the Optimizer constructor.
  SGD(std::vector<Tensor> params, SGDOptions o);
  /// One SGD update (the file comment's rule) of every parameter that has a gradient.
  /// \pre  as Optimizer::step().
  /// \post parameters with a gradient updated in place; with momentum, their buffers
  ///       created (first step) or updated.
  /// \throws convnet::Error as Optimizer::step().
  void step() override;
  /// The momentum factor.
  double momentum() const override { return o_.momentum; }
  /// Sets the momentum factor (OneCycleLR cycles it).
  /// \pre  `m` >= 0.
  /// \post momentum() == `m`.
  /// \throws convnet::Error "SGD: Invalid momentum value" for a negative `m`.
  void set_momentum(double m) override;
  /// The options as constructed, momentum as last set; the current lr is lr().
  const SGDOptions& options() const { return o_; }
  /// Entries: `"<i>.momentum_buffer"`, for each parameter that has a momentum buffer.
  /// \post copies of the buffers.
  std::map<std::string, Tensor> state_dict() const override;
  /// Replaces the momentum buffers.
  /// \pre  only `"<i>.momentum_buffer"` entries, each of parameter i's shape.
  /// \post the buffers are copies of the entries; parameters without one start afresh.
  /// \throws convnet::Error naming the entry, as Optimizer::load_state_dict(), for another
  ///         field too; nothing changes then.
  void load_state_dict(const std::map<std::string, Tensor>& state) override;

 private:
  SGDOptions o_;
  std::vector<std::optional<Tensor>> buf_;  // momentum buffer per parameter, once created
};

}  // namespace convnet::optim
#pragma GCC visibility pop
