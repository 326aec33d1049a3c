// Losses: argument and label checks, then the fused kernels of kernels/loss.h.
#include "convnet/ops/loss.h"

#include <algorithm>
#include <memory>

#include "convnet/autograd/autograd.h"
#include "convnet/core/error.h"
#include "kernels/loss.h"
#include "kernels/registry.h"
#include "ops/checks.h"

namespace convnet::ops {

namespace {

// The output of a loss over n samples: (n) for Reduction::None, else a scalar.
Tensor loss_output(int64_t n, Reduction r) {
  return r == Reduction::None ? Tensor::zeros({n}) : Tensor::zeros({});
}

// x: (N, K) scores or log-probabilities for N labels in [0, K).
void check_labels(const char* op, const char* what, const Tensor& x, const Labels& target) {
  CONVNET_CHECK(x.defined(), op, ": ", what, " must be defined");
  CONVNET_CHECK(x.dim() == 2, op, ": expected ", what, " of shape (N, K), got ", what, " of shape ",
                shape_str(x.shape()));
  const int64_t N = x.size(0), K = x.size(1);
  CONVNET_CHECK(K >= 1, op, ": expected at least one class, got ", what, " of shape ", shape_str(x.shape()));
  CONVNET_CHECK(static_cast<int64_t>(target.size()) == N, op, ": batch size mismatch: ", what, " of shape ",
                shape_str(x.shape()), " has batch size ", N, " but the target has ", target.size(), " labels");
  for (int64_t n = 0; n < N; ++n)
    CONVNET_CHECK(target[n] >= 0 && target[n] < K, op, ": label ", target[n], " at index ", n, " is out of range for ",
                  K, " classes (expected 0 <= label < ", K, ")");
}

}  // namespace

Tensor nll_loss(const Tensor& log_probs_arg, const Labels& target, Reduction r) {
  const Tensor log_probs = as_fp32(log_probs_arg);  // float32 kernels only (ops/autocast.h)
  check_labels("nll_loss", "log_probs", log_probs, target);
  const int64_t N = log_probs.size(0), K = log_probs.size(1);
  Tensor loss = loss_output(N, r);
  kernels::keys::nll_loss_fwd(N, K, log_probs.data(), target.data(), r, loss.data());
  auto t = std::make_shared<const Labels>(target);
  autograd::record(loss, "nll_loss", {log_probs}, [t, N, K, r](const Tensor& gy) {
    Tensor gx = Tensor::empty({N, K});
    kernels::keys::nll_loss_bwd(N, K, t->data(), r, gy.data(), gx.data());
    return std::vector<Tensor>{gx};
  });
  return loss;
}

Tensor cross_entropy(const Tensor& logits_arg, const Labels& target, Reduction r, double label_smoothing) {
  const Tensor logits = as_fp32(logits_arg);  // float32 kernels only (ops/autocast.h)
  check_labels("cross_entropy", "logits", logits, target);
  CONVNET_CHECK(label_smoothing >= 0.0 && label_smoothing <= 1.0,
                "cross_entropy: label_smoothing must be in [0, 1], got ", label_smoothing);
  const int64_t N = logits.size(0), K = logits.size(1);
  const float eps = static_cast<float>(label_smoothing);
  if (!logits.device().is_cpu()) {
    // On a GPU: the labels (checked above on the host) copied there once, as an int64 tensor.
    check_operands("cross_entropy", {{"logits", &logits}});
    const Device dev = logits.device();
    Tensor host = Tensor::empty({N}, DType::int64);
    std::copy(target.begin(), target.end(), host.data_as<int64_t>());
    const Tensor labels = host.to(dev);
    Tensor loss = loss_output(N, r).to(dev);
    Tensor lse = Tensor::empty({N}, DType::float32, dev);
    kernels::keys::cross_entropy_fwd(N, K, logits.raw_data(), labels.stored_as<int64_t>(), eps, r, loss.raw_data(),
                                     lse.raw_data());
    autograd::record(loss, "cross_entropy", {logits}, [logits, labels, lse, eps, N, K, r](const Tensor& gy) {
      Tensor gx = Tensor::empty({N, K}, DType::float32, logits.device());
      kernels::keys::cross_entropy_bwd(N, K, logits.raw_data(), labels.stored_as<int64_t>(), eps, lse.raw_data(), r,
                                       gy.raw_data(), gx.raw_data());
      return std::vector<Tensor>{gx};
    });
    return loss;
  }
  Tensor loss = loss_output(N, r);
  Tensor lse = Tensor::empty({N});
  kernels::keys::cross_entropy_fwd(N, K, logits.data(), target.data(), eps, r,
                                                                       loss.data(), lse.data());
  auto t = std::make_shared<const Labels>(target);
  autograd::record(loss, "cross_entropy", {logits}, [logits, t, lse, eps, N, K, r](const Tensor& gy) {
    Tensor gx = Tensor::empty({N, K});
    kernels::keys::cross_entropy_bwd(N, K, logits.data(), t->data(), eps,
                                                                         lse.data(), r, gy.data(), gx.data());
    return std::vector<Tensor>{gx};
  });
  return loss;
}

Tensor cross_entropy(const Tensor& logits_arg, const Tensor& target_probs_arg, Reduction r) {
  const Tensor logits = as_fp32(logits_arg);              // float32 kernels only (ops/autocast.h)
  const Tensor target_probs = as_fp32(target_probs_arg);  // float32 kernels only (ops/autocast.h)
  CONVNET_CHECK(logits.defined() && target_probs.defined(), "cross_entropy: logits and target_probs must be defined");
  CONVNET_CHECK(logits.dim() == 2, "cross_entropy: expected logits of shape (N, K), got logits of shape ",
                shape_str(logits.shape()));
  CONVNET_CHECK(logits.size(1) >= 1, "cross_entropy: expected at least one class, got logits of shape ",
                shape_str(logits.shape()));
  CONVNET_CHECK(target_probs.dim() == 2 && target_probs.size(0) == logits.size(0),
                "cross_entropy: batch size mismatch: ", "logits of shape ", shape_str(logits.shape()),
                " has batch size ", logits.size(0), " but target_probs of shape ", shape_str(target_probs.shape()),
                " has batch size ", target_probs.dim() >= 1 ? target_probs.size(0) : 0);
  CONVNET_CHECK(target_probs.shape() == logits.shape(), "cross_entropy: target_probs of shape ",
                shape_str(target_probs.shape()), " must have the shape of logits ", shape_str(logits.shape()),
                " (one probability per class)");
  check_operands("cross_entropy", {{"logits", &logits}, {"target_probs", &target_probs}});
  const int64_t N = logits.size(0), K = logits.size(1);
  const Device dev = logits.device();  // the CPU, or a GPU: every tensor here is there
  Tensor loss = loss_output(N, r).to(dev);
  Tensor lse = Tensor::empty({N}, DType::float32, dev);
  kernels::keys::soft_cross_entropy_fwd(N, K, kdata(logits), kdata(target_probs), r, kdata(loss), kdata(lse));
  autograd::record(loss, "cross_entropy", {logits, target_probs},
                   [logits, target_probs, lse, N, K, r, dev](const Tensor& gy) {
                     Tensor gx, gp;
                     if (logits.requires_grad()) gx = Tensor::empty({N, K}, DType::float32, dev);
                     if (target_probs.requires_grad()) gp = Tensor::empty({N, K}, DType::float32, dev);
                     kernels::keys::soft_cross_entropy_bwd(N, K, kdata(logits), kdata(target_probs), kdata(lse), r,
                                                           kdata(gy), kdata(gx), kdata(gp));
                     return std::vector<Tensor>{gx, gp};
                   });
  return loss;
}

Tensor mse_loss(const Tensor& input_arg, const Tensor& target_arg, Reduction r) {
  const Tensor input = as_fp32(input_arg);    // float32 kernels only (ops/autocast.h)
  const Tensor target = as_fp32(target_arg);  // float32 kernels only (ops/autocast.h)
  CONVNET_CHECK(input.defined() && target.defined(), "mse_loss: input and target must be defined");
  CONVNET_CHECK(input.shape() == target.shape(), "mse_loss: input of shape ", shape_str(input.shape()),
                " and target of shape ", shape_str(target.shape()), " must have the same shape");
  const int64_t n = input.numel();
  Tensor loss = r == Reduction::None ? Tensor::zeros(input.shape()) : Tensor::zeros({});
  kernels::keys::mse_loss_fwd(n, input.data(), target.data(), r, loss.data());
  autograd::record(loss, "mse_loss", {input, target}, [input, target, n, r](const Tensor& gy) {
    Tensor gx, gt;
    if (input.requires_grad()) gx = Tensor::empty(input.shape());
    if (target.requires_grad()) gt = Tensor::empty(target.shape());
    kernels::keys::mse_loss_bwd(n, input.data(), target.data(), r, gy.data(),
                                                               gx.defined() ? gx.data() : nullptr,
                                                               gt.defined() ? gt.data() : nullptr);
    return std::vector<Tensor>{gx, gt};
  });
  return loss;
}

}  // namespace convnet::ops
