#include "convnet/models/lenet.h"

#include "convnet/core/error.h"
#include "convnet/nn/layers.h"
#include "models/families.h"

namespace convnet::models {

namespace {
std::shared_ptr<nn::Sequential> build(const ModelArgs& a, bool classic) {
  const int64_t size = a.input_size > 0 ? a.input_size : (a.in_channels == 1 ? 28 : 32);
  check_model_args(a, "lenet5");
  // 28x28 (MNIST-sized) inputs are padded by 2 to the 32x32 geometry of the original network.
  const int64_t pad = size < 32 ? 2 : 0;
  const int64_t c1 = size + 2 * pad - 4;  // after conv1 (5x5)
  const int64_t s2 = c1 / 2;              // after pool
  const int64_t c3 = s2 - 4;              // after conv2 (5x5)
  const int64_t s4 = c3 / 2;
  CONVNET_CHECK(s4 >= 1, "lenet5: input size ", size, "x", size, " is too small; the smallest is 12x12");
  auto act = [&]() -> nn::ModulePtr {
    if (classic) return std::make_shared<nn::Tanh>();
    return std::make_shared<nn::ReLU>();
  };
  auto pool = [&]() -> nn::ModulePtr {
    if (classic) return std::make_shared<nn::AvgPool2d>(2);
    return std::make_shared<nn::MaxPool2d>(2);
  };
  auto net = std::make_shared<nn::Sequential>();
  net->add(std::make_shared<nn::Conv2d>(a.in_channels, 6, 5, 1, Padding(pad)));
  net->add(act());
  net->add(pool());
  net->add(std::make_shared<nn::Conv2d>(6, 16, 5));
  net->add(act());
  net->add(pool());
  net->add(std::make_shared<nn::Flatten>());
  net->add(std::make_shared<nn::Linear>(16 * s4 * s4, 120));
  net->add(act());
  net->add(std::make_shared<nn::Linear>(120, 84));
  net->add(act());
  net->add(std::make_shared<nn::Linear>(84, a.num_classes));
  return net;
}
}  // namespace

std::shared_ptr<nn::Sequential> lenet5(const ModelArgs& a) { return build(a, false); }
std::shared_ptr<nn::Sequential> lenet5_classic(const ModelArgs& a) { return build(a, true); }

void add_lenet_models(std::vector<ModelInfo>& zoo) {
  zoo.push_back({"lenet5", "LeNet-5, modern form: ReLU + max pooling (28x28 or 32x32 input)",
                 [](const ModelArgs& a) -> nn::ModulePtr { return lenet5(a); }, 12, 28, false, 1});
  zoo.push_back({"lenet5_classic", "LeNet-5, classic form: tanh + average pooling (28x28 or 32x32 input)",
                 [](const ModelArgs& a) -> nn::ModulePtr { return lenet5_classic(a); }, 12, 28, false, 1});
}

}  // namespace convnet::models
