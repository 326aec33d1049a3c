#include "convnet/nn/layers.h"

#include "convnet/autograd/autograd.h"
#include "convnet/core/error.h"
#include "convnet/nn/fuse.h"
#include "convnet/nn/init.h"
#include "convnet/ops/activation.h"
#include "convnet/ops/batch_norm.h"
#include "convnet/ops/dropout.h"
#include "convnet/ops/elementwise.h"
#include "convnet/ops/linear.h"
#include "convnet/ops/norm.h"
#include "convnet/ops/pad.h"
#include "convnet/ops/permute.h"
#include "convnet/ops/softmax.h"

namespace convnet::nn {

namespace {
std::string pair_str(const std::array<int64_t, 2>& a) {
  return "(" + std::to_string(a[0]) + ", " + std::to_string(a[1]) + ")";
}
}  // namespace

// ---- Conv2d -----------------------------------------------------------------------
Conv2d::Conv2d(const Conv2dOptions& o) : opt_(o) {
  CONVNET_CHECK(o.in_channels > 0 && o.out_channels > 0, "Conv2d: in_channels and out_channels must be positive, got ",
                o.in_channels, " and ", o.out_channels);
  CONVNET_CHECK(o.args.groups > 0 && o.in_channels % o.args.groups == 0, "Conv2d: in_channels (", o.in_channels,
                ") must be divisible by groups (", o.args.groups, ")");
  CONVNET_CHECK(o.out_channels % o.args.groups == 0, "Conv2d: out_channels (", o.out_channels,
                ") must be divisible by groups (", o.args.groups, ")");
  weight = register_parameter(
      "weight", Tensor::empty({o.out_channels, o.in_channels / o.args.groups, o.kernel[0], o.kernel[1]}));
  if (o.with_bias) bias = register_parameter("bias", Tensor::empty({o.out_channels}));
  reset_parameters();
}
Conv2d::Conv2d(int64_t in, int64_t out, int64_t k, int64_t stride, Padding padding, int64_t dilation, int64_t groups,
               bool bias)
    : Conv2d(Conv2dOptions(in, out, k).stride(stride).padding(padding).dilation(dilation).groups(groups).bias(bias)) {}
void Conv2d::reset_parameters(Generator& gen) { init::default_weight_init_(weight, bias, gen); }
void Conv2d::replace_output(int64_t out, Generator& gen) {
  CONVNET_CHECK(out > 0, label(), ": out_channels must be positive, got ", out);
  CONVNET_CHECK(opt_.args.groups == 1, label(),
                ": only an ungrouped convolution can get a new output size (groups=", opt_.args.groups, ")");
  opt_.out_channels = out;
  weight = Tensor::empty({out, opt_.in_channels, opt_.kernel[0], opt_.kernel[1]}).requires_grad_(true);
  set_parameter("weight", weight);
  if (opt_.with_bias) {
    bias = Tensor::empty({out}).requires_grad_(true);
    set_parameter("bias", bias);
  }
  reset_parameters(gen);
}
void Conv2d::fold_affine(const std::vector<double>& scale, const std::vector<double>& shift) {
  const int64_t oc = opt_.out_channels;
  CONVNET_CHECK(static_cast<int64_t>(scale.size()) == oc && static_cast<int64_t>(shift.size()) == oc, label(),
                ": fold_affine needs ", oc, " scales and shifts, got ", scale.size(), " and ", shift.size());
  NoGradGuard no_grad;
  if (!bias.defined()) {
    bias = register_parameter("bias", Tensor::zeros({oc}), weight.requires_grad());
    opt_.with_bias = true;
  }
  fold_affine_into(weight.data(), bias.data(), oc, weight.numel() / oc, {scale, shift});
}
Tensor Conv2d::forward(const Tensor& x) { return ops::conv2d(x, weight, bias, opt_.args, label()); }
std::string Conv2d::extra_repr() const {
  std::string s = std::to_string(opt_.in_channels) + ", " + std::to_string(opt_.out_channels) +
                  ", kernel_size=" + pair_str(opt_.kernel) + ", stride=" + pair_str(opt_.args.stride);
  if (opt_.args.padding.mode != Padding::Mode::Explicit || opt_.args.padding.h || opt_.args.padding.w)
    s += ", padding=" + opt_.args.padding.str();
  if (opt_.args.dilation[0] != 1 || opt_.args.dilation[1] != 1) s += ", dilation=" + pair_str(opt_.args.dilation);
  if (opt_.args.groups != 1) s += ", groups=" + std::to_string(opt_.args.groups);
  if (!opt_.with_bias) s += ", bias=False";
  return s;
}

// ---- Linear -----------------------------------------------------------------------
Linear::Linear(int64_t in, int64_t out, bool with_bias) : in_features(in), out_features(out) {
  CONVNET_CHECK(in > 0 && out > 0, "Linear: in_features and out_features must be positive, got ", in, " and ", out);
  weight = register_parameter("weight", Tensor::empty({out, in}));
  if (with_bias) bias = register_parameter("bias", Tensor::empty({out}));
  reset_parameters();
}
void Linear::reset_parameters(Generator& gen) { init::default_weight_init_(weight, bias, gen); }
void Linear::replace_output(int64_t out, Generator& gen) {
  CONVNET_CHECK(out > 0, label(), ": out_features must be positive, got ", out);
  out_features = out;
  weight = Tensor::empty({out, in_features}).requires_grad_(true);
  set_parameter("weight", weight);
  if (bias.defined()) {
    bias = Tensor::empty({out}).requires_grad_(true);
    set_parameter("bias", bias);
  }
  reset_parameters(gen);
}
Tensor Linear::forward(const Tensor& x) { return ops::linear(x, weight, bias, label()); }
std::string Linear::extra_repr() const {
  return "in_features=" + std::to_string(in_features) + ", out_features=" + std::to_string(out_features) +
         ", bias=" + (bias.defined() ? "True" : "False");
}

// ---- BatchNorm --------------------------------------------------------------------
BatchNorm::BatchNorm(int64_t n, int spatial_dims, double eps, double momentum, bool affine, bool track)
    : num_features(n), eps(eps), momentum(momentum), spatial_dims_(spatial_dims) {
  CONVNET_CHECK(n > 0, type_name(), ": num_features must be positive, got ", n);
  if (affine) {
    weight = register_parameter("weight", Tensor::ones({n}));
    bias = register_parameter("bias", Tensor::zeros({n}));
  }
  if (track) {
    running_mean = register_buffer("running_mean", Tensor::zeros({n}));
    running_var = register_buffer("running_var", Tensor::ones({n}));
    num_batches_tracked = register_buffer("num_batches_tracked", Tensor::zeros({}));
  }
}
Tensor BatchNorm::forward(const Tensor& x) {
  if (spatial_dims_ == 2)
    CONVNET_CHECK(x.dim() == 4, label(), ": expected 4-D input (N, C, H, W), got input of shape ", shape_str(x.shape()));
  else
    CONVNET_CHECK(x.dim() == 2 || x.dim() == 3, label(), ": expected 2-D (N, C) or 3-D (N, C, L) input, got input of shape ",
                  shape_str(x.shape()));
  if (folded()) {
    CONVNET_CHECK(!training_, label(), ": folded into ", folded_into_,
                  " for inference (nn::fold_batch_norms); a folded network cannot train");
    return x;
  }
  const bool use_batch_stats = training_ || !running_mean.defined();
  if (training_ && num_batches_tracked.defined()) {
    if (num_batches_tracked.device().is_cpu()) {
      num_batches_tracked.data()[0] += 1.f;
    } else {  // on a GPU, counted there (a one-element copy of the 1 from the host)
      NoGradGuard g;
      num_batches_tracked.set_data_(ops::add(num_batches_tracked, Tensor::ones({}).to(num_batches_tracked.device())));
    }
  }
  if (sync_group && use_batch_stats)
    return ops::sync_batch_norm(x, running_mean, running_var, weight, bias, momentum, eps, *sync_group, label());
  return ops::batch_norm(x, running_mean, running_var, weight, bias, use_batch_stats, momentum, eps, label());
}
std::string BatchNorm::extra_repr() const {
  return std::to_string(num_features) + ", eps=" + std::to_string(eps) + ", momentum=" + std::to_string(momentum) +
         ", affine=" + (weight.defined() ? "True" : "False");
}

// ---- pooling ----------------------------------------------------------------------
MaxPool2d::MaxPool2d(int64_t k, int64_t s, int64_t p, int64_t d, bool ceil_mode) {
  args.kernel = {k, k};
  args.stride = {s, s};
  args.padding = {p, p};
  args.dilation = {d, d};
  args.ceil_mode = ceil_mode;
}
Tensor MaxPool2d::forward(const Tensor& x) { return ops::max_pool2d(x, args, label()); }
std::string MaxPool2d::extra_repr() const {
  return "kernel_size=" + pair_str(args.kernel) + ", stride=" + pair_str(args.stride) +
         ", padding=" + pair_str(args.padding) + (args.ceil_mode ? ", ceil_mode=True" : "");
}
AvgPool2d::AvgPool2d(int64_t k, int64_t s, int64_t p, bool ceil_mode, bool count_include_pad) {
  args.kernel = {k, k};
  args.stride = {s, s};
  args.padding = {p, p};
  args.ceil_mode = ceil_mode;
  args.count_include_pad = count_include_pad;
}
Tensor AvgPool2d::forward(const Tensor& x) { return ops::avg_pool2d(x, args, label()); }
std::string AvgPool2d::extra_repr() const {
  return "kernel_size=" + pair_str(args.kernel) + ", stride=" + pair_str(args.stride) +
         ", padding=" + pair_str(args.padding);
}
Tensor AdaptiveAvgPool2d::forward(const Tensor& x) { return ops::adaptive_avg_pool2d(x, output_size, label()); }
std::string AdaptiveAvgPool2d::extra_repr() const { return "output_size=" + pair_str(output_size); }
Tensor GlobalAvgPool2d::forward(const Tensor& x) { return ops::global_avg_pool2d(x, label()); }
Tensor GlobalMaxPool2d::forward(const Tensor& x) { return ops::global_max_pool2d(x, label()); }

// ---- dropout ----------------------------------------------------------------------
Dropout::Dropout(double p, Generator* gen) : p(p), gen_(gen) {
  CONVNET_CHECK(p >= 0 && p <= 1, "Dropout: probability has to be between 0 and 1, but got ", p);
}
Tensor Dropout::forward(const Tensor& x) {
  return ops::dropout(x, p, training_, gen_ ? *gen_ : default_generator());
}
std::string Dropout::extra_repr() const { return "p=" + std::to_string(p); }
Dropout2d::Dropout2d(double p, Generator* gen) : p(p), gen_(gen) {
  CONVNET_CHECK(p >= 0 && p <= 1, "Dropout2d: probability has to be between 0 and 1, but got ", p);
}
Tensor Dropout2d::forward(const Tensor& x) {
  return ops::dropout2d(x, p, training_, gen_ ? *gen_ : default_generator());
}
std::string Dropout2d::extra_repr() const { return "p=" + std::to_string(p); }
LayerNorm::LayerNorm(Shape shape, double eps, bool affine, bool with_bias)
    : normalized_shape(std::move(shape)), eps(eps) {
  bool ok = !normalized_shape.empty();
  for (int64_t d : normalized_shape) ok = ok && d >= 1;
  CONVNET_CHECK(ok, "LayerNorm: normalized_shape must be non-empty with positive sizes, got ",
                shape_str(normalized_shape));
  if (affine) {
    weight = register_parameter("weight", Tensor::ones(normalized_shape));
    if (with_bias) bias = register_parameter("bias", Tensor::zeros(normalized_shape));
  }
}
Tensor LayerNorm::forward(const Tensor& x) {
  return ops::layer_norm(x, normalized_shape, weight, bias, eps, label());
}
std::string LayerNorm::extra_repr() const {
  return shape_str(normalized_shape) + ", eps=" + std::to_string(eps) +
         ", elementwise_affine=" + (weight.defined() ? "True" : "False");
}
GroupNorm::GroupNorm(int64_t num_groups, int64_t num_channels, double eps, bool affine)
    : num_groups(num_groups), num_channels(num_channels), eps(eps) {
  CONVNET_CHECK(num_groups >= 1 && num_channels >= 1 && num_channels % num_groups == 0, "GroupNorm: num_channels (",
                num_channels, ") must be divisible by num_groups (", num_groups, ")");
  if (affine) {
    weight = register_parameter("weight", Tensor::ones({num_channels}));
    bias = register_parameter("bias", Tensor::zeros({num_channels}));
  }
}
Tensor GroupNorm::forward(const Tensor& x) {
  return ops::group_norm(x, num_groups, weight, bias, eps, label());
}
std::string GroupNorm::extra_repr() const {
  return std::to_string(num_groups) + ", " + std::to_string(num_channels) + ", eps=" + std::to_string(eps) +
         ", affine=" + (weight.defined() ? "True" : "False");
}
ConvTranspose2d::ConvTranspose2d(int64_t in, int64_t out, int64_t k, const ops::ConvTranspose2dArgs& a, bool with_bias)
    : args(a) {
  CONVNET_CHECK(in > 0 && out > 0 && k > 0, "ConvTranspose2d: in_channels, out_channels and kernel_size must be ",
                "positive, got ", in, ", ", out, " and ", k);
  CONVNET_CHECK(a.groups > 0 && in % a.groups == 0 && out % a.groups == 0, "ConvTranspose2d: in_channels (", in,
                ") and out_channels (", out, ") must be divisible by groups (", a.groups, ")");
  weight = register_parameter("weight", Tensor::empty({in, out / a.groups, k, k}));
  if (with_bias) bias = register_parameter("bias", Tensor::empty({out}));
  Tensor b = bias;
  init::default_weight_init_(weight, b);
}
Tensor ConvTranspose2d::forward(const Tensor& x) {
  return ops::conv_transpose2d(x, weight, bias, args, label());
}
Upsample::Upsample(std::array<int64_t, 2> size, std::array<double, 2> scale_factor, std::string mode,
                   bool align_corners)
    : size(size), scale_factor(scale_factor), mode(std::move(mode)), align_corners(align_corners) {
  CONVNET_CHECK((size[0] > 0 && size[1] > 0) || (scale_factor[0] > 0 && scale_factor[1] > 0),
                "Upsample: either a positive size or positive scale factors must be given");
}
Tensor Upsample::forward(const Tensor& x) {
  if (size[0] > 0 && size[1] > 0) return ops::interpolate(x, size, mode, align_corners, label());
  return ops::interpolate_scale(x, scale_factor, mode, align_corners, label());
}
Tensor Pad2d::forward(const Tensor& x) {
  CONVNET_CHECK(x.dim() == 3 || x.dim() == 4, label(), ": expected a 3-D or 4-D input, got ", shape_str(x.shape()));
  std::vector<std::array<int64_t, 2>> p(static_cast<size_t>(x.dim()), {0, 0});
  p[p.size() - 2] = {padding[2], padding[3]};
  p[p.size() - 1] = {padding[0], padding[1]};
  return ops::pad(x, p, mode, 0.f, label());
}
std::string Pad2d::type_name() const {
  return mode == "reflect" ? "ReflectionPad2d" : mode == "replicate" ? "ReplicationPad2d" : "Pad2d";
}
Tensor Permute::forward(const Tensor& x) {
  return ops::permute(x, dims, label());
}
StochasticDepth::StochasticDepth(double p, std::string mode, Generator* gen) : p(p), mode(std::move(mode)), gen_(gen) {
  CONVNET_CHECK(p >= 0 && p <= 1, "StochasticDepth: probability has to be between 0 and 1, but got ", p);
  CONVNET_CHECK(this->mode == "row" || this->mode == "batch",
                "StochasticDepth: mode has to be either 'batch' or 'row', but got '", this->mode, "'");
}
Tensor StochasticDepth::forward(const Tensor& x) {
  return ops::stochastic_depth(x, p, mode, training_, gen_ ? *gen_ : default_generator());
}
std::string StochasticDepth::extra_repr() const {
  return "p=" + std::to_string(p) + ", mode=" + mode;
}

// ---- activations ------------------------------------------------------------------
Tensor ReLU::forward(const Tensor& x) { return ops::relu(x); }
Tensor ReLU6::forward(const Tensor& x) { return ops::relu6(x); }
Tensor LeakyReLU::forward(const Tensor& x) { return ops::leaky_relu(x, negative_slope); }
std::string LeakyReLU::extra_repr() const { return "negative_slope=" + std::to_string(negative_slope); }
Tensor Tanh::forward(const Tensor& x) { return ops::tanh(x); }
Tensor Sigmoid::forward(const Tensor& x) { return ops::sigmoid(x); }
Tensor Hardsigmoid::forward(const Tensor& x) {
  return ops::hardsigmoid(x);
}
Tensor Hardswish::forward(const Tensor& x) {
  return ops::hardswish(x);
}
Tensor SiLU::forward(const Tensor& x) {
  return ops::silu(x);
}
Tensor SELU::forward(const Tensor& x) {
  return ops::selu(x);
}
Tensor Softsign::forward(const Tensor& x) {
  return ops::softsign(x);
}
Tensor GELU::forward(const Tensor& x) {
  return ops::gelu(x, approximate);
}
std::string GELU::extra_repr() const {
  return "approximate='" + approximate + "'";
}
Tensor ELU::forward(const Tensor& x) {
  return ops::elu(x, alpha);
}
std::string ELU::extra_repr() const {
  return "alpha=" + std::to_string(alpha);
}
Tensor Softplus::forward(const Tensor& x) {
  return ops::softplus(x, beta);
}
std::string Softplus::extra_repr() const {
  return "beta=" + std::to_string(beta) + ", threshold=20";
}
Tensor Softmax::forward(const Tensor& x) { return ops::softmax(x, dim); }
Tensor LogSoftmax::forward(const Tensor& x) { return ops::log_softmax(x, dim); }

}  // namespace convnet::nn
