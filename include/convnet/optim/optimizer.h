#pragma once
// Optimizer: the base of SGD, Adam and AdamW. It holds the parameters (Tensor handles
// that share storage with the model) and one learning rate; step() updates every
// parameter whose grad() is defined, in place, under NoGradGuard, with exactly the update
// rules of PyTorch 1.13's torch.optim (single-tensor, i.e. foreach=False, path).
//
// Requires: every parameter is a defined leaf tensor, the list is not empty.
// Ensures:  step() leaves parameters without a gradient untouched and creates no state
//           for them (as PyTorch, which skips `p.grad is None`).
#include <map>
#include <string>
#include <vector>

#include "convnet/core/tensor.h"

namespace convnet::optim {

class Optimizer {
 public:
  // `name` ("SGD", "Adam", "AdamW") prefixes error messages.
  Optimizer(std::vector<Tensor> params, double lr, std::string name = "Optimizer");
  virtual ~Optimizer();
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  virtual void step() = 0;
  // Drops every gradient (PyTorch's zero_grad(set_to_none=True)).
  void zero_grad();

  double lr() const { return lr_; }
  // Not validated, as PyTorch's param_group['lr']: a linear OneCycleLR's extra step at
  // total_steps goes slightly below zero, and that must not stop a run at its end.
  void set_lr(double lr);
  // SGD: momentum; Adam/AdamW: beta1. Cycled by OneCycleLR.
  virtual double momentum() const = 0;
  virtual void set_momentum(double m) = 0;

  const std::vector<Tensor>& params() const { return params_; }
  const std::string& name() const { return name_; }

  // Per-parameter state as named tensors "<param index>.<field>", e.g. "0.momentum_buffer",
  // "3.exp_avg", "3.step" (a one-element tensor, float32 as PyTorch keeps it). Parameters
  // that never had a gradient have no entries. Hyperparameters (lr, momentum) are not
  // state: a scheduler restores them (LRScheduler::set_last_step).
  virtual std::map<std::string, Tensor> state_dict() const = 0;
  // Replaces the whole state (validated first, so a failed load changes nothing). Throws
  // convnet::Error naming the entry on an unknown key, a parameter index out of range, a
  // shape that does not match its parameter, or a parameter with only some of its fields.
  virtual void load_state_dict(const std::map<std::string, Tensor>& state) = 0;

 protected:
  // Splits "<index>.<field>" and checks the index; throws naming the key otherwise.
  std::pair<size_t, std::string> parse_state_key(const std::string& key) const;
  // Throws unless t has the shape of params()[i]; `key` names the entry.
  void check_state_shape(const std::string& key, const Tensor& t, size_t i) const;

  std::vector<Tensor> params_;
  double lr_;
  std::string name_;
};

}  // namespace convnet::optim
