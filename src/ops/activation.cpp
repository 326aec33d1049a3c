// Activations: elementwise, any shape; one dispatch helper for all of them.
#include "convnet/ops/activation.h"

#include <limits>
#include <type_traits>

#include "convnet/autograd/autograd.h"
#include "convnet/autograd/trace.h"
#include "convnet/core/error.h"
#include "kernels/activation.h"
#include "kernels/clamp.h"
#include "kernels/prelu.h"
#include "kernels/registry.h"
#include "ops/checks.h"

namespace convnet::ops {

namespace {

thread_local bool g_guided_relu = false;

// y = f(x) through the kernels "<name>_fwd" / "<name>_bwd". The backward keeps x (an
// input of the node anyway) and y's data (detached, so the graph does not own itself).
// guided: the backward passes on only the positive part of gy (see GuidedReluGuard).
using ActFwd = kernels::Kernel<kernels::ActFwdFn<float>>;
using ActBwd = kernels::Kernel<kernels::ActBwdFn<float>>;

// relu on a reduced-precision x (ops/autocast.h): the relu_*_<T> kernels, y and gx in x's
// dtype and layout.
Tensor relu_reduced(const Tensor& x) {
  Tensor y = Tensor::empty_like(x);
  kernels::with_floating(x.dtype(), [&]<class T>() {
    if constexpr (!std::is_same_v<T, float>)
      (*kernels::keys::Relu<T>::fwd)(x.numel(), x.stored_as<T>(), y.stored_as<T>());
  });
  autograd::record(y, "relu", {x}, [x](const Tensor& gy_in) {
    const Tensor gy = gy_in.to(x.dtype()).in_layout(x.layout());
    Tensor gx = Tensor::empty_like(gy);
    kernels::with_floating(x.dtype(), [&]<class T>() {
      if constexpr (!std::is_same_v<T, float>)
        (*kernels::keys::Relu<T>::bwd)(x.numel(), x.stored_as<T>(), gy.stored_as<T>(), gx.stored_as<T>());
    });
    return std::vector<Tensor>{gx};
  });
  if (trace::active()) trace::record("relu", {x}, y, {.floats = {{"alpha", 0.f}}});
  return y;
}

Tensor activation(const char* name, ActFwd& fwd, ActBwd& bwd, const Tensor& x_arg, float a, bool guided = false) {
  CONVNET_CHECK(x_arg.defined(), name, ": input must be defined");
  // relu has reduced-precision kernels; the others (and guided relu) compute in float32.
  if (is_reduced(x_arg.dtype()) && &fwd == &kernels::keys::relu_fwd && !guided) return relu_reduced(x_arg);
  const Tensor x = as_fp32(x_arg);
  // Elementwise, so any layout will do: y keeps x's (core/layout.h).
  Tensor y = Tensor::empty_like(x);
  fwd(x.numel(), a, x.raw_data(), y.raw_data());
  autograd::record(y, guided ? "guided_relu" : name, {x}, [&bwd, a, x, yd = y.detach(), guided](const Tensor& gy_in) {
    // x, y and gy in one layout: x's now (it may have been rewritten since the forward).
    const Layout* layout = x.layout();
    Tensor gy = gy_in.in_layout(layout);
    const Tensor y_same = yd.in_layout(layout);
    if (guided) {  // max(gy, 0), then the ordinary mask [x > 0]: the mask and the clamp commute
      Tensor g = Tensor::empty_like(gy);
      kernels::keys::clamp_fwd(gy.numel(), 0.f, std::numeric_limits<float>::infinity(), gy.raw_data(), g.raw_data());
      gy = g;
    }
    Tensor gx = Tensor::empty_like(gy);
    bwd(x.numel(), a, x.raw_data(), y_same.raw_data(), gy.raw_data(), gx.raw_data());
    return std::vector<Tensor>{gx};
  });
  if (trace::active()) trace::record(name, {x}, y, {.floats = {{"alpha", a}}});
  return y;
}

}  // namespace

GuidedReluGuard::GuidedReluGuard() : prev_(g_guided_relu) {
  g_guided_relu = true;
}
GuidedReluGuard::~GuidedReluGuard() {
  g_guided_relu = prev_;
}
bool guided_relu_enabled() {
  return g_guided_relu;
}

Tensor relu(const Tensor& x) {
  return activation("relu", kernels::keys::relu_fwd, kernels::keys::relu_bwd, x, 0.f, g_guided_relu);
}
Tensor leaky_relu(const Tensor& x, double negative_slope) {
  return activation("leaky_relu", kernels::keys::leaky_relu_fwd, kernels::keys::leaky_relu_bwd, x, static_cast<float>(negative_slope));
}
Tensor relu6(const Tensor& x) {
  return activation("relu6", kernels::keys::relu6_fwd, kernels::keys::relu6_bwd, x, 0.f, g_guided_relu);
}
Tensor tanh(const Tensor& x) {
  return activation("tanh", kernels::keys::tanh_fwd, kernels::keys::tanh_bwd, x, 0.f);
}
Tensor sigmoid(const Tensor& x) {
  return activation("sigmoid", kernels::keys::sigmoid_fwd, kernels::keys::sigmoid_bwd, x, 0.f);
}
Tensor hardsigmoid(const Tensor& x) {
  return activation("hardsigmoid", kernels::keys::hardsigmoid_fwd, kernels::keys::hardsigmoid_bwd, x, 0.f);
}
Tensor hardswish(const Tensor& x) {
  return activation("hardswish", kernels::keys::hardswish_fwd, kernels::keys::hardswish_bwd, x, 0.f);
}
Tensor silu(const Tensor& x) {
  return activation("silu", kernels::keys::silu_fwd, kernels::keys::silu_bwd, x, 0.f);
}
Tensor gelu(const Tensor& x, const std::string& approximate) {
  CONVNET_CHECK(approximate == "none" || approximate == "tanh",
                "gelu: approximate must be \"none\" or \"tanh\", got \"", approximate, "\"");
  if (approximate == "tanh")
    return activation("gelu_tanh", kernels::keys::gelu_tanh_fwd, kernels::keys::gelu_tanh_bwd, x, 0.f);
  return activation("gelu", kernels::keys::gelu_fwd, kernels::keys::gelu_bwd, x, 0.f);
}
Tensor elu(const Tensor& x, double alpha) {
  return activation("elu", kernels::keys::elu_fwd, kernels::keys::elu_bwd, x, static_cast<float>(alpha));
}
Tensor selu(const Tensor& x) {
  return activation("selu", kernels::keys::selu_fwd, kernels::keys::selu_bwd, x, 0.f);
}
Tensor softplus(const Tensor& x, double beta) {
  CONVNET_CHECK(beta > 0, "softplus: beta must be > 0, got ", beta);
  return activation("softplus", kernels::keys::softplus_fwd, kernels::keys::softplus_bwd, x, static_cast<float>(beta));
}
Tensor softsign(const Tensor& x) {
  return activation("softsign", kernels::keys::softsign_fwd, kernels::keys::softsign_bwd, x, 0.f);
}
Tensor prelu(const Tensor& x_arg, const Tensor& weight_arg) {
  CONVNET_CHECK(x_arg.defined() && weight_arg.defined(), "prelu: input and weight must be defined");
  CONVNET_CHECK(x_arg.dim() >= 1, "prelu: the input must have at least one dimension, got a scalar");
  // data() reads (and keeps) the elements row-major, whatever layout they came in.
  const Tensor x = as_fp32(x_arg);
  const Tensor w = as_fp32(weight_arg);
  const int64_t n = x.dim() >= 2 ? x.size(0) : 1, c = x.dim() >= 2 ? x.size(1) : 1;
  const int64_t s = n * c == 0 ? 0 : x.numel() / (n * c), wc = w.numel();
  CONVNET_CHECK(wc == 1 || (x.dim() >= 2 && wc == c), "prelu: the weight of shape ", shape_str(w.shape()),
                " must have 1 element or one per channel (", c, " for an input of shape ", shape_str(x.shape()), ")");
  Tensor y = Tensor::empty(x.shape());
  kernels::keys::prelu_fwd(n, c, s, wc, x.data(), w.data(), y.data());
  autograd::record(y, "prelu", {x, w}, [x, w, n, c, s, wc](const Tensor& gy_in) {
    const Tensor& gy = gy_in;
    Tensor gx = Tensor::empty(x.shape()), gw = Tensor::empty(w.shape());
    kernels::keys::prelu_bwd(n, c, s, wc, x.data(), w.data(), gy.data(), gx.data(), gw.data());
    return std::vector<Tensor>{gx, gw};
  });
  if (trace::active()) trace::record("prelu", {x, w}, y);
  return y;
}

Tensor erf(const Tensor& x) {
  return activation("erf", kernels::keys::erf_fwd, kernels::keys::erf_bwd, x, 0.f);
}
Tensor exp(const Tensor& x) {
  return activation("exp", kernels::keys::exp_fwd, kernels::keys::exp_bwd, x, 0.f);
}
Tensor abs(const Tensor& x) {
  return activation("abs", kernels::keys::abs_fwd, kernels::keys::abs_bwd, x, 0.f);
}
Tensor sqrt(const Tensor& x) {
  return activation("sqrt", kernels::keys::sqrt_fwd, kernels::keys::sqrt_bwd, x, 0.f);
}

Tensor floor(const Tensor& x) {
  return activation("floor", kernels::keys::floor_fwd, kernels::keys::floor_bwd, x, 0.f);
}
Tensor ceil(const Tensor& x) {
  return activation("ceil", kernels::keys::ceil_fwd, kernels::keys::ceil_bwd, x, 0.f);
}
Tensor reciprocal(const Tensor& x) {
  return activation("reciprocal", kernels::keys::reciprocal_fwd, kernels::keys::reciprocal_bwd, x, 0.f);
}
Tensor log(const Tensor& x) {
  return activation("log", kernels::keys::log_fwd, kernels::keys::log_bwd, x, 0.f);
}

}  // namespace convnet::ops
