#pragma once
#pragma GCC visibility push(default)
/// \file
/// Weight initialization as torch.nn.init. Fans of a weight (OC, C, KH, KW) or (out, in):
/// `fan_in = C*KH*KW`, `fan_out = OC*KH*KW`.
/// The initializers write the elements in place, without autograd: the tensor must be a
/// float32 CPU tensor (they throw convnet::Error otherwise, naming its dtype and device).
/// Draws come from `gen`, so a seeded generator reproduces them (the values are not
/// PyTorch's for the same seed).
#include <string>
#include <utility>

#include "convnet/core/rng.h"
#include "convnet/core/tensor.h"

namespace convnet::nn::init {

/// Which fan kaiming_uniform_ and kaiming_normal_ scale by (torch's mode="fan_in" / "fan_out").
enum class FanMode { FanIn, /**< fan_in: preserves the variance of the forward pass */ FanOut /**< fan_out: preserves it in the backward pass */ };

/// The fans of a weight (as torch.nn.init._calculate_fan_in_and_fan_out).
/// \pre  `w` has at least 2 dimensions.
/// \post (fan_in, fan_out) = `(size(1) * r, size(0) * r)`, r the product of the sizes after
///       the first two (1 for a 2-D weight).
/// \throws convnet::Error naming w's shape when it has fewer than 2 dimensions.
std::pair<int64_t, int64_t> fans(const Tensor& w);  // (fan_in, fan_out)
/// The recommended gain for a nonlinearity (torch.nn.init.calculate_gain): linear, conv2d,
/// sigmoid and identity 1, tanh 5/3, relu `sqrt(2)`, leaky_relu `sqrt(2/(1+slope^2))` with
/// slope = `param`, selu 3/4.
/// \pre  `nonlinearity` is one of linear, conv2d, sigmoid, identity, tanh, relu, leaky_relu, selu.
/// \throws convnet::Error naming `nonlinearity` and the choices for any other name.
double calculate_gain(const std::string& nonlinearity, double param = 0.01);

/// While one lives on a thread, the random initializers of this namespace (uniform_,
/// normal_, trunc_normal_ and those built on them: the Xavier and Kaiming ones,
/// default_weight_init_, so every zoo model's constructor) write zeros and draw nothing from
/// their generator, as torch.nn.utils.skip_init: for a model whose every parameter and buffer
/// is about to be overwritten (a strict load of a weights file) or whose shapes alone
/// matter. Building vgg19 drops from seconds to the time of its allocations. Guards nest.
class SkipInitGuard {
 public:
  SkipInitGuard();
  ~SkipInitGuard();
  SkipInitGuard(const SkipInitGuard&) = delete;
  SkipInitGuard& operator=(const SkipInitGuard&) = delete;
};
/// Whether a SkipInitGuard lives on this thread.
bool init_skipped();

/// Fills `t` with draws from U(lo, hi) (torch.nn.init.uniform_).
/// \pre  `t` float32 on the CPU.
/// \post every element drawn from `gen` (zeros, no draw, under a SkipInitGuard).
/// \throws convnet::Error when `t` is not a float32 CPU tensor.
void uniform_(Tensor& t, double lo, double hi, Generator& gen = default_generator());
/// Fills `t` with draws from N(mean, std^2) (torch.nn.init.normal_).
/// \pre  `t` float32 on the CPU.
/// \post every element drawn from `gen` (zeros, no draw, under a SkipInitGuard).
/// \throws convnet::Error when `t` is not a float32 CPU tensor.
void normal_(Tensor& t, double mean, double std, Generator& gen = default_generator());
/// Fills `t` with `value` (torch.nn.init.constant_).
/// \pre  `t` float32 on the CPU.
/// \throws convnet::Error when `t` is not a float32 CPU tensor.
void constant_(Tensor& t, double value);
/// Fills `t` with 0 (torch.nn.init.zeros_).
/// \pre  `t` float32 on the CPU.
/// \throws convnet::Error when `t` is not a float32 CPU tensor.
void zeros_(Tensor& t);
/// Fills `t` with 1 (torch.nn.init.ones_).
/// \pre  `t` float32 on the CPU.
/// \throws convnet::Error when `t` is not a float32 CPU tensor.
void ones_(Tensor& t);
/// Xavier/Glorot uniform (torch.nn.init.xavier_uniform_):
/// U(-b, b), `b = gain * sqrt(6 / (fan_in + fan_out))`.
/// \pre  `t` float32 on the CPU, at least 2-D.
/// \throws convnet::Error when `t` has fewer than 2 dimensions or is not a float32 CPU tensor.
void xavier_uniform_(Tensor& t, double gain = 1.0, Generator& gen = default_generator());
/// Xavier/Glorot normal (torch.nn.init.xavier_normal_):
/// N(0, std^2), `std = gain * sqrt(2 / (fan_in + fan_out))`.
/// \pre  `t` float32 on the CPU, at least 2-D.
/// \throws convnet::Error when `t` has fewer than 2 dimensions or is not a float32 CPU tensor.
void xavier_normal_(Tensor& t, double gain = 1.0, Generator& gen = default_generator());
/// Kaiming/He uniform (torch.nn.init.kaiming_uniform_): U(-b, b) with
/// `std = calculate_gain(nonlinearity, a) / sqrt(fan)` and bound `b = sqrt(3) * std`; `a`
/// is the negative slope for leaky_relu, `fan` is fan_in or fan_out as `mode` says.
/// \pre  `t` float32 on the CPU, at least 2-D, with a positive fan; `nonlinearity` accepted
///       by calculate_gain.
/// \throws convnet::Error when `t` has fewer than 2 dimensions, its fan is 0, the
///       nonlinearity is unknown, or `t` is not a float32 CPU tensor.
void kaiming_uniform_(Tensor& t, double a = 0, FanMode mode = FanMode::FanIn,
                      const std::string& nonlinearity = "leaky_relu", Generator& gen = default_generator());
/// Kaiming/He normal (torch.nn.init.kaiming_normal_): N(0, std^2) with
/// `std = calculate_gain(nonlinearity, a) / sqrt(fan)`.
/// \pre  as kaiming_uniform_.
/// \throws convnet::Error as kaiming_uniform_.
void kaiming_normal_(Tensor& t, double a = 0, FanMode mode = FanMode::FanIn,
                     const std::string& nonlinearity = "leaky_relu", Generator& gen = default_generator());

/// Truncated normal (torch.nn.init.trunc_normal_): N(mean, std^2) restricted to [a, b] (a
/// and b are values, not multiples of std), drawn like PyTorch by the inverse CDF: u uniform
/// in `(Phi((a - mean)/std), Phi((b - mean)/std))`, `x = mean + std * Phi^-1(u)`, clamped to
/// [a, b]. GoogLeNet (torchvision, init_weights=True) uses std 0.01, a = -2, b = 2.
/// \pre  `t` float32 on the CPU; `std > 0`; `a < b`.
/// \post every element in [a, b], one 64-bit draw of `gen` each.
/// \throws convnet::Error when `std <= 0` or `a >= b` (naming them), or when `t` is not a
///       float32 CPU tensor.
void trunc_normal_(Tensor& t, double mean = 0.0, double std = 1.0, double a = -2.0, double b = 2.0,
                   Generator& gen = default_generator());

/// PyTorch's default for Conv2d and Linear (their reset_parameters):
/// `kaiming_uniform_(w, a = sqrt(5))`, that is U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the
/// bias from the same bound.
/// \pre  `w` float32 on the CPU, at least 2-D with fan_in > 0; `b` float32 on the CPU, or
///       undefined (then left alone).
/// \throws convnet::Error when `w` has fewer than 2 dimensions or fan_in 0, or a defined
///       tensor is not float32 on the CPU.
void default_weight_init_(Tensor& w, Tensor& b, Generator& gen = default_generator());

}  // namespace convnet::nn::init
#pragma GCC visibility pop
