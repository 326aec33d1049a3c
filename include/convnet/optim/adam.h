#pragma once
// Adam (torch.optim.Adam) and AdamW (torch.optim.AdamW), per parameter with step t:
//   Adam:  g = grad + weight_decay * p            (L2 penalty folded into the gradient)
//   AdamW: p = p * (1 - lr * weight_decay)        (decoupled decay, before the update)
//   m = beta1 * m + (1 - beta1) * g
//   v = beta2 * v + (1 - beta2) * g^2
//   vmax = max(vmax, v) if amsgrad (then used in place of v)
//   p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
// (Kingma & Ba 2015, Algorithm 1 with the bias corrections; AdamW: Loshchilov & Hutter 2019.)
#include <concepts>
#include <optional>

#include "convnet/optim/optimizer.h"

namespace convnet::optim {

struct AdamOptions {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
  bool amsgrad = false;
};

class Adam : public Optimizer {
 public:
  // Throws on lr, eps, weight_decay < 0 or a beta outside [0, 1) (PyTorch's messages).
  Adam(std::vector<Tensor> params, AdamOptions o);
  void step() override;
  double momentum() const override { return o_.beta1; }
  void set_momentum(double beta1) override;
  // The options as constructed, beta1 as last set; the current lr is lr().
  const AdamOptions& options() const { return o_; }
  // Entries: "<i>.step", "<i>.exp_avg", "<i>.exp_avg_sq" and, with amsgrad, "<i>.max_exp_avg_sq".
  std::map<std::string, Tensor> state_dict() const override;
  void load_state_dict(const std::map<std::string, Tensor>& state) override;

 protected:
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

// AdamW's options: Adam's, but PyTorch's default weight_decay for AdamW is 1e-2. A separate
// aggregate (not derived) so designated initializers work: AdamWOptions{.lr = 3e-4}.
struct AdamWOptions {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 1e-2;
  bool amsgrad = false;
};

class AdamW : public Adam {
 public:
  AdamW(std::vector<Tensor> params, AdamWOptions o = {});
  // Also takes Adam's options (a template only so that a braced list `{.lr = ...}` picks
  // AdamWOptions unambiguously); the weight decay is then the one given, 0 by default.
  template <class O>
    requires std::same_as<O, AdamOptions>
  AdamW(std::vector<Tensor> params, const O& o)
      : AdamW(std::move(params), AdamWOptions{o.lr, o.beta1, o.beta2, o.eps, o.weight_decay, o.amsgrad}) {}
};

}  // namespace convnet::optim
