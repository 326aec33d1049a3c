// SGD, the update of torch/optim/sgd.py (_single_tensor_sgd) in float32, in the same
// order of operations, so a run matches PyTorch's to rounding.
#include "convnet/optim/sgd.h"

#include "convnet/autograd/autograd.h"
#include "convnet/core/error.h"
#include "convnet/core/profiler.h"

namespace convnet::optim {

SGD::SGD(std::vector<Tensor> params, SGDOptions o) : Optimizer(std::move(params), o.lr, "SGD"), o_(o) {
  CONVNET_CHECK(o.momentum >= 0.0, "SGD: Invalid momentum value: ", o.momentum);
  CONVNET_CHECK(o.weight_decay >= 0.0, "SGD: Invalid weight_decay value: ", o.weight_decay);
  CONVNET_CHECK(!o.nesterov || (o.momentum > 0 && o.dampening == 0),
                "SGD: Nesterov momentum requires a momentum and zero dampening (got momentum ", o.momentum,
                ", dampening ", o.dampening, ")");
  buf_.resize(params_.size());
}

void SGD::set_momentum(double m) {
  CONVNET_CHECK(m >= 0.0, "SGD: Invalid momentum value: ", m);
  o_.momentum = m;
}

void SGD::step() {
  NoGradGuard no_grad;
  profiler::Scope scope("sgd_step");
  // PyTorch's Python floats become float32 scalars in the in-place tensor ops.
  const float wd = static_cast<float>(o_.weight_decay), mom = static_cast<float>(o_.momentum);
  const float damp1 = static_cast<float>(1 - o_.dampening), neg_lr = static_cast<float>(-lr_);
  const bool use_wd = o_.weight_decay != 0, use_mom = o_.momentum != 0, nesterov = o_.nesterov;
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor& p = params_[i];
    const Tensor grad = p.grad();
    if (!grad.defined()) continue;
    CONVNET_CHECK(grad.numel() == p.numel(), "SGD: gradient of shape ", shape_str(grad.shape()),
                  " does not match parameter ", i, " of shape ", shape_str(p.shape()));
    const int64_t n = p.numel();
    float* w = p.data();
    const float* g = grad.data();
    // First momentum step: buf = d_p, without dampening (PyTorch's clone).
    const bool first = use_mom && !buf_[i];
    if (first) buf_[i] = Tensor::empty(p.shape());
    float* b = use_mom ? buf_[i]->data() : nullptr;
    // The update of each element only reads and writes that element: one fused pass, in
    // PyTorch's order of float operations, split over the threads for large parameters.
#pragma omp parallel for schedule(static) if (n > (1 << 16))
    for (int64_t k = 0; k < n; ++k) {
      float d = g[k];  // d_p = grad + weight_decay * p (grad itself is never modified)
      if (use_wd) d = d + wd * w[k];
      if (use_mom) {
        b[k] = first ? d : b[k] * mom + damp1 * d;
        d = nesterov ? d + mom * b[k] : b[k];
      }
      w[k] = w[k] + neg_lr * d;
    }
  }
}

std::map<std::string, Tensor> SGD::state_dict() const {
  std::map<std::string, Tensor> out;
  for (size_t i = 0; i < buf_.size(); ++i)
    if (buf_[i]) out[std::to_string(i) + ".momentum_buffer"] = buf_[i]->clone();
  return out;
}

void SGD::load_state_dict(const std::map<std::string, Tensor>& state) {
  std::vector<std::optional<Tensor>> bufs(params_.size());
  for (const auto& [key, t] : state) {
    const auto [i, field] = parse_state_key(key);
    CONVNET_CHECK(field == "momentum_buffer", "SGD::load_state_dict: unexpected entry '", key,
                  "' (SGD keeps only '<i>.momentum_buffer'; is this another optimizer's state?)");
    check_state_shape(key, t, i);
    bufs[i] = t.clone();
  }
  buf_ = std::move(bufs);
}

}  // namespace convnet::optim
