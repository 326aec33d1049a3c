#pragma once
// Weight initialization as torch.nn.init. Fans of a weight (OC, C, KH, KW) or (out, in):
// fan_in = C*KH*KW, fan_out = OC*KH*KW.
#include <string>
#include <utility>

#include "convnet/core/rng.h"
#include "convnet/core/tensor.h"

namespace convnet::nn::init {

enum class FanMode { FanIn, FanOut };

std::pair<int64_t, int64_t> fans(const Tensor& w);  // (fan_in, fan_out)
// torch.nn.init.calculate_gain: linear/conv/sigmoid 1, tanh 5/3, relu sqrt(2),
// leaky_relu sqrt(2/(1+slope^2)), selu 3/4.
double calculate_gain(const std::string& nonlinearity, double param = 0.01);

void uniform_(Tensor& t, double lo, double hi, Generator& gen = default_generator());
void normal_(Tensor& t, double mean, double std, Generator& gen = default_generator());
void constant_(Tensor& t, double value);
void zeros_(Tensor& t);
void ones_(Tensor& t);
// U(-b, b), b = gain * sqrt(6 / (fan_in + fan_out)); N(0, gain * sqrt(2 / (fan_in + fan_out))).
void xavier_uniform_(Tensor& t, double gain = 1.0, Generator& gen = default_generator());
void xavier_normal_(Tensor& t, double gain = 1.0, Generator& gen = default_generator());
// std = gain(nonlinearity, a) / sqrt(fan); uniform bound sqrt(3) * std.
void kaiming_uniform_(Tensor& t, double a = 0, FanMode mode = FanMode::FanIn,
                      const std::string& nonlinearity = "leaky_relu", Generator& gen = default_generator());
void kaiming_normal_(Tensor& t, double a = 0, FanMode mode = FanMode::FanIn,
                     const std::string& nonlinearity = "leaky_relu", Generator& gen = default_generator());

// torch.nn.init.trunc_normal_: N(mean, std) restricted to [a, b] (a and b are values,
// not multiples of std), drawn like PyTorch by the inverse CDF: u uniform in
// (Phi((a - mean)/std), Phi((b - mean)/std)), x = mean + std * Phi^-1(u), clamped to [a, b].
// GoogLeNet (torchvision, init_weights=True) uses std 0.01, a = -2, b = 2.
void trunc_normal_(Tensor& t, double mean = 0.0, double std = 1.0, double a = -2.0, double b = 2.0,
                   Generator& gen = default_generator());

// PyTorch's default for Conv2d and Linear: kaiming_uniform_(w, a = sqrt(5)), i.e.
// U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the bias from the same bound.
void default_weight_init_(Tensor& w, Tensor& b, Generator& gen = default_generator());

}  // namespace convnet::nn::init
