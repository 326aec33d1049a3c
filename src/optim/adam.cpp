// Adam and AdamW, the updates of torch/optim/adam.py and adamw.py (_single_tensor_adam[w])
// in float32, in the same order of operations, so a run matches PyTorch's to rounding.
#include "convnet/optim/adam.h"

#include "kernels/optim.h"

#include <algorithm>
#include <cmath>

#include "convnet/autograd/autograd.h"
#include "convnet/core/error.h"

namespace convnet::optim {

namespace {
void check_options(const char* name, const AdamOptions& o) {
  CONVNET_CHECK(o.eps >= 0.0, name, ": Invalid epsilon value: ", o.eps);
  CONVNET_CHECK(o.beta1 >= 0.0 && o.beta1 < 1.0, name, ": Invalid beta parameter at index 0: ", o.beta1);
  CONVNET_CHECK(o.beta2 >= 0.0 && o.beta2 < 1.0, name, ": Invalid beta parameter at index 1: ", o.beta2);
  CONVNET_CHECK(o.weight_decay >= 0.0, name, ": Invalid weight_decay value: ", o.weight_decay);
}
}  // namespace

Adam::Adam(std::vector<Tensor> params, AdamOptions o) : Adam(std::move(params), o, false, "Adam") {}

Adam::Adam(std::vector<Tensor> params, AdamOptions o, bool decoupled, const char* name)
    : Optimizer(std::move(params), o.lr, name), o_(o), decoupled_(decoupled) {
  check_options(name, o);
  state_.resize(params_.size());
}

void Adam::set_momentum(double beta1) {
  CONVNET_CHECK(beta1 >= 0.0 && beta1 < 1.0, name_, ": Invalid beta parameter at index 0: ", beta1);
  o_.beta1 = beta1;
}

void Adam::step() {
  NoGradGuard no_grad;
  const double lr = lr_, b1 = o_.beta1, b2 = o_.beta2;
  // PyTorch's Python floats become float32 scalars in the in-place tensor ops.
  kernels::AdamArgs a{};
  a.weight_decay = static_cast<float>(o_.weight_decay), a.decay = static_cast<float>(1 - lr * o_.weight_decay);
  a.beta1 = static_cast<float>(b1), a.beta2 = static_cast<float>(b2);
  a.one_b1 = static_cast<float>(1 - b1), a.one_b2 = static_cast<float>(1 - b2);
  a.eps = static_cast<float>(o_.eps);
  a.decoupled = decoupled_, a.use_wd = o_.weight_decay != 0, a.amsgrad = o_.amsgrad;
  std::vector<int64_t> n;
  std::vector<float*> w, m, v, vmax;
  std::vector<const float*> g;
  std::vector<float> neg_step, bc2_sqrt;
  Device dev = Device::cpu();  // the group's device: the update runs there (as SGD::step)
  bool any = false;
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor& p = params_[i];
    const Tensor grad = p.grad();
    if (!grad.defined()) continue;
    CONVNET_CHECK(grad.numel() == p.numel(), name_, ": gradient of shape ", shape_str(grad.shape()),
                  " does not match parameter ", i, " of shape ", shape_str(p.shape()));
    if (!any) dev = p.device(), any = true;
    CONVNET_CHECK(p.device() == dev && grad.device() == dev, name_, ": parameter ", i, " is on ",
                  device_name(p.device()), " (its gradient on ", device_name(grad.device()), "), the group's first on ",
                  device_name(dev), "; move the model with Module::to before making the optimizer step");
    if (!state_[i]) {  // lazy state initialization, as PyTorch
      State s;
      s.exp_avg = Tensor::zeros(p.shape()).to(dev);
      s.exp_avg_sq = Tensor::zeros(p.shape()).to(dev);
      if (o_.amsgrad) s.max_exp_avg_sq = Tensor::zeros(p.shape()).to(dev);
      state_[i] = std::move(s);
    }
    State& s = *state_[i];
    s.step += 1;
    const double step = s.step;
    const double bias_correction1 = 1 - std::pow(b1, step), bias_correction2 = 1 - std::pow(b2, step);
    neg_step.push_back(static_cast<float>(-(lr / bias_correction1)));
    bc2_sqrt.push_back(static_cast<float>(std::sqrt(bias_correction2)));
    n.push_back(p.numel());
    // Row-major float32 on the CPU (data()); as stored on a GPU, where there are no layouts.
    const auto ptr = [&](Tensor& t) { return dev.is_cpu() ? t.data() : t.raw_data(); };
    Tensor gr = grad;
    w.push_back(ptr(p));
    g.push_back(ptr(gr));
    m.push_back(ptr(s.exp_avg));
    v.push_back(ptr(s.exp_avg_sq));
    vmax.push_back(o_.amsgrad ? ptr(s.max_exp_avg_sq) : nullptr);
  }
  kernels::DeviceScope scope(dev.type);  // host arrays of pointers (kernels/registry.h)
  kernels::keys::adam_step(static_cast<int64_t>(n.size()), n.data(), w.data(), g.data(), m.data(), v.data(),
                           vmax.data(), neg_step.data(), bc2_sqrt.data(), a);
}

