#include "convnet/optim/optimizer.h"

#include <cmath>

#include "convnet/core/error.h"

namespace convnet::optim {

Optimizer::Optimizer(std::vector<Tensor> params, double lr, std::string name)
    : params_(std::move(params)), lr_(lr), name_(std::move(name)) {
  CONVNET_CHECK(!params_.empty(), name_, ": optimizer got an empty parameter list");
  for (size_t i = 0; i < params_.size(); ++i) {
    CONVNET_CHECK(params_[i].defined(), name_, ": parameter ", i, " is an undefined tensor");
    // A non-leaf's .grad is never filled in, and updating it would not change the model.
    CONVNET_CHECK(params_[i].is_leaf(), name_, ": can't optimize a non-leaf Tensor (parameter ", i, " of shape ",
                  shape_str(params_[i].shape()), ")");
  }
  CONVNET_CHECK(lr >= 0.0, name_, ": Invalid learning rate: ", lr);  // also rejects NaN
}

Optimizer::~Optimizer() = default;

void Optimizer::zero_grad() {
  for (auto& p : params_) p.zero_grad();
}

void Optimizer::set_lr(double lr) { lr_ = lr; }

std::pair<size_t, std::string> Optimizer::parse_state_key(const std::string& key) const {
  const size_t dot = key.find('.');
  size_t idx = 0;
  bool ok = dot != std::string::npos && dot > 0 && dot + 1 < key.size();
  for (size_t k = 0; ok && k < dot; ++k) {
    ok = key[k] >= '0' && key[k] <= '9' && idx < params_.size();  // idx bound also stops overflow
    idx = idx * 10 + static_cast<size_t>(key[k] - '0');
  }
  CONVNET_CHECK(ok, name_, "::load_state_dict: unexpected entry '", key,
                "' (expected '<parameter index>.<field>' with an index below ", params_.size(), ")");
  CONVNET_CHECK(idx < params_.size(), name_, "::load_state_dict: entry '", key, "' is for parameter ", idx,
                ", but the optimizer has ", params_.size(), " parameters");
  return {idx, key.substr(dot + 1)};
}

void Optimizer::check_state_shape(const std::string& key, const Tensor& t, size_t i) const {
  CONVNET_CHECK(t.defined(), name_, "::load_state_dict: entry '", key, "' is an undefined tensor");
  CONVNET_CHECK(t.shape() == params_[i].shape(), name_, "::load_state_dict: entry '", key, "' has shape ",
                shape_str(t.shape()), " but parameter ", i, " has shape ", shape_str(params_[i].shape()));
}

}  // namespace convnet::optim
