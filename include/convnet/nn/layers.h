#pragma once
// The layers of a CNN course as modules; each forward() is one op call.
// Constructors mirror torch.nn's argument order and defaults.
#include <array>
#include <string>
#include <vector>

#include "convnet/core/rng.h"
#include "convnet/nn/module.h"
#include "convnet/ops/conv2d.h"
#include "convnet/ops/pool2d.h"

namespace convnet::nn {

// Conv2d(in, out, k) with chainable options, like torch::nn::Conv2dOptions:
//   Conv2d(Conv2dOptions(3, 64, 3).stride(2).padding(1).bias(false))
struct Conv2dOptions {
  Conv2dOptions(int64_t in, int64_t out, int64_t k) : in_channels(in), out_channels(out), kernel{k, k} {}
  Conv2dOptions(int64_t in, int64_t out, std::array<int64_t, 2> k) : in_channels(in), out_channels(out), kernel(k) {}
  Conv2dOptions& stride(int64_t s) { args.stride = {s, s}; return *this; }
  Conv2dOptions& stride(std::array<int64_t, 2> s) { args.stride = s; return *this; }
  Conv2dOptions& padding(Padding p) { args.padding = p; return *this; }
  Conv2dOptions& dilation(int64_t d) { args.dilation = {d, d}; return *this; }
  Conv2dOptions& dilation(std::array<int64_t, 2> d) { args.dilation = d; return *this; }
  Conv2dOptions& groups(int64_t g) { args.groups = g; return *this; }
  Conv2dOptions& bias(bool b) { with_bias = b; return *this; }
  int64_t in_channels, out_channels;
  std::array<int64_t, 2> kernel;
  Conv2dArgs args;
  bool with_bias = true;
};

class Conv2d : public Module {
 public:
  explicit Conv2d(const Conv2dOptions& o);
  Conv2d(int64_t in, int64_t out, int64_t k, int64_t stride = 1, Padding padding = Padding(int64_t{0}),
         int64_t dilation = 1, int64_t groups = 1, bool bias = true);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Conv2d"; }
  std::string extra_repr() const override;
  void reset_parameters(Generator& gen = default_generator());
  // Becomes a freshly initialized layer with `out_channels` outputs (a new classifier head
  // for fine-tuning); requires: groups == 1. The new weight and bias require gradients.
  void replace_output(int64_t out_channels, Generator& gen = default_generator());
  // Output channel c becomes scale[c] * (conv(x)[c]) + shift[c]: the weights are scaled in
  // place and a bias is added where there was none (BatchNorm folding, nn/fuse.h).
  void fold_affine(const std::vector<double>& scale, const std::vector<double>& shift);
  const Conv2dOptions& options() const { return opt_; }
  Tensor weight, bias;

 private:
  Conv2dOptions opt_;
};

class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, bool bias = true);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Linear"; }
  std::string extra_repr() const override;
  void reset_parameters(Generator& gen = default_generator());
  // Becomes a freshly initialized Linear(in_features, out_features) (a new classifier
  // head for fine-tuning); the new weight and bias require gradients.
  void replace_output(int64_t out_features, Generator& gen = default_generator());
  int64_t in_features, out_features;
  Tensor weight, bias;
};

// BatchNorm over (N, C) / (N, C, L) [BatchNorm1d] or (N, C, H, W) [BatchNorm2d]:
// eps 1e-5, momentum 0.1, affine weight=1 bias=0, running_mean 0, running_var 1.
class BatchNorm : public Module {
 public:
  BatchNorm(int64_t num_features, int spatial_dims, double eps = 1e-5, double momentum = 0.1, bool affine = true,
            bool track_running_stats = true);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return spatial_dims_ == 2 ? "BatchNorm2d" : "BatchNorm1d"; }
  std::string extra_repr() const override;
  int64_t num_features;
  double eps, momentum;
  Tensor weight, bias, running_mean, running_var, num_batches_tracked;
  // Folded into the convolution at `conv_path` (nn/fuse.h): an identity from now on, for
  // inference only (forward() in training mode throws).
  void mark_folded(const std::string& conv_path) { folded_into_ = conv_path; }
  bool folded() const { return !folded_into_.empty(); }

 private:
  int spatial_dims_;
  std::string folded_into_;
};
class BatchNorm1d : public BatchNorm {
 public:
  explicit BatchNorm1d(int64_t n, double eps = 1e-5, double momentum = 0.1, bool affine = true, bool track = true)
      : BatchNorm(n, 1, eps, momentum, affine, track) {}
};
class BatchNorm2d : public BatchNorm {
 public:
  explicit BatchNorm2d(int64_t n, double eps = 1e-5, double momentum = 0.1, bool affine = true, bool track = true)
      : BatchNorm(n, 2, eps, momentum, affine, track) {}
};

