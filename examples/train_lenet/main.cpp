// train_lenet: trains LeNet-5 on Fashion-MNIST with the convnet library (no CLI), then saves
// a checkpoint that `convnet eval`, `convnet predict` and the classify example read.
//
//   train_lenet [DATA_DIR] [OUT.safetensors] [EPOCHS] [MAX_STEPS_PER_EPOCH]
//
// DATA_DIR holds the four Fashion-MNIST (or MNIST) idx files; the default is Debian's
// dataset-fashion-mnist (/usr/share/datasets/fashion-mnist). MAX_STEPS_PER_EPOCH (0 = all)
// makes a short smoke run.
#include <convnet/convnet.h>

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) try {
  const std::string dir = argc > 1 ? argv[1] : "/usr/share/datasets/fashion-mnist";
  const std::string out = argc > 2 ? argv[2] : "lenet5.safetensors";
  const int64_t epochs = argc > 3 ? std::atoll(argv[3]) : 3;
  const int64_t max_steps = argc > 4 ? std::atoll(argv[4]) : 0;

  // The data: (N, 1, 28, 28) images in [0, 1] and their labels, normalized as in training.
  const std::vector<float> mean{0.2860f}, std{0.3530f};
  convnet::data::DatasetSpec spec;  // kind "fashion-mnist": the four idx files in spec.dir
  spec.dir = dir;
  convnet::data::Dataset train = convnet::data::load_dataset(spec, /*train=*/true);
  convnet::data::Dataset test = convnet::data::load_dataset(spec, /*train=*/false);
  convnet::data::normalize(train, mean, std);
  convnet::data::normalize(test, mean, std);
  convnet::data::DataLoader loader(train, /*batch_size=*/128, /*shuffle=*/true, /*seed=*/0);
  std::printf("convnet %s: %lld training and %lld test images from %s\n", convnet::version(),
              (long long)train.size(), (long long)test.size(), dir.c_str());

  // [readme]
  convnet::manual_seed(0);
  auto net = convnet::models::lenet5({.num_classes = 10, .in_channels = 1, .input_size = 28});
  convnet::optim::SGD opt(net->parameters(), {.lr = 0.05, .momentum = 0.9, .nesterov = true});
  for (int64_t epoch = 1; epoch <= epochs; ++epoch) {
    net->train();
    loader.start_epoch(epoch);
    convnet::data::Batch batch;
    for (int64_t step = 0; loader.next(batch) && (max_steps == 0 || step < max_steps); ++step) {
      convnet::Tensor logits = (*net)(batch.x);  // batch.x: (N, 1, 28, 28)
      convnet::Tensor loss = convnet::ops::cross_entropy(logits, batch.y);
      opt.zero_grad();
      loss.backward();
      opt.step();
    }
    std::printf("epoch %lld: test accuracy %.2f%%\n", (long long)epoch, 100 * convnet::train::evaluate(*net, test));
  }
  // [/readme]

  // A checkpoint: the weights plus what a reader needs to rebuild the model and preprocess
  // an image (model name and arguments, class names, normalization).
  convnet::train::Checkpoint ck;
  ck.config.model.model = "lenet5";
  ck.model_args = {.num_classes = 10, .in_channels = 1, .input_size = 28};
  ck.class_names = train.class_names;
  ck.mean = mean;
  ck.std = std;
  ck.epoch = epochs;
  ck.weights = net->state_dict();
  convnet::train::save_checkpoint(out, ck, /*with_train_state=*/false);
  std::printf("wrote %s\n", out.c_str());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "train_lenet: %s\n", e.what());
  return 1;
}
