// custom_model: a small residual network defined in user code as a convnet::nn::Module
// subclass, trained on a folder of images with augmentation, then exported to ONNX.
//
//   custom_model IMAGE_DIR [OUT.onnx] [EPOCHS] [IMAGE_SIZE]
//
// IMAGE_DIR has one sub-directory per class (IMAGE_DIR/cat/*.png, IMAGE_DIR/dog/*.jpg, ...),
// as torchvision's ImageFolder. Images are resized to IMAGE_SIZE (default 32), RGB.
#include <convnet/convnet.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

using namespace convnet;

// conv-bn-relu-conv-bn, plus the input (through a 1x1 projection when the shape changes).
class ResidualBlock : public nn::Module {
 public:
  ResidualBlock(int64_t in, int64_t out, int64_t stride) {
    conv1_ = register_module("conv1", std::make_shared<nn::Conv2d>(nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false)));
    bn1_ = register_module("bn1", std::make_shared<nn::BatchNorm2d>(out));
    conv2_ = register_module("conv2", std::make_shared<nn::Conv2d>(nn::Conv2dOptions(out, out, 3).padding(1).bias(false)));
    bn2_ = register_module("bn2", std::make_shared<nn::BatchNorm2d>(out));
    if (stride != 1 || in != out) {
      proj_ = register_module("proj", std::make_shared<nn::Conv2d>(nn::Conv2dOptions(in, out, 1).stride(stride).bias(false)));
      proj_bn_ = register_module("proj_bn", std::make_shared<nn::BatchNorm2d>(out));
    }
  }
  Tensor forward(const Tensor& x) override {
    Tensor y = ops::relu((*bn1_)((*conv1_)(x)));
    y = (*bn2_)((*conv2_)(y));
    const Tensor shortcut = proj_ ? (*proj_bn_)((*proj_)(x)) : x;
    return ops::relu(y + shortcut);
  }
  std::string type_name() const override { return "ResidualBlock"; }

 private:
  std::shared_ptr<nn::Conv2d> conv1_, conv2_, proj_;
  std::shared_ptr<nn::BatchNorm2d> bn1_, bn2_, proj_bn_;
};

// stem, three residual stages (16, 32, 64 channels), global average pool, linear head.
class TinyResNet : public nn::Module {
 public:
  explicit TinyResNet(int64_t num_classes) {
    stem_ = register_module("stem", std::make_shared<nn::Conv2d>(nn::Conv2dOptions(3, 16, 3).padding(1)));
    stage1_ = register_module("stage1", std::make_shared<ResidualBlock>(16, 16, 1));
    stage2_ = register_module("stage2", std::make_shared<ResidualBlock>(16, 32, 2));
    stage3_ = register_module("stage3", std::make_shared<ResidualBlock>(32, 64, 2));
    pool_ = register_module("pool", std::make_shared<nn::GlobalAvgPool2d>());
    flatten_ = register_module("flatten", std::make_shared<nn::Flatten>());
    fc_ = register_module("fc", std::make_shared<nn::Linear>(64, num_classes));
  }
  Tensor forward(const Tensor& x) override {
    Tensor y = ops::relu((*stem_)(x));
    y = (*stage3_)((*stage2_)((*stage1_)(y)));
    return (*fc_)((*flatten_)((*pool_)(y)));
  }
  std::string type_name() const override { return "TinyResNet"; }

 private:
  std::shared_ptr<nn::Conv2d> stem_;
  std::shared_ptr<ResidualBlock> stage1_, stage2_, stage3_;
  std::shared_ptr<nn::GlobalAvgPool2d> pool_;
  std::shared_ptr<nn::Flatten> flatten_;
  std::shared_ptr<nn::Linear> fc_;
};

int main(int argc, char** argv) try {
  if (argc < 2) {
    std::fprintf(stderr, "usage: custom_model IMAGE_DIR [OUT.onnx] [EPOCHS] [IMAGE_SIZE]\n");
    return 2;
  }
  const std::string dir = argv[1];
  const std::string out = argc > 2 ? argv[2] : "tiny_resnet.onnx";
  const int64_t epochs = argc > 3 ? std::atoll(argv[3]) : 10;
  const int64_t size = argc > 4 ? std::atoll(argv[4]) : 32;

  std::vector<std::string> warnings;  // files that are not images are skipped and named here
  data::DatasetSpec spec;
  spec.kind = "folder";
  spec.dir = dir;
  spec.image_size = size;  // resized to size x size, RGB
  data::Dataset images = data::load_dataset(spec, true, &warnings);
  for (const auto& w : warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  const data::ChannelStats stats = data::channel_stats(images);
  auto [train, val] = data::train_val_split(images, 0.2, /*seed=*/0);
  data::normalize(val, stats.mean, stats.std);
  std::printf("%lld images of %zu classes in %s (%lld for validation)\n", (long long)images.size(),
              images.class_names.size(), dir.c_str(), (long long)val.size());

  // Augmentation: random 4-pixel shifted crops and horizontal flips, then normalization.
  data::LoaderOptions lo;
  lo.batch_size = 32;
  lo.augment = data::Augment::parse("crop:4,flip");
  lo.mean = stats.mean;
  lo.std = stats.std;
  data::DataLoader loader(train, lo);

  manual_seed(0);
  TinyResNet net(static_cast<int64_t>(images.class_names.size()));
  optim::Adam opt(net.parameters(), {.lr = 3e-3});
  for (int64_t epoch = 1; epoch <= epochs; ++epoch) {
    net.train();
    loader.start_epoch(epoch);
    data::Batch b;
    double total = 0;
    int64_t steps = 0;
    while (loader.next(b)) {
      Tensor loss = ops::cross_entropy(net(b.x), b.y);
      opt.zero_grad();
      loss.backward();
      opt.step();
      total += loss.item(), ++steps;
    }
    std::printf("epoch %lld: train loss %.4f, validation accuracy %.2f%%\n", (long long)epoch,
                total / std::max<int64_t>(steps, 1), 100 * train::evaluate(net, val));
  }
  net.eval();
  io::export_onnx(net, {1, 3, size, size}, out);
  std::printf("wrote %s (%lld parameters); run it with `convnet infer --onnx %s` or ONNX Runtime\n", out.c_str(),
              (long long)net.num_parameters(), out.c_str());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "custom_model: %s\n", e.what());
  return 1;
}
