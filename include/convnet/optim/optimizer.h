#pragma once
#pragma GCC visibility push(default)
/// \file
/// Optimizer: the base of SGD, Adam and AdamW. It holds the parameters (Tensor handles
/// that share storage with the model) and one learning rate; step() updates every
/// parameter whose grad() is defined, in place, under NoGradGuard, with exactly the update
/// rules of PyTorch 1.13's torch.optim (single-tensor, i.e. foreach=False, path).
///
/// Requires: every parameter is a defined leaf tensor, the list is not empty; parameters,
///           gradients and state are float32 on the CPU when step() runs.
/// Ensures:  step() leaves parameters without a gradient untouched and creates no state
///           for them (as PyTorch, which skips `p.grad is None`).
#include <map>
#include <string>
#include <vector>

#include "convnet/core/tensor.h"

namespace convnet::optim {

/// The base of the optimizers (torch.optim.Optimizer with one parameter group).
class Optimizer {
 public:
  /// Holds `params` (handles sharing storage with the model) and the learning rate `lr`.
  /// `name` ("SGD", "Adam", "AdamW") prefixes error messages.
  /// \pre  `params` is not empty; every parameter is a defined leaf tensor; `lr` >= 0.
  /// \post lr() == `lr`; params() is `params`.
  /// \throws convnet::Error prefixed with `name` for an empty list, an undefined parameter
  ///         or a non-leaf one (naming its index and shape), or a negative or NaN `lr`.
  Optimizer(std::vector<Tensor> params, double lr, std::string name = "Optimizer");
  virtual ~Optimizer();
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  /// One update of every parameter that has a gradient, in place (optimizer.step()).
  /// \pre  every defined gradient has its parameter's number of elements; parameters,
  ///       gradients and state are float32 on the CPU.
  /// \post see the subclass; parameters without a gradient are untouched.
  /// \throws convnet::Error naming the optimizer, the parameter index and both shapes for a
  ///         gradient of another size; for a tensor that is not float32 on the CPU, naming
  ///         its dtype and device.
  virtual void step() = 0;
  /// Drops every gradient (PyTorch's zero_grad(set_to_none=True)).
  /// \post grad() of every parameter is undefined.
  void zero_grad();

  /// The current learning rate.
  double lr() const { return lr_; }
  /// Sets the learning rate used by the next step().
  /// Not validated, as PyTorch's param_group['lr']: a linear OneCycleLR's extra step at
  /// total_steps goes slightly below zero, and that must not stop a run at its end.
  /// \post lr() == `lr`.
  void set_lr(double lr);
  /// SGD: momentum; Adam/AdamW: beta1. Cycled by OneCycleLR.
  virtual double momentum() const = 0;
  /// Sets momentum() (SGD momentum, Adam beta1).
  /// \pre  a value the subclass accepts (SGD: >= 0; Adam: in [0, 1)).
  /// \post momentum() == `m`.
  /// \throws convnet::Error naming the optimizer for a value it refuses.
  virtual void set_momentum(double m) = 0;

  /// The parameters, in the order given to the constructor.
  const std::vector<Tensor>& params() const { return params_; }
  /// "SGD", "Adam", "AdamW": the prefix of error messages.
  const std::string& name() const { return name_; }

  /// Per-parameter state as named tensors `"<param index>.<field>"`, e.g. "0.momentum_buffer",
  /// "3.exp_avg", "3.step" (a one-element tensor, float32 as PyTorch keeps it). Parameters
  /// that never had a gradient have no entries. Hyperparameters (lr, momentum) are not
  /// state: a scheduler restores them (LRScheduler::set_last_step).
  /// \post copies: changing them does not change the optimizer.
  virtual std::map<std::string, Tensor> state_dict() const = 0;
  /// Replaces the whole state (validated first, so a failed load changes nothing).
  /// \pre  `state` as state_dict() gives it for the same parameters.
  /// \post state_dict() holds copies of `state`'s entries; parameters without entries have
  ///       no state (they start afresh on their next step()).
  /// \throws convnet::Error naming the entry on an unknown key, a parameter index out of
  ///         range, a shape that does not match its parameter, or a parameter with only some
  ///         of its fields.
  virtual void load_state_dict(const std::map<std::string, Tensor>& state) = 0;

 protected:
  /// Splits `"<index>.<field>"` and checks the index.
  /// \post {index, field} with index < params().size().
  /// \throws convnet::Error naming the key for another form or an index out of range.
  std::pair<size_t, std::string> parse_state_key(const std::string& key) const;
  /// Checks a state entry against its parameter.
  /// \pre  i < params().size().
  /// \throws convnet::Error naming `key` and both shapes unless `t` is defined and has the
  ///         shape of params()[i].
  void check_state_shape(const std::string& key, const Tensor& t, size_t i) const;

  std::vector<Tensor> params_;  ///< The parameters (shared with the model).
  double lr_;                   ///< The current learning rate.
  std::string name_;            ///< The prefix of error messages.
};

}  // namespace convnet::optim
#pragma GCC visibility pop
