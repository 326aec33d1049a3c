// finetune: transfer learning from torchvision-named weights. Loads a zoo model's pretrained
// weights (a safetensors file with torchvision's state_dict names, e.g. converted from a
// torchvision .pth, or a convnet checkpoint), replaces the classifier head by one for the
// classes of IMAGE_DIR, freezes the body, and trains the head.
//
//   finetune MODEL WEIGHTS.safetensors IMAGE_DIR [EPOCHS] [IMAGE_SIZE] [OUT.safetensors]
//
// MODEL is a zoo name (`convnet models`: resnet18, mobilenet_v2, lenet5, ...). IMAGE_DIR has
// one sub-directory per class. IMAGE_SIZE defaults to the model's natural input size.
#include <convnet/convnet.h>

#include <cstdio>
#include <cstdlib>
#include <string>

using namespace convnet;

int main(int argc, char** argv) try {
  if (argc < 4) {
    std::fprintf(stderr, "usage: finetune MODEL WEIGHTS.safetensors IMAGE_DIR [EPOCHS] [IMAGE_SIZE] [OUT.safetensors]\n");
    return 2;
  }
  const std::string model = argv[1], weights = argv[2], dir = argv[3];
  const int64_t epochs = argc > 4 ? std::atoll(argv[4]) : 5;
  const models::ModelInfo& info = models::info(model);
  const int64_t size = argc > 5 ? std::atoll(argv[5]) : info.default_input_size;
  const std::string out = argc > 6 ? argv[6] : "finetuned.safetensors";

  // The pretrained network's shape comes from the file: its input channels from the first
  // convolution's weight, its classes from the head's.
  const io::SafeTensors st = io::load_safetensors(weights);
  models::ModelArgs args{.num_classes = 1, .in_channels = 3, .input_size = size};
  {
    auto probe = models::create(model, args);
    for (const auto& [name, t] : probe->state_dict())
      if (t.dim() == 4 && st.tensors.count(name)) {
        args.in_channels = st.tensors.at(name).size(1);
        break;
      }
    const std::string head = train::find_head(*probe, 1) + ".weight";
    CONVNET_CHECK(st.tensors.count(head), "'", weights, "' has no tensor '", head, "': not ", model, " weights");
    args.num_classes = st.tensors.at(head).size(0);
  }
  auto net = models::create(model, args);
  io::load_state_dict(*net, st, /*strict=*/true, weights);  // every name, shape and dtype must match

  // The new task: a folder of images, converted to the model's channels and input size.
  data::DatasetSpec spec;
  spec.kind = "folder";
  spec.dir = dir;
  spec.image_size = size;
  spec.grayscale = args.in_channels == 1;
  data::Dataset images = data::load_dataset(spec, true);
  const int64_t classes = static_cast<int64_t>(images.class_names.size());
  const data::ChannelStats stats = data::channel_stats(images);
  data::normalize(images, stats.mean, stats.std);

  // New head, frozen body: only the head's parameters train; frozen BatchNorms keep their
  // running statistics.
  const std::string head = train::find_head(*net, args.num_classes);
  train::replace_head(*net, head, classes);
  const train::FreezePlan plan = train::apply_freezing(*net, head, /*train_last=*/0, {}, "frozen");
  std::printf("%s from %s (%lld classes) -> %lld classes of %s\n%s\n", model.c_str(), weights.c_str(),
              (long long)args.num_classes, (long long)classes, dir.c_str(), plan.describe().c_str());

  optim::SGD opt(net->trainable_parameters(), {.lr = 0.01, .momentum = 0.9});
  data::DataLoader loader(images, /*batch_size=*/16, /*shuffle=*/true, /*seed=*/0);
  for (int64_t epoch = 1; epoch <= epochs; ++epoch) {
    net->train();
    train::keep_frozen_bn_in_eval(*net, plan);
    loader.start_epoch(epoch);
    data::Batch b;
    while (loader.next(b)) {
      Tensor loss = ops::cross_entropy((*net)(b.x), b.y);
      opt.zero_grad();
      loss.backward();
      opt.step();
    }
    std::printf("epoch %lld: training-set accuracy %.2f%%\n", (long long)epoch, 100 * train::evaluate(*net, images));
  }
  io::save_weights(*net, out);
  std::printf("wrote %s (%s with %lld classes)\n", out.c_str(), model.c_str(), (long long)classes);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "finetune: %s\n", e.what());
  return 1;
}
