#pragma once
#pragma GCC visibility push(default)
/// \file
/// Adam (torch.optim.Adam) and AdamW (torch.optim.AdamW), per parameter with step t:
/// \verbatim
///   Adam:  g = grad + weight_decay * p            (L2 penalty folded into the gradient)
///   AdamW: p = p * (1 - lr * weight_decay)        (decoupled decay, before the update)
///   m = beta1 * m + (1 - beta1) * g
///   v = beta2 * v + (1 - beta2) * g^2
///   vmax = max(vmax, v) if amsgrad (then used in place of v)
///   p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
/// \endverbatim
/// (Kingma & Ba 2015, Algorithm 1 with the bias corrections; AdamW: Loshchilov & Hutter 2019.)
/// Computed in float32 in PyTorch's order of operations.
#include <concepts>
#include <optional>

#include "convnet/optim/optimizer.h"

namespace convnet::optim {

/// Adam's hyperparameters, with torch.optim.Adam's defaults.
struct AdamOptions {
  /// \var lr
  /// Learning rate (>= 0).
  /// \var beta1
  /// Decay of the first-moment average m, in [0, 1).
  /// \var beta2
  /// Decay of the second-moment average v, in [0, 1).
  /// \var eps
  /// Added to the denominator (>= 0).
  /// \var weight_decay
  /// L2 penalty (Adam) or decoupled decay (AdamW), >= 0.
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
  bool amsgrad = false;  ///< Use the running maximum of v (AMSGrad).
};

/// Adam (torch.optim.Adam); the base of AdamW.
class Adam : public Optimizer {
 public:
  /// An Adam optimizer over `params`.
  /// \pre  `params` as Optimizer's; `o.lr`, `o.eps`, `o.weight_decay` >= 0; `o.beta1`,
  ///       `o.beta2` in [0, 1).
  /// \post lr() == o.lr, options() == `o`; no state yet.
  /// \throws convnet::Error prefixed "Adam:" naming the offending value (PyTorch's
  ///         messages), or as the Optimizer constructor.
  Adam(std::vector<Tensor> params, AdamOptions o);
  /// One Adam (or AdamW) update (the file comment's rule) of every parameter that has a
  /// gradient.
  /// \pre  as Optimizer::step().
  /// \post parameters with a gradient updated in place; their state (step, exp_avg,
  ///       exp_avg_sq, and max_exp_avg_sq with amsgrad) created on their first step and
  ///       updated.
  /// \throws convnet::Error as Optimizer::step().
  void step() override;
  /// beta1.
  double momentum() const override { return o_.beta1; }
  /// Sets beta1 (OneCycleLR cycles it).
  /// \pre  `beta1` in [0, 1).
  /// \post momentum() == `beta1`.
  /// \throws convnet::Error naming the optimizer and the value otherwise.
  void set_momentum(double beta1) override;
  /// The options as constructed, beta1 as last set; the current lr is lr().
  const AdamOptions& options() const { return o_; }
  /// Entries: `"<i>.step"`, `"<i>.exp_avg"`, `"<i>.exp_avg_sq"` and, with amsgrad,
  /// `"<i>.max_exp_avg_sq"`, for each parameter that has taken a step.
  /// \post copies; "step" is a one-element float32 tensor.
  std::map<std::string, Tensor> state_dict() const override;
  /// Replaces the whole state.
  /// \pre  entries as state_dict() gives them: for each parameter i present, "step" (one
  ///       non-negative whole number), "exp_avg" and "exp_avg_sq" (and "max_exp_avg_sq" with
  ///       amsgrad) of parameter i's shape.
  /// \post the state is a copy of the entries; parameters without entries start afresh.
  /// \throws convnet::Error naming the entry, as Optimizer::load_state_dict(), also for a
  ///         "step" that is not one whole number >= 0 or an unknown field; nothing changes then.
  void load_state_dict(const std::map<std::string, Tensor>& state) override;

 protected:
  /// The shared constructor: `decoupled` selects AdamW's weight decay; `name` prefixes
  /// error messages. Validates as the public constructor.
  Adam(std::vector<Tensor> params, AdamOptions o, bool decoupled, const char* name);

 private:
  struct State {
    float step = 0;  // float32, as PyTorch's state['step'] tensor
    Tensor exp_avg, exp_avg_sq, max_exp_avg_sq;
  };
  AdamOptions o_;
  bool decoupled_;  // AdamW
  std::vector<std::optional<State>> state_;
};

/// AdamW's options: Adam's, but PyTorch's default weight_decay for AdamW is 1e-2. A separate
/// aggregate (not derived) so designated initializers work: `AdamWOptions{.lr = 3e-4}`.
struct AdamWOptions {
  /// \var lr
  /// Learning rate (>= 0).
  /// \var beta1
  /// Decay of the first-moment average m, in [0, 1).
  /// \var beta2
  /// Decay of the second-moment average v, in [0, 1).
  /// \var eps
  /// Added to the denominator (>= 0).
  /// \var weight_decay
  /// Decoupled weight decay (>= 0): p is multiplied by 1 - lr * weight_decay each step.
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 1e-2;
  bool amsgrad = false;  ///< Use the running maximum of v (AMSGrad).
};

/// AdamW (torch.optim.AdamW): Adam with decoupled weight decay.
class AdamW : public Adam {
 public:
  /// An AdamW optimizer over `params`.
  /// \pre  as Adam's constructor.
  /// \post lr() == o.lr; no state yet.
  /// \throws convnet::Error prefixed "AdamW:" naming the offending value, or as the
  ///         Optimizer constructor.
  AdamW(std::vector<Tensor> params, AdamWOptions o = {});
  /// Also takes Adam's options (a template only so that a braced list `{.lr = ...}` picks
  /// AdamWOptions unambiguously); the weight decay is then the one given, 0 by default.
  /// \pre  as Adam's constructor.
  /// \throws convnet::Error as the constructor taking AdamWOptions.
  template <class O>
    requires std::same_as<O, AdamOptions>
  AdamW(std::vector<Tensor> params, const O& o)
      : AdamW(std::move(params), AdamWOptions{o.lr, o.beta1, o.beta2, o.eps, o.weight_decay, o.amsgrad}) {}
};

}  // namespace convnet::optim
#pragma GCC visibility pop
