// Conv3d, MaxPool3d and AvgPool3d (nn/volumetric.h).
#include "convnet/nn/volumetric.h"

#include "convnet/core/error.h"
#include "convnet/nn/init.h"

namespace convnet::nn {

namespace {
std::string triple_str(const std::array<int64_t, 3>& v) {
  return "(" + std::to_string(v[0]) + ", " + std::to_string(v[1]) + ", " + std::to_string(v[2]) + ")";
}
}  // namespace

Conv3d::Conv3d(int64_t in, int64_t out, std::array<int64_t, 3> kernel, const Conv3dArgs& a, bool with_bias) : args(a) {
  CONVNET_CHECK(in > 0 && out > 0, "Conv3d: in_channels and out_channels must be positive, got ", in, " and ", out);
  CONVNET_CHECK(kernel[0] > 0 && kernel[1] > 0 && kernel[2] > 0, "Conv3d: kernel sizes must be positive, got ",
                triple_str(kernel));
  CONVNET_CHECK(a.groups > 0 && in % a.groups == 0 && out % a.groups == 0, "Conv3d: in_channels (", in,
                ") and out_channels (", out, ") must be divisible by groups (", a.groups, ")");
  weight = register_parameter("weight", Tensor::empty({out, in / a.groups, kernel[0], kernel[1], kernel[2]}));
  if (with_bias) bias = register_parameter("bias", Tensor::empty({out}));
  reset_parameters();
}
void Conv3d::reset_parameters(Generator& gen) {
  init::default_weight_init_(weight, bias, gen);
}
Tensor Conv3d::forward(const Tensor& x) {
  return ops::conv3d(x, weight, bias, args, label());
}
std::string Conv3d::extra_repr() const {
  std::string s = std::to_string(weight.size(1) * args.groups) + ", " + std::to_string(weight.size(0)) +
                  ", kernel_size=" + triple_str({weight.size(2), weight.size(3), weight.size(4)}) +
                  ", stride=" + triple_str(args.stride);
  if (args.padding != std::array<int64_t, 3>{0, 0, 0}) s += ", padding=" + triple_str(args.padding);
  if (args.dilation != std::array<int64_t, 3>{1, 1, 1}) s += ", dilation=" + triple_str(args.dilation);
  if (args.groups != 1) s += ", groups=" + std::to_string(args.groups);
  if (!bias.defined()) s += ", bias=False";
  return s;
}

Tensor MaxPool3d::forward(const Tensor& x) {
  return ops::max_pool3d(x, args, label());
}
std::string MaxPool3d::extra_repr() const {
  return "kernel_size=" + triple_str(args.kernel) + ", stride=" + triple_str(args.stride) +
         ", padding=" + triple_str(args.padding) + (args.ceil_mode ? ", ceil_mode=True" : "");
}
Tensor AvgPool3d::forward(const Tensor& x) {
  return ops::avg_pool3d(x, args, label());
}
std::string AvgPool3d::extra_repr() const {
  return "kernel_size=" + triple_str(args.kernel) + ", stride=" + triple_str(args.stride) +
         ", padding=" + triple_str(args.padding) + (args.ceil_mode ? ", ceil_mode=True" : "");
}

}  // namespace convnet::nn
