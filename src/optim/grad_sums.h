#pragma once
// The sum of squares of each defined gradient of `params`, in one kernel call on their device
// (kernels/vector.h: sum_squares_many; a GPU waits once, not once per parameter). Shared by
// the gradient norm (train/grad_utils.cpp) and the loss scaler's overflow check.
#include <vector>

#include "convnet/core/tensor.h"
#include "kernels/vector.h"
#include "ops/checks.h"

namespace convnet::optim {

inline std::vector<double> grad_sum_squares(const std::vector<Tensor>& params) {
  std::vector<Tensor> grads;
  std::vector<int64_t> n;
  std::vector<const float*> x;
  for (const auto& p : params)
    if (Tensor g = p.grad(); g.defined()) grads.push_back(g), n.push_back(g.numel()), x.push_back(ops::kdata(g));
  std::vector<double> s(grads.size());
  if (grads.empty()) return s;
  const auto scope = ops::device_scope(grads.front());
  kernels::keys::sum_squares_many(static_cast<int64_t>(grads.size()), n.data(), x.data(), s.data());
  return s;
}

}  // namespace convnet::optim
