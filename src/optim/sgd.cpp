// SGD, the update of torch/optim/sgd.py (_single_tensor_sgd) in float32, in the same
// order of operations, so a run matches PyTorch's to rounding.
#include "convnet/optim/sgd.h"

#include "convnet/autograd/autograd.h"
#include "convnet/core/error.h"
#include "kernels/optim.h"

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
  // PyTorch's Python floats become float32 scalars in the in-place tensor ops.
  kernels::SgdArgs a{};
  a.neg_lr = static_cast<float>(-lr_), a.weight_decay = static_cast<float>(o_.weight_decay);
  a.momentum = static_cast<float>(o_.momentum), a.dampening1 = static_cast<float>(1 - o_.dampening);
  a.use_wd = o_.weight_decay != 0, a.use_momentum = o_.momentum != 0, a.nesterov = o_.nesterov;
  // One fused update over every parameter that has a gradient.
  std::vector<int64_t> n;
  std::vector<float*> w, b;
  std::vector<const float*> g;
  std::vector<uint8_t> first;
  Device dev = Device::cpu();  // where the group is: the update runs there (one device per group)
  bool any = false;
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor& p = params_[i];
    const Tensor grad = p.grad();
    if (!grad.defined()) continue;
    CONVNET_CHECK(grad.numel() == p.numel(), "SGD: gradient of shape ", shape_str(grad.shape()),
                  " does not match parameter ", i, " of shape ", shape_str(p.shape()));
    if (!any) dev = p.device(), any = true;
    CONVNET_CHECK(p.device() == dev && grad.device() == dev, "SGD: parameter ", i, " is on ", device_name(p.device()),
                  " (its gradient on ", device_name(grad.device()), "), the group's first on ", device_name(dev),
                  "; move the model with Module::to before making the optimizer step");
    // First momentum step: buf = d_p, without dampening (PyTorch's clone).
    const bool is_first = a.use_momentum && !buf_[i];
    if (is_first) buf_[i] = Tensor::empty(p.shape(), DType::float32, dev);
    // Row-major float32 on the CPU (data()); as stored on a GPU, where there are no layouts.
    const bool cpu = dev.is_cpu();
    n.push_back(p.numel());
    w.push_back(cpu ? p.data() : p.raw_data());
    g.push_back(cpu ? grad.data() : grad.raw_data());
    b.push_back(a.use_momentum ? (cpu ? buf_[i]->data() : buf_[i]->raw_data()) : nullptr);
    first.push_back(is_first);
  }
  // Host arrays of pointers: the device comes from the scope (kernels/registry.h).
  kernels::DeviceScope scope(dev.type);
  kernels::keys::sgd_step(static_cast<int64_t>(n.size()), n.data(), w.data(), g.data(), b.data(), first.data(), a);
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
    bufs[i] = t.clone().to(params_[i].device());  // beside its parameter (a checkpoint is on the cpu)
  }
  buf_ = std::move(bufs);
}

}  // namespace convnet::optim