std::map<std::string, Tensor> Adam::state_dict() const {
  std::map<std::string, Tensor> out;
  for (size_t i = 0; i < state_.size(); ++i) {
    if (!state_[i]) continue;
    const std::string pre = std::to_string(i) + ".";
    out[pre + "step"] = Tensor::full({1}, state_[i]->step);
    out[pre + "exp_avg"] = state_[i]->exp_avg.clone();
    out[pre + "exp_avg_sq"] = state_[i]->exp_avg_sq.clone();
    if (state_[i]->max_exp_avg_sq.defined()) out[pre + "max_exp_avg_sq"] = state_[i]->max_exp_avg_sq.clone();
  }
  return out;
}

void Adam::load_state_dict(const std::map<std::string, Tensor>& state) {
  std::vector<std::optional<State>> st(params_.size());
  for (const auto& [key, t] : state) {
    const auto [i, field] = parse_state_key(key);
    if (!st[i]) st[i] = State{-1, {}, {}, {}};  // step -1: not seen yet
    State& s = *st[i];
    if (field == "step") {
      CONVNET_CHECK(t.defined() && t.numel() == 1, name_, "::load_state_dict: entry '", key,
                    "' must hold one value (the step count)");
      CONVNET_CHECK(t.item() >= 0 && t.item() == std::floor(t.item()), name_, "::load_state_dict: entry '", key,
                    "' is not a step count: ", t.item());
      s.step = t.item();
      continue;
    }
    Tensor* slot = field == "exp_avg"          ? &s.exp_avg
                   : field == "exp_avg_sq"     ? &s.exp_avg_sq
                   : field == "max_exp_avg_sq" ? &s.max_exp_avg_sq
                                               : nullptr;
    CONVNET_CHECK(slot != nullptr, name_, "::load_state_dict: unexpected entry '", key, "' (", name_,
                  " keeps '<i>.step', '<i>.exp_avg', '<i>.exp_avg_sq', '<i>.max_exp_avg_sq'; is this another "
                  "optimizer's state?)");
    check_state_shape(key, t, i);
    *slot = t.clone().to(params_[i].device());  // beside its parameter (a checkpoint is on the cpu)
  }
  for (size_t i = 0; i < st.size(); ++i) {
    if (!st[i]) continue;
    const std::string pre = std::to_string(i) + ".";
    for (const auto& [field, ok] : {std::pair<const char*, bool>{"step", st[i]->step >= 0},
                                    {"exp_avg", st[i]->exp_avg.defined()},
                                    {"exp_avg_sq", st[i]->exp_avg_sq.defined()},
                                    {"max_exp_avg_sq", !o_.amsgrad || st[i]->max_exp_avg_sq.defined()}})
      CONVNET_CHECK(ok, name_, "::load_state_dict: missing entry '", pre, field, "' (the state of parameter ", i,
                    " is incomplete)");
  }
  state_ = std::move(st);
}

AdamW::AdamW(std::vector<Tensor> params, AdamWOptions o)
    : Adam(std::move(params), AdamOptions{o.lr, o.beta1, o.beta2, o.eps, o.weight_decay, o.amsgrad}, true, "AdamW") {}

}  // namespace convnet::optim