class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(int64_t kernel, int64_t stride = 0, int64_t padding = 0, int64_t dilation = 1,
                     bool ceil_mode = false);
  explicit MaxPool2d(const Pool2dArgs& a) : args(a) {}
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "MaxPool2d"; }
  std::string extra_repr() const override;
  Pool2dArgs args;
};

class AvgPool2d : public Module {
 public:
  explicit AvgPool2d(int64_t kernel, int64_t stride = 0, int64_t padding = 0, bool ceil_mode = false,
                     bool count_include_pad = true);
  explicit AvgPool2d(const Pool2dArgs& a) : args(a) {}
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "AvgPool2d"; }
  std::string extra_repr() const override;
  Pool2dArgs args;
};

class AdaptiveAvgPool2d : public Module {
 public:
  explicit AdaptiveAvgPool2d(std::array<int64_t, 2> output_size) : output_size(output_size) {}
  explicit AdaptiveAvgPool2d(int64_t s) : output_size{s, s} {}
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "AdaptiveAvgPool2d"; }
  std::string extra_repr() const override;
  std::array<int64_t, 2> output_size;
};

// Global pooling: (N, C, H, W) -> (N, C, 1, 1).
class GlobalAvgPool2d : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "GlobalAvgPool2d"; }
};
class GlobalMaxPool2d : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "GlobalMaxPool2d"; }
};

// Dropout (elementwise) and Dropout2d (whole channels); inverted scaling, identity in eval.
class Dropout : public Module {
 public:
  explicit Dropout(double p = 0.5, Generator* gen = nullptr);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Dropout"; }
  std::string extra_repr() const override;
  double p;

 private:
  Generator* gen_;
};
class Dropout2d : public Module {
 public:
  explicit Dropout2d(double p = 0.5, Generator* gen = nullptr);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Dropout2d"; }
  std::string extra_repr() const override;
  double p;

 private:
  Generator* gen_;
};

class ReLU : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "ReLU"; }
};
// ReLU6: min(max(x, 0), 6), MobileNetV2's activation (torch.nn.ReLU6).
class ReLU6 : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "ReLU6"; }
};
class LeakyReLU : public Module {
 public:
  explicit LeakyReLU(double negative_slope = 0.01) : negative_slope(negative_slope) {}
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "LeakyReLU"; }
  std::string extra_repr() const override;
  double negative_slope;
};
class Tanh : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Tanh"; }
};
class Sigmoid : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Sigmoid"; }
};
class Identity : public Module {
 public:
  Tensor forward(const Tensor& x) override { return x; }
  std::string type_name() const override { return "Identity"; }
};
// Flatten(start_dim = 1): (N, C, H, W) -> (N, C*H*W).
class Flatten : public Module {
 public:
  explicit Flatten(int64_t start_dim = 1) : start_dim(start_dim) {}
  Tensor forward(const Tensor& x) override { return x.flatten(start_dim); }
  std::string type_name() const override { return "Flatten"; }
  int64_t start_dim;
};
class Softmax : public Module {
 public:
  explicit Softmax(int64_t dim = 1) : dim(dim) {}
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Softmax"; }
  int64_t dim;
};
class LogSoftmax : public Module {
 public:
  explicit LogSoftmax(int64_t dim = 1) : dim(dim) {}
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "LogSoftmax"; }
  int64_t dim;
};

}  // namespace convnet::nn
