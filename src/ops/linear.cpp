// linear through the registered GEMM ("gemm": OpenBLAS when present, ref otherwise).
// With x flattened to X (M, in), W (out, in), Y (M, out) and L a scalar loss:
//   Y = X W^T + 1 b^T     (1: a column of M ones)
//   dL/dX = dY W          (M, out) x (out, in)
//   dL/dW = dY^T X        (out, M) x (M, in)
//   dL/db = dY^T 1        column sums of dY, as a (1, M) x (M, out) GEMM with ones
#include "convnet/ops/linear.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <type_traits>

#include "convnet/autograd/autograd.h"
#include "convnet/autograd/trace.h"
#include "convnet/core/error.h"
#include "convnet/core/profiler.h"
#include "kernels/gemm.h"
#include "kernels/linear.h"
#include "kernels/registry.h"
#include "ops/checks.h"

namespace convnet::ops {

namespace {
// A column of at least n ones on `dev` for the bias GEMMs. On the CPU a fresh one; on a GPU
// one per device, kept and grown when a call needs more (the first n of it are used): a
// fresh one is a host-to-device copy, which makes the host wait for the GPU's queue in the
// middle of every forward and backward.
Tensor ones_on(const Device& dev, int64_t n) {
  if (dev.is_cpu()) return Tensor::ones({n});
  static std::mutex mu;
  static auto* kept = new std::map<int, Tensor>;  // never destroyed (GPU memory outlives statics)
  std::lock_guard<std::mutex> lock(mu);
  Tensor& t = (*kept)[dev.index];
  if (!t.defined() || t.numel() < n) t = Tensor::ones({std::max<int64_t>(n, 1)}).to(dev);
  return t;
}

// y = x W^T + b with x in a reduced precision T (ops/autocast.h): the linear_*_<T> kernels,
// with the float32 weight and bias.
Tensor linear_reduced(const Tensor& x, const Tensor& weight, const Tensor& bias, int64_t M, int64_t IN, int64_t OUT,
                      const Shape& out_shape) {
  Tensor y = Tensor::empty(out_shape, x.dtype(), x.device());
  kernels::with_floating(x.dtype(), [&]<class T>() {
    if constexpr (!std::is_same_v<T, float>)
      (*kernels::keys::Linear<T>::fwd)(M, IN, OUT, kdata_as<T>(x), kdata(weight), kdata(bias), kdata_as<T>(y));
  });
  autograd::record(y, "linear", {x, weight, bias}, [x, weight, bias, M, IN, OUT](const Tensor& gy_arg) {
    const Tensor gy = gy_arg.to(x.dtype());
    Tensor gx, gw, gb;
    if (x.requires_grad()) gx = Tensor::empty(x.shape(), x.dtype(), x.device());
    if (weight.requires_grad()) gw = Tensor::empty(weight.shape(), DType::float32, x.device());
    if (bias.defined() && bias.requires_grad()) gb = Tensor::empty(bias.shape(), DType::float32, x.device());
    kernels::with_floating(x.dtype(), [&]<class T>() {
      if constexpr (!std::is_same_v<T, float>)
        (*kernels::keys::Linear<T>::bwd)(M, IN, OUT, kdata_as<T>(x), kdata(weight), kdata_as<T>(gy), kdata_as<T>(gx),
                                         kdata(gw), kdata(gb));
    });
    return std::vector<Tensor>{gx, gw, gb};
  });
  if (trace::active()) trace::record("linear", {x, weight, bias}, y);
  return y;
}
}  // namespace

Tensor linear(const Tensor& x_arg, const Tensor& weight_arg, const Tensor& bias_arg, const std::string& layer) {
  CONVNET_CHECK(x_arg.defined() && weight_arg.defined(), layer, ": input and weight must be defined");
  // Precision (ops/autocast.h), as conv2d: under autocast the input in the guard's dtype,
  // computing with the float32 weights.
  const Tensor x = autocast_input(x_arg);
  const bool reduced = is_reduced(x.dtype());
  if (!reduced) check_operands(layer, {{"input", &x}, {"weight", &weight_arg}, {"bias", &bias_arg}});
  const Tensor weight = reduced ? param_fp32(layer, "weight", weight_arg, x) : weight_arg;
  const Tensor bias = reduced ? param_fp32(layer, "bias", bias_arg, x) : bias_arg;
  CONVNET_CHECK(weight.dim() == 2, layer, ": expected a 2-D weight (out_features, in_features), got weight of shape ",
                shape_str(weight.shape()));
  CONVNET_CHECK(x.dim() >= 1, layer, ": expected an input with at least 1 dimension (*, ", weight.size(1),
                "), got a scalar of shape ", shape_str(x.shape()));
  const int64_t OUT = weight.size(0), IN = weight.size(1);
  CONVNET_CHECK(x.size(-1) == IN, layer, ": expected input with ", IN,
                " features (last dimension) for weight of shape ", shape_str(weight.shape()), ", got input of shape ",
                shape_str(x.shape()));
  if (bias.defined())
    CONVNET_CHECK(bias.dim() == 1 && bias.size(0) == OUT, layer, ": expected bias of shape (", OUT,
                  ") for weight of shape ", shape_str(weight.shape()), ", got bias of shape ", shape_str(bias.shape()));

  int64_t M = 1;  // rows: the product of the leading dimensions
  for (int64_t d = 0; d + 1 < x.dim(); ++d) M *= x.size(d);
  Shape out_shape = x.shape();
  out_shape.back() = OUT;
  if (reduced) return linear_reduced(x, weight, bias, M, IN, OUT, out_shape);
  profiler::Scope scope("linear_fwd");
  // On x's device, with that device's gemm (ones_on: the column of ones for the bias).
  const Device dev = x.device();
  const auto on_dev = [dev](const Shape& s, bool zero) {
    return zero ? Tensor::zeros(s).to(dev) : Tensor::empty(s, DType::float32, dev);
  };
  // Every element of y is written by a GEMM below unless a dimension is empty.
  const bool full = M > 0 && OUT > 0 && IN > 0;
  Tensor y = on_dev(out_shape, !full);
  auto* gemm = kernels::keys::gemm.get(dev.type);
  if (bias.defined() && M > 0 && OUT > 0) {
    // Every row starts as b (the rank-1 product 1 b^T), then beta = 1 adds X W^T onto it.
    const Tensor ones = ones_on(dev, M);
    gemm(false, false, M, OUT, 1, 1.f, kdata(ones), 1, kdata(bias), OUT, 0.f, kdata(y), OUT);
  }
  if (M > 0 && OUT > 0 && IN > 0)  // BLAS rejects empty matrices (lda >= max(1, K))
    gemm(false, true, M, OUT, IN, 1.f, kdata(x), IN, kdata(weight), IN, bias.defined() ? 1.f : 0.f, kdata(y), OUT);

  autograd::record(y, "linear", {x, weight, bias}, [x, weight, bias, M, IN, OUT, on_dev](const Tensor& gy) {
    profiler::Scope scope("linear_bwd");
    auto* gemm = kernels::keys::gemm.get(x.device().type);
    const bool full = M > 0 && IN > 0 && OUT > 0;
    Tensor gx, gw, gb;
    if (x.requires_grad()) {
      gx = on_dev(x.shape(), !full);
      if (full) gemm(false, false, M, IN, OUT, 1.f, kdata(gy), OUT, kdata(weight), IN, 0.f, kdata(gx), IN);
    }
    if (weight.requires_grad()) {
      gw = on_dev(weight.shape(), !full);
      if (full) gemm(true, false, OUT, IN, M, 1.f, kdata(gy), OUT, kdata(x), IN, 0.f, kdata(gw), IN);
    }
    if (bias.defined() && bias.requires_grad()) {
      gb = on_dev(bias.shape(), !(M > 0 && OUT > 0));  // else the GEMM writes every element
      if (M > 0 && OUT > 0) {
        const Tensor ones = ones_on(x.device(), M);
        gemm(false, false, 1, OUT, M, 1.f, kdata(ones), M, kdata(gy), OUT, 0.f, kdata(gb), OUT);
      }
    }
    return std::vector<Tensor>{gx, gw, gb};
  });
  if (trace::active()) trace::record("linear", {x, weight, bias}, y);
  return y;
}

}  // namespace convnet::ops
