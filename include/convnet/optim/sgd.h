#pragma once
// SGD with momentum, dampening, L2 weight decay and Nesterov momentum, as torch.optim.SGD:
//   g = grad + weight_decay * p
//   if momentum != 0:  b = g on the first step, else b = momentum * b + (1 - dampening) * g
//                      g = nesterov ? g + momentum * b : b
//   p = p - lr * g
#include <optional>

#include "convnet/optim/optimizer.h"

namespace convnet::optim {

struct SGDOptions {
  double lr = 0.01, momentum = 0, dampening = 0, weight_decay = 0;
  bool nesterov = false;
};

class SGD : public Optimizer {
 public:
  // Throws on lr, momentum or weight_decay < 0, and on nesterov without momentum or with
  // dampening (PyTorch's messages).
  SGD(std::vector<Tensor> params, SGDOptions o);
  void step() override;
  double momentum() const override { return o_.momentum; }
  void set_momentum(double m) override;
  // The options as constructed, momentum as last set; the current lr is lr().
  const SGDOptions& options() const { return o_; }
  // Entries: "<i>.momentum_buffer".
  std::map<std::string, Tensor> state_dict() const override;
  void load_state_dict(const std::map<std::string, Tensor>& state) override;

 private:
  SGDOptions o_;
  std::vector<std::optional<Tensor>> buf_;  // momentum buffer per parameter, once created
};

}  // namespace convnet::optim
