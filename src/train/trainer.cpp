#include "convnet/train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>

#include "convnet/autograd/autograd.h"
#include "convnet/core/error.h"
#include "convnet/core/rng.h"
#include "convnet/core/threads.h"
#include "convnet/data/dataloader.h"
#include "convnet/data/idx.h"
#include "convnet/models/registry.h"
#include "convnet/ops/loss.h"
#include "convnet/optim/adam.h"
#include "convnet/optim/lr_scheduler.h"
#include "convnet/optim/sgd.h"

namespace convnet::train {

namespace {
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

int64_t correct_count(const Tensor& logits, const std::vector<int64_t>& y) {
  const int64_t N = logits.size(0), K = logits.size(1);
  const float* p = logits.data();
  int64_t correct = 0;
  for (int64_t n = 0; n < N; ++n) {
    int64_t best = 0;
    for (int64_t k = 1; k < K; ++k)
      if (p[n * K + k] > p[n * K + best]) best = k;
    correct += best == y[n];
  }
  return correct;
}

std::unique_ptr<optim::Optimizer> make_optimizer(const TrainConfig& c, std::vector<Tensor> params) {
  if (c.optimizer == "sgd") {
    optim::SGDOptions o;
    o.lr = c.lr, o.momentum = c.momentum, o.nesterov = c.nesterov && c.momentum > 0, o.weight_decay = c.weight_decay;
    return std::make_unique<optim::SGD>(std::move(params), o);
  }
  optim::AdamOptions o;
  o.lr = c.lr, o.weight_decay = c.weight_decay;
  if (c.optimizer == "adam") return std::make_unique<optim::Adam>(std::move(params), o);
  return std::make_unique<optim::AdamW>(std::move(params), o);
}

// Schedules step once per optimizer step; epoch-based ones are expressed in steps.
std::unique_ptr<optim::LRScheduler> make_schedule(const TrainConfig& c, optim::Optimizer& opt, int64_t steps_per_epoch) {
  const int64_t total = c.epochs * steps_per_epoch;
  if (c.schedule == "onecycle") return std::make_unique<optim::OneCycleLR>(opt, c.lr, total, c.pct_start);
  if (c.schedule == "cosine") return std::make_unique<optim::CosineAnnealingLR>(opt, total);
  if (c.schedule == "step") {
    const int64_t every = c.step_size > 0 ? c.step_size : std::max<int64_t>(1, c.epochs / 3);
    return std::make_unique<optim::StepLR>(opt, every * steps_per_epoch, c.gamma);
  }
  if (c.schedule == "multistep") {
    std::vector<int64_t> m;
    for (int64_t e : c.milestones) m.push_back(e * steps_per_epoch);
    return std::make_unique<optim::MultiStepLR>(opt, m, c.gamma);
  }
  return nullptr;  // constant
}
}  // namespace

void validate(const TrainConfig& c) {
  models::create(c.model, {});  // throws with the list of known models
  CONVNET_CHECK(c.optimizer == "sgd" || c.optimizer == "adam" || c.optimizer == "adamw", "unknown optimizer '",
                c.optimizer, "'; choose sgd, adam or adamw");
  CONVNET_CHECK(c.schedule == "constant" || c.schedule == "step" || c.schedule == "multistep" ||
                    c.schedule == "cosine" || c.schedule == "onecycle",
                "unknown schedule '", c.schedule, "'; choose constant, step, multistep, cosine or onecycle");
  CONVNET_CHECK(c.epochs >= 1, "epochs must be at least 1, got ", c.epochs);
  CONVNET_CHECK(c.batch_size >= 1, "batch size must be at least 1, got ", c.batch_size);
  CONVNET_CHECK(c.lr > 0, "learning rate must be positive, got ", c.lr);
  CONVNET_CHECK(c.momentum >= 0 && c.momentum < 1, "momentum must be in [0, 1), got ", c.momentum);
  CONVNET_CHECK(c.weight_decay >= 0, "weight decay must be non-negative, got ", c.weight_decay);
  CONVNET_CHECK(c.threads >= 0, "threads must be non-negative (0 = all cores), got ", c.threads);
  CONVNET_CHECK(c.schedule != "multistep" || !c.milestones.empty(), "schedule multistep needs --milestones");
}

double evaluate(nn::Module& model, const data::Dataset& d, int64_t batch_size) {
  NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  data::DataLoader loader(d, batch_size, false);
  loader.start_epoch(0);
  data::Batch b;
  int64_t correct = 0;
  while (loader.next(b)) correct += correct_count(model(b.x), b.y);
  model.train(was_training);
  return d.size() ? static_cast<double>(correct) / static_cast<double>(d.size()) : 0.0;
}

TrainResult train(const TrainConfig& c, const Callbacks& cb) {
  validate(c);
  if (c.threads > 0) set_num_threads(c.threads);
  manual_seed(c.seed);
  const auto t0 = Clock::now();

  data::Dataset train_set = data::load_fashion_mnist(c.data_dir, true);
  data::Dataset test_set = data::load_fashion_mnist(c.data_dir, false);
  if (c.limit_train > 0 && c.limit_train < train_set.size()) {
    const int64_t n = c.limit_train, per = train_set.images.numel() / train_set.size();
    Tensor imgs = Tensor::empty({n, train_set.images.size(1), train_set.images.size(2), train_set.images.size(3)});
    std::copy(train_set.images.data(), train_set.images.data() + n * per, imgs.data());
    train_set.images = imgs;
    train_set.labels.resize(n);
  }
  // The statistics of the Fashion-MNIST training set, as in the PyTorch peer.
  data::normalize(train_set, {0.2860f}, {0.3530f});
  data::normalize(test_set, {0.2860f}, {0.3530f});

  models::ModelArgs margs;
  margs.num_classes = static_cast<int64_t>(train_set.class_names.empty() ? 10 : train_set.class_names.size());
  margs.in_channels = train_set.images.size(1);
  margs.input_size = train_set.images.size(2);
  nn::ModulePtr model = models::create(c.model, margs);
  auto opt = make_optimizer(c, model->trainable_parameters());
  data::DataLoader loader(train_set, c.batch_size, true, c.seed, false);
  const int64_t steps = loader.num_batches();
  auto sched = make_schedule(c, *opt, steps);

  double test_acc = 0;
  for (int64_t epoch = 1; epoch <= c.epochs; ++epoch) {
    const auto te = Clock::now();
    model->train();
    loader.start_epoch(epoch - 1);
    data::Batch b;
    double loss_sum = 0;
    int64_t seen = 0, correct = 0, step = 0;
    const double lr_epoch = opt->lr();
    while (loader.next(b)) {
      opt->zero_grad();
      Tensor logits = (*model)(b.x);
      Tensor loss = ops::cross_entropy(logits, b.y);
      loss.backward();
      opt->step();
      if (sched) sched->step();
      const int64_t n = b.x.size(0);
      const double l = loss.item();
      CONVNET_CHECK(std::isfinite(l), "training diverged: loss is ", l, " at epoch ", epoch, " step ", step + 1,
                    "; lower the learning rate (--lr)");
      loss_sum += l * n;
      seen += n;
      correct += correct_count(logits, b.y);
      ++step;
      if (cb.on_step) cb.on_step({epoch, step, steps, l, opt->lr(), seen / seconds_since(te)});
    }
    const double train_secs = seconds_since(te);
    test_acc = evaluate(*model, test_set, c.eval_batch_size);
    if (cb.on_epoch)
      cb.on_epoch({epoch, loss_sum / seen, static_cast<double>(correct) / seen, test_acc, lr_epoch,
                   seconds_since(te), seen / train_secs});
  }
  return {test_acc, seconds_since(t0), model};
}

}  // namespace convnet::train
