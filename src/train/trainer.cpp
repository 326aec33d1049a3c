#include "convnet/train/trainer.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <set>
#include <thread>

#include "convnet/autograd/autograd.h"
#include "convnet/core/error.h"
#include "convnet/core/rng.h"
#include "convnet/core/threads.h"
#include "convnet/data/dataloader.h"
#include "convnet/data/datasets.h"
#include "convnet/dist/data_parallel.h"
#include "convnet/models/registry.h"
#include "convnet/nn/layers.h"
#include "convnet/ops/autocast.h"
#include "convnet/ops/loss.h"
#include "convnet/optim/adam.h"
#include "convnet/optim/grad_scaler.h"
#include "convnet/optim/lr_scheduler.h"
#include "convnet/optim/sgd.h"
#include "convnet/train/checkpoint.h"
#include "convnet/train/finetune.h"
#include "convnet/train/metrics.h"
#include "convnet/train/plot_svg.h"
#include "data_parallel.h"
#include "json_io.h"
#include "kernels/elementwise.h"
#include "kernels/vector.h"
#include "ops/checks.h"

namespace convnet::train {

namespace fs = std::filesystem;

namespace {
using Clock = std::chrono::steady_clock;

std::string num_str(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%g", v);
  return b;
}

// --loss-scale: auto (dynamic for fp16, none otherwise), dynamic, none, or a static scale.
std::optional<optim::GradScaler> make_scaler(const TrainConfig& c, DType compute) {
  const std::string& s = c.compute.loss_scale;
  if (s == "none" || (s == "auto" && compute != DType::float16)) return std::nullopt;
  if (s == "auto" || s == "dynamic") return optim::GradScaler();
  optim::GradScalerOptions o;
  o.dynamic = false;
  o.init_scale = std::stod(s);  // validate() checked it
  return optim::GradScaler(o);
}
double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

int64_t correct_count(const Tensor& logits_any, const std::vector<int64_t>& y) {
  const Tensor logits = logits_any.detach().to(DType::float32);  // bf16 / fp16 logits under autocast
  int64_t correct = 0;
  if (!logits.device().is_cpu()) {  // on a GPU: the labels go there, the count comes back
    Tensor labels = Tensor::empty({static_cast<int64_t>(y.size())}, DType::int64);
    std::copy(y.begin(), y.end(), labels.data_as<int64_t>());
    labels = labels.to(logits.device());
    kernels::keys::count_correct(logits.size(0), logits.size(1), logits.raw_data(), labels.stored_as<int64_t>(),
                                 &correct);
    return correct;
  }
  kernels::keys::count_correct(logits.size(0), logits.size(1), logits.data(), y.data(), &correct);
  return correct;
}

std::unique_ptr<optim::Optimizer> make_optimizer(const TrainConfig& c, std::vector<Tensor> params) {
  if (c.optim.optimizer == "sgd") {
    optim::SGDOptions o;
    o.lr = c.optim.lr, o.momentum = c.optim.momentum, o.nesterov = c.optim.nesterov && c.optim.momentum > 0,
    o.weight_decay = c.optim.weight_decay;
    return std::make_unique<optim::SGD>(std::move(params), o);
  }
  optim::AdamOptions o;
  o.lr = c.optim.lr, o.weight_decay = c.optim.weight_decay;
  if (c.optim.optimizer == "adam") return std::make_unique<optim::Adam>(std::move(params), o);
  return std::make_unique<optim::AdamW>(std::move(params), o);
}

// Schedules step once per optimizer step; epoch-based ones are expressed in steps. With a
// warmup of w epochs, the chosen schedule runs over the remaining epochs on its own clock
// (LinearWarmup), as SequentialLR([LinearLR, schedule]) does in PyTorch.
std::unique_ptr<optim::LRScheduler> make_schedule(const TrainConfig& c, optim::Optimizer& opt,
                                                  int64_t steps_per_epoch) {
  const int64_t epochs = std::max<int64_t>(1, c.optim.epochs - c.sched.warmup);
  const int64_t total = epochs * steps_per_epoch;
  std::unique_ptr<optim::LRScheduler> s;
  if (c.sched.schedule == "onecycle") {
    s = std::make_unique<optim::OneCycleLR>(opt, c.optim.lr, total, c.sched.pct_start);
  } else if (c.sched.schedule == "cosine") {
    s = std::make_unique<optim::CosineAnnealingLR>(opt, total);
  } else if (c.sched.schedule == "step") {
    const int64_t every = c.sched.step_size > 0 ? c.sched.step_size : std::max<int64_t>(1, epochs / 3);
    s = std::make_unique<optim::StepLR>(opt, every * steps_per_epoch, c.sched.gamma);
  } else if (c.sched.schedule == "multistep") {
    std::vector<int64_t> m;
    for (int64_t e : c.sched.milestones) m.push_back(std::max<int64_t>(0, e - c.sched.warmup) * steps_per_epoch);
    s = std::make_unique<optim::MultiStepLR>(opt, m, c.sched.gamma);
  }
  if (c.sched.warmup > 0)
    s = std::make_unique<optim::LinearWarmup>(opt, c.sched.warmup * steps_per_epoch, std::move(s));
  return s;  // null: constant
}

// The data of a run: the training set stays in [0, 1] (the loader augments, then
// normalizes); validation and test sets are normalized once.
struct RunData {
  data::Dataset train, val, test;
  bool val_is_test = true, has_test = true;
  int64_t test_total = 0;  // before --limit-test
  std::vector<float> mean, std;
};

// The first n images of d (--limit-train, --limit-test); all of them for n = 0.
data::Dataset first_images(data::Dataset d, int64_t n) {
  if (n <= 0 || n >= d.size()) return d;
  std::vector<int64_t> first(static_cast<size_t>(n));
  std::iota(first.begin(), first.end(), int64_t{0});
  return data::select(d, first);
}

// `stats`: the normalization to use (a resumed run's, from its checkpoint), or null to take
// the dataset's.
RunData load_run_data(const TrainConfig& c, const data::ChannelStats* stats,
                      const std::function<void(const std::string&)>& info) {
  data::DatasetSpec spec;
  spec.kind = c.data.dataset;
  spec.dir = c.data.data_dir;
  spec.image_size = c.data.image_size;
  spec.resize_mode = c.data.resize_mode;
  spec.grayscale = c.data.grayscale;
  spec.classes = c.data.classes;
  std::vector<std::string> warnings;
  RunData d;
  d.train = data::load_dataset(spec, true, &warnings);
  d.train = first_images(std::move(d.train), c.data.limit_train);
  if (c.data.per_class > 0) {
    // A small labelled set (fine-tuning studies), drawn by a generator of its own so the
    // choice depends on the seed only.
    d.train = data::per_class_subset(d.train, c.data.per_class, c.compute.seed ^ 0x9e3779b97f4a7c15ull);
    info("training on " + std::to_string(d.train.size()) + " images: " + std::to_string(c.data.per_class) +
         " per class (--per-class, seed " + std::to_string(c.compute.seed) + ")");
  }
  try {
    d.test = data::load_dataset(spec, false, &warnings);
    d.test_total = d.test.size();
    d.test = first_images(std::move(d.test), c.data.limit_test);
  } catch (const Error& e) {
    // A folder dataset may come without a test split; a held-out validation split then
    // stands in for it. Without one there is nothing to validate on.
    if (c.data.val_split <= 0) throw;
    d.has_test = false;
    info(std::string("no test split (") + e.what() + "); reporting the validation split only");
  }
  for (const auto& w : warnings) info("warning: " + w);
  if (c.data.val_split > 0) {
    auto [tr, va] = data::train_val_split(d.train, c.data.val_split, c.compute.seed);
    d.train = std::move(tr);
    d.val = std::move(va);
    d.val_is_test = false;
    char frac[32];
    std::snprintf(frac, sizeof frac, "%g", c.data.val_split);
    info("validation: " + std::to_string(d.val.size()) + " images held out of the training set (--val-split " + frac +
         ", stratified, seed " + std::to_string(c.compute.seed) + "); training on " + std::to_string(d.train.size()));
  } else {
    info("validation: the test set (" + std::to_string(d.test.size()) +
         " images); --val-split F holds out part of the training set instead");
  }
  if (stats) {
    d.mean = stats->mean, d.std = stats->std;
  } else if (c.data.dataset == "fashion-mnist") {
    // The statistics of the Fashion-MNIST training set, as in the PyTorch peer.
    d.mean = {0.2860f}, d.std = {0.3530f};
  } else {
    const auto st = data::channel_stats(d.train);
    d.mean = st.mean, d.std = st.std;
  }
  if (d.has_test) data::normalize(d.test, d.mean, d.std);
  if (d.val_is_test)
    d.val = d.test;
  else
    data::normalize(d.val, d.mean, d.std);
  return d;
}

std::string default_run_dir(const std::string& model) {
  const std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&now));
  const std::string base = (fs::path("runs") / (model + "-" + stamp)).string();
  std::string dir = base;
  for (int i = 2; fs::exists(dir); ++i) dir = base + "-" + std::to_string(i);
  return dir;
}

void copy_state(nn::Module& dst, const nn::Module& src) {
  auto d = dst.state_dict();
  for (const auto& [k, t] : src.state_dict()) d.at(k).copy_(t);
}

bool all_finite(const nn::Module& m) {
  for (const auto& [name, t] : m.state_dict()) {
    if (t.dtype() != DType::float32) continue;  // integer buffers (counters) are always finite
    double s = 0;  // float32 squares cannot overflow a double: not finite means NaN or Inf
    kernels::keys::sum_squares(t.numel(), ops::kdata(t), &s);
    if (!std::isfinite(s)) return false;
  }
  return true;
}

// Test hooks (docs/formats.md), to exercise the divergence guard: "<epoch>:<step>" in
// CONVNET_TEST_NAN_AT poisons a weight with NaN before that step (so the loss is NaN), in
// CONVNET_TEST_INF_GRAD_AT sets one gradient element to Inf after that step's backward
// (the loss stays finite).
bool at_step_hook(const char* env, int64_t epoch, int64_t step) {
  const char* e = std::getenv(env);
  long long ep = 0, st = 0;
  return e && std::sscanf(e, "%lld:%lld", &ep, &st) == 2 && ep == epoch && st == step;
}

// Test hook: CONVNET_TEST_STEP_DELAY_MS=<ms> sleeps after every training step, so that a
// test can kill a run inside an epoch however fast the machine is. Timing only: the
// results do not change.
void step_delay_hook() {
  static const int ms = [] {
    const char* e = std::getenv("CONVNET_TEST_STEP_DELAY_MS");
    return e ? std::atoi(e) : 0;
  }();
  if (ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

}  // namespace

namespace {
std::atomic<bool> g_stop{false};  // request_stop(): lock-free, so signal handlers may set it
static_assert(std::atomic<bool>::is_always_lock_free);
}  // namespace

void request_stop() noexcept {
  g_stop.store(true, std::memory_order_relaxed);
}
bool stop_requested() noexcept {
  return g_stop.load(std::memory_order_relaxed);
}
void clear_stop_request() noexcept {
  g_stop.store(false, std::memory_order_relaxed);
}

double evaluate(nn::Module& model, const data::Dataset& d, int64_t batch_size) {
  return evaluate_full(model, d, batch_size, false).top1;
}

namespace {
TrainResult train_run(const TrainConfig& cfg, const Callbacks& cb) {
  TrainConfig c = cfg;
  validate(c);
  if (c.compute.threads > 0) set_num_threads(c.compute.threads);
  // Data parallelism (docs/distributed.md): under mpirun every rank runs this function on its
  // shard of each global batch; rank 0 alone writes and reports.
  dist::set_timeout(c.compute.dist_timeout);
  dist::ProcessGroup& pg = dist::world();
  const bool dp = dist::launched();
  const int world = pg.size(), rank = pg.rank();
  const bool lead = rank == 0;
  auto info = [&](const std::string& s) {
    if (lead && cb.on_info) cb.on_info(s);
  };
  if (const char* dir = std::getenv("CONVNET_TEST_PID_DIR")) {
    // Test hook: each rank's process id, so that a test can kill one rank.
    if (std::FILE* f = std::fopen((fs::path(dir) / ("rank" + std::to_string(rank) + ".pid")).c_str(), "w")) {
      std::fprintf(f, "%ld\n", static_cast<long>(getpid()));
      std::fclose(f);
    }
  }
  if (dp) {
    check_same_config(pg, c);
    info("data parallel: " + std::to_string(world) + " ranks (" + pg.backend() + "), batch " +
         std::to_string(c.optim.batch_size) + " per rank, global batch " + std::to_string(c.optim.batch_size * world));
  }
  if (c.compute.lr_scale == "linear" && world > 1) {
    const double base = c.optim.lr;
    c.optim.lr *= world;
    info("--lr-scale linear: learning rate " + num_str(base) + " x " + std::to_string(world) + " ranks = " +
         num_str(c.optim.lr) + (c.sched.warmup > 0 ? "" : " (a --warmup of a few epochs is advised at large scale)"));
  }
  const auto t0 = Clock::now();
  // The compute precision of the forward passes (ops/autocast.h); weights, optimizer state
  // and checkpoints stay float32.
  const DType compute = parse_precision(c.compute.precision);
  if (const std::string w = precision_note(compute); !w.empty()) info(w);

  std::optional<Checkpoint> ck;
  if (!c.ckpt.resume.empty()) {
    ck = load_checkpoint(c.ckpt.resume);
    CONVNET_CHECK(ck->has_train_state, "checkpoint '", ck->path,
                  "' holds weights only (as best.safetensors does); resume from the run's ", kLastCheckpoint);
    CONVNET_CHECK(ck->config.model.model == c.model.model, "checkpoint '", ck->path, "' was trained with model '",
                  ck->config.model.model, "', not '", c.model.model, "'; it cannot be resumed as another model");
  }

  std::optional<data::ChannelStats> stats;
  if (ck) stats = data::ChannelStats{ck->mean, ck->std};
  RunData d = load_run_data(c, stats ? &*stats : nullptr, info);
  models::ModelArgs margs;
  margs.num_classes = static_cast<int64_t>(d.train.class_names.size());
  if (margs.num_classes == 0)
    margs.num_classes = d.train.size() ? *std::max_element(d.train.labels.begin(), d.train.labels.end()) + 1 : 1;
  CONVNET_CHECK(c.model.num_classes == 0 || c.model.num_classes == margs.num_classes, "--num-classes ",
                c.model.num_classes, " does not match the data, which has ", margs.num_classes,
                " classes; select them with --classes (e.g. --classes 5,6,7,8,9)");
  margs.in_channels = d.train.images.size(1);
  margs.input_size = d.train.images.size(2);
  if (ck) {
    const auto& a = ck->model_args;
    CONVNET_CHECK(
        a.num_classes == margs.num_classes && a.in_channels == margs.in_channels && a.input_size == margs.input_size,
        "checkpoint '", ck->path, "' was trained on ", a.num_classes, " classes of ", a.in_channels, "x", a.input_size,
        "x", a.input_size, " images, but the data now gives ", margs.num_classes, " classes of ", margs.in_channels,
        "x", margs.input_size, "x", margs.input_size,
        " images; check --dataset, --data-dir, --classes and --image-size");
  }

  manual_seed(c.compute.seed);
  // Fine-tuning starts from the pretrained weights with a new head; a resumed fine-tuning
  // run is an ordinary model of the new size whose weights come from its checkpoint.
  const bool finetune =
      !c.model.finetune_checkpoint.empty() || !c.model.finetune_weights.empty() || !c.model.finetune_onnx.empty();
  nn::ModulePtr model;
  if (finetune && !ck) {
    std::string note;
    model = pretrained_model(c, margs, note);
    info(note);
  } else {
    try {
      model = create_model(c, margs);
    } catch (const Error& e) {
      // Say where the size came from: the data, not the model, is usually what is off.
      throw Error(detail::cat("the ", c.data.dataset, " data", c.data.data_dir.empty() ? "" : " in " + c.data.data_dir,
                              " has ", margs.in_channels, "x", margs.input_size, "x", margs.input_size,
                              " images, which ", c.model.model, " cannot take: ", e.what(),
                              " (--image-size resizes folder datasets; --model picks another network)"));
    }
  }
  std::optional<FreezePlan> plan;
  if (finetune) {
    plan = apply_freezing(*model, find_head(*model, margs.num_classes), c.model.train_last, c.model.freeze,
                          c.model.bn_stats);
    info(plan->describe());
  }
  nn::ModulePtr ema;
  if (c.optim.ema > 0) {
    // A second instance must not draw from the default generator: that would shift
    // every later random number (dropout) away from the same run without EMA.
    const auto state = default_generator().state();
    ema = create_model(c, margs);
    default_generator().set_state(state);
    copy_state(*ema, *model);
  }
  nn::Module& eval_model = ema ? *ema : *model;
  if (c.compute.sync_bn) {
    int64_t bns = 0;
    for (auto& [path, mod] : model->named_modules())
      if (auto* bn = dynamic_cast<nn::BatchNorm*>(mod)) {
        bn->sync_group = dp ? &pg : nullptr;
        ++bns;
      }
    if (bns == 0)
      info("warning: --sync-bn: " + c.model.model + " has no BatchNorm layer, so the option changes nothing");
    else if (dp)
      info("--sync-bn: the " + std::to_string(bns) + " BatchNorm layers use the statistics of the global batch");
  }
  // The run's device (parse_device in validate() named the devices that exist): the model,
  // its EMA copy, the optimizer's state and each batch live there; checkpoints are written
  // from the host, so a run resumes on any device.
  const Device dev = parse_device(c.compute.device);
  if (!dev.is_cpu()) {
    CONVNET_CHECK(!dp, "--device ", c.compute.device, ": data-parallel training on GPUs (NCCL) is not built yet; ",
                  "train on one GPU, or on CPU processes with mpirun");
    model->to(dev);
    if (ema) ema->to(dev);
    info("training on " + device_name(dev));
  }
  auto opt = make_optimizer(c, model->trainable_parameters());

  data::LoaderOptions lo;
  lo.batch_size = c.optim.batch_size, lo.shuffle = true, lo.seed = c.compute.seed, lo.workers = c.data.workers;
  lo.rank = rank, lo.world_size = world;
  if (!c.aug.augment.empty()) lo.augment = data::Augment::parse(c.aug.augment);
  lo.mean = d.mean, lo.std = d.std;
  lo.mixup_alpha = c.aug.mixup, lo.cutmix_alpha = c.aug.cutmix, lo.num_classes = margs.num_classes;
  data::DataLoader loader(d.train, lo);
  const int64_t steps = loader.num_batches();
  if (world > 1) {
    const int64_t single = (d.train.size() + c.optim.batch_size - 1) / c.optim.batch_size;
    CONVNET_CHECK(single >= world, "the world size ", world, " is larger than the ", single, " batches of ",
                  c.optim.batch_size, " per epoch (", d.train.size(),
                  " training images): some ranks would get no data; use fewer ranks or a smaller --batch-size");
  }
  // --accumulate N: one optimizer step per N batches (the last of an epoch may gather fewer).
  const int64_t accumulate = c.optim.accumulate;
  auto sched = make_schedule(c, *opt, (steps + accumulate - 1) / accumulate);
  if (accumulate > 1)
    info("gradient accumulation: " + std::to_string(accumulate) + " batches per optimizer step (effective batch " +
         std::to_string(c.optim.batch_size * world * accumulate) + ")");
  std::optional<optim::GradScaler> scaler = make_scaler(c, compute);
  if (scaler)
    info("loss scaling: " + std::string(c.compute.loss_scale == "auto" ? "dynamic" : c.compute.loss_scale) +
         ", scale " + num_str(scaler->scale()) + "; steps whose gradients overflow are skipped");
  if (lo.augment && !lo.augment->empty()) info("augmentation: " + lo.augment->describe());

  std::vector<EpochStats> history;
  double best_acc = -1;
  int64_t best_epoch = 0, start_epoch = 1, global_step = 0;
  if (ck) {
    if (ema) {
      load_weights_into(*model, ck->train_weights, ck->path, c.model.model);
      load_weights_into(*ema, ck->weights, ck->path, c.model.model);
    } else {
      load_weights_into(*model, ck->weights, ck->path, c.model.model);
    }
    try {
      opt->load_state_dict(ck->optimizer);
    } catch (const Error& e) {
      throw Error("checkpoint '" + ck->path + "': its optimizer state does not fit: " + e.what());
    }
    global_step = ck->scheduler_step;
    if (sched) sched->set_last_step(global_step);
    if (scaler && ck->loss_scale > 0) scaler->set_state(ck->loss_scale, ck->loss_scale_growth_tracker);
    default_generator().set_state(ck->rng);
    history = ck->history;
    best_acc = ck->best_val_acc, best_epoch = ck->best_epoch;
    start_epoch = ck->epoch + 1;
    info("resumed from '" + ck->path + "' after epoch " + std::to_string(ck->epoch) + " of " +
         std::to_string(c.optim.epochs) +
         (ck->partial.step > 0 ? " and " + std::to_string(ck->partial.step) + " steps of epoch " +
                                     std::to_string(ck->epoch + 1) + " (their batches are skipped)"
                               : std::string()));
  }
  PartialEpoch resume_partial = ck ? ck->partial : PartialEpoch{};
  if (ck && ck->world_size != world) {
    info("note: the checkpoint was written by " + std::to_string(ck->world_size) + " rank(s), this run has " +
         std::to_string(world) +
         ": the run goes on with the same weights, optimizer state and data order, but is not bit-identical "
         "to an uninterrupted run (the global batch and the reduction order differ)");
    if (resume_partial.step > 0) {
      // The position in the epoch, in global batches of the new size (whole ones done).
      const int64_t g = c.optim.batch_size * world;
      resume_partial.step = resume_partial.seen / g / c.optim.accumulate * c.optim.accumulate;
      if (resume_partial.step == 0) resume_partial = {};
    }
  }
  std::unique_ptr<dist::GradientReducer> reducer;
  if (dp) {
    // Every rank starts from rank 0's weights and optimizer-free state (the seed makes them
    // equal already; this makes it so whatever a rank's history).
    dist::broadcast_module(pg, *model, 0);
    if (ema) dist::broadcast_module(pg, *ema, 0);
    dist::ReducerOptions ro;
    ro.bucket_mb = c.compute.bucket_mb;
    reducer = std::make_unique<dist::GradientReducer>(pg, model->trainable_parameters(), ro);
    info("data parallel: gradients in " + std::to_string(reducer->num_buckets()) + " bucket(s) of up to " +
         num_str(c.compute.bucket_mb) + " MB");
  }

  std::string run_dir = !c.ckpt.out.empty() ? c.ckpt.out : default_run_dir(c.model.model);
  if (dp) run_dir = pg.broadcast(run_dir, 0);  // the name rank 0 chose (a time stamp)
  if (lead) {
    std::error_code ec;
    fs::create_directories(run_dir, ec);
    CONVNET_CHECK(!ec, "cannot create the run directory '", run_dir, "': ", ec.message());
  }
  const std::string last_path = (fs::path(run_dir) / kLastCheckpoint).string();
  const std::string best_path = (fs::path(run_dir) / kBestCheckpoint).string();
  info("run directory: " + run_dir);
  if (ck && lead) {  // drop log lines of epochs after the checkpoint (a run killed after logging them)
    write_metrics_log(run_dir, history);
    if (!history.empty()) write_training_plots(run_dir, history);
  }
  std::string last_good = ck ? ck->path + " (epoch " + std::to_string(ck->epoch) + ")" : "";

  auto diverged = [&](int64_t epoch, const std::string& what) {
    throw Error("training diverged at epoch " + std::to_string(epoch) + ", " + what + ". " +
                (last_good.empty() ? std::string("No checkpoint was written yet")
                                   : "The last good checkpoint is " + last_good + ", left intact") +
                "; start again with a lower --lr, or with --clip-grad-norm (e.g. 1.0)");
  };

  Checkpoint out;
  out.config = c;
  out.config.ckpt.resume.clear();
  out.config.ckpt.out = run_dir;
  out.model_args = margs;
  out.class_names = d.train.class_names;
  out.mean = d.mean, out.std = d.std;
  out.world_size = world;

  // A checkpoint that cannot be written (a full disk) ends the run and says that the one
  // before it is intact (the writer never touches it: temporary file, then rename).
  auto save = [&](const std::string& path, bool with_train_state) {
    if (!lead) return;  // one writer; every rank holds the same state
    try {
      save_checkpoint(path, out, with_train_state);
    } catch (const Error& e) {
      throw Error("could not write the checkpoint " + path + ": " + e.what() + "; " +
                  (last_good.empty() ? std::string("no earlier checkpoint had been written")
                                     : "the previous checkpoint " + last_good + " is intact") +
                  "; free some space (or choose another --out) and resume with --resume " + run_dir);
    }
  };
  // What a checkpoint holds after `finished` epochs (and, stopped inside the next one, its
  // steps so far in out.partial).
  auto fill_checkpoint = [&](int64_t finished) {
    out.epoch = finished;
    out.scheduler_step = global_step;
    out.history = history;
    out.best_val_acc = best_acc, out.best_epoch = best_epoch;
    out.rng = default_generator().state();
    out.loss_scale = scaler ? scaler->scale() : 0;
    out.loss_scale_growth_tracker = scaler ? scaler->growth_tracker() : 0;
    out.weights = eval_model.state_dict();
    out.train_weights = ema ? model->state_dict() : std::map<std::string, Tensor>{};
    out.optimizer = opt->state_dict();
  };
  TrainResult r;
  r.run_dir = run_dir;
  r.has_test = d.has_test;
  r.test_images = d.has_test ? d.test.size() : 0;
  r.test_total = d.test_total;
  // A stop request (Ctrl-C, SIGTERM) is honoured after the current step: a resumable
  // checkpoint with the position in the epoch, then return.
  // The result's last fields, at the end of the run or at a stop.
  auto finish = [&] {
    r.best_val_acc = best_acc, r.best_epoch = best_epoch;
    eval_model.eval();
    r.model = ema ? ema : model;
    r.model->to(Device::cpu());  // what the caller reads, saves or reports on, from the host
    r.seconds = seconds_since(t0);
    return r;
  };
  auto stopped = [&](int64_t epoch, int64_t step) {
    g_stop.store(false);
    r.interrupted = true, r.stopped_epoch = epoch, r.stopped_step = step;
    return finish();
  };

  const double eps = c.optim.label_smoothing;
  for (int64_t epoch = start_epoch; epoch <= c.optim.epochs; ++epoch) {
    {
      double stop = g_stop.load() ? 1 : 0;  // all ranks stop together
      if (reducer) pg.allreduce(&stop, 1, dist::ReduceOp::max);
      if (stop > 0) return stopped(epoch, 0);  // between epochs: last.safetensors is current
    }
    auto te = Clock::now();
    model->train();
    if (plan) keep_frozen_bn_in_eval(*model, *plan);
    loader.start_epoch(epoch - 1);
    data::Batch b;
    double loss_sum = 0;
    int64_t seen = 0, correct = 0, step = 0, skipped = 0;
    double lr_epoch = opt->lr();
    if (epoch == start_epoch && resume_partial.step > 0) {
      // Resumed inside this epoch: the batches done are prepared and dropped (the data order
      // and augmentation are functions of the seed, epoch and sample, so the rest is the same).
      const PartialEpoch& q = resume_partial;
      for (int64_t i = 0; i < q.step; ++i)
        CONVNET_CHECK(loader.next(b), "checkpoint '", ck->path, "' stopped at step ", q.step, " of epoch ", epoch,
                      ", but the epoch has only ", steps, " steps with this data");
      step = q.step, seen = q.seen, correct = q.correct, skipped = q.skipped, loss_sum = q.loss_sum;
      lr_epoch = q.lr;
      te -= std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(q.seconds));
    }
    while (loader.next(b)) {
      ++step;
      if (at_step_hook("CONVNET_TEST_NAN_AT", epoch, step)) model->trainable_parameters().front().data()[0] = NAN;
      // The accumulation cycle of this batch: batches [first, first + len) of the epoch.
      const int64_t cycle_first = (step - 1) / accumulate * accumulate + 1;
      const int64_t cycle_len = std::min(accumulate, steps - cycle_first + 1);
      const bool cycle_end = step == cycle_first + cycle_len - 1;
      if (step == cycle_first) opt->zero_grad();
      const int64_t n_local = b.x.size(0);
      // Each batch's gradient counts 1/len of the cycle's; the reducer applies it (with this
      // rank's share of the global batch) when it combines the cycle's sum at its end.
      if (reducer)
        reducer->prepare(static_cast<double>(n_local) / static_cast<double>(loader.global_batch_size(step - 1)) /
                             static_cast<double>(cycle_len),
                         cycle_end);
      // Forward and loss under the run's precision (ops/autocast.h); backward outside, as
      // in PyTorch: each op's backward follows the dtypes its forward used.
      Tensor logits, loss;
      {
        autocast precision_scope(compute);
        logits = (*model)(b.x.to(dev));
        if (b.y_soft.defined()) {
          Tensor q = b.y_soft.to(dev);
          if (eps > 0) {  // smoothing of soft targets: (1 - e) q + e / K, as PyTorch does
            q = q.clone();
            const auto k = static_cast<double>(q.size(1));
            kernels::keys::affine(q.numel(), static_cast<float>(1 - eps), ops::kdata(q), static_cast<float>(eps / k),
                                  ops::kdata(q));
          }
          loss = ops::cross_entropy(logits, q);
        } else {
          loss = ops::cross_entropy(logits, b.y, Reduction::Mean, eps);
        }
      }
      (scaler ? scaler->scale(loss) : loss).backward();
      // Read after the backward is queued, so a GPU runs it while the host waits for the
      // loss; checked before the update, so no step is ever taken from a NaN.
      double l = loss.item();
      if (!std::isfinite(l))
        diverged(epoch, "step " + std::to_string(step) + " of " + std::to_string(steps) + ": the loss is " +
                            std::to_string(l));
      int64_t step_correct = correct_count(logits, b.y), step_n = n_local;
      bool stop_now = g_stop.load();
      if (reducer) {
        reducer->finish();
        // The step's loss, accuracy and stop requests over all ranks (a stop is taken by all
        // ranks at the same step).
        double m[4] = {l * static_cast<double>(n_local), static_cast<double>(step_correct),
                       static_cast<double>(n_local), stop_now ? 1.0 : 0.0};
        pg.allreduce(m, 4, dist::ReduceOp::sum);
        l = m[0] / m[2], step_correct = static_cast<int64_t>(m[1]), step_n = static_cast<int64_t>(m[2]);
        stop_now = m[3] > 0;
      }
      if (!cycle_end) {  // accumulating: no update, no communication
        loss_sum += l * static_cast<double>(step_n);
        seen += step_n;
        correct += step_correct;
        if (cb.on_step && lead) cb.on_step({epoch, step, steps, l, opt->lr(), seen / seconds_since(te)});
        step_delay_hook();
        continue;
      }
      if (!reducer && cycle_len > 1)  // the mean of the cycle's gradients
        for (const Tensor& p : model->trainable_parameters())
          if (Tensor g = p.grad(); g.defined())
            kernels::keys::scale(g.numel(), 1.0f / static_cast<float>(cycle_len), ops::kdata(g), ops::kdata(g));
      if (at_step_hook("CONVNET_TEST_INF_GRAD_AT", epoch, step))
        model->trainable_parameters().front().grad().data()[0] = INFINITY;
      // With loss scaling an overflow in backward is expected now and then: the step is
      // skipped and the scale backs off. Without, every step checks the gradient norm,
      // clipping or not: a finite loss can still have an Inf gradient, and one such update
      // ruins every weight it touches.
      const bool take_step = !scaler || scaler->unscale(model->trainable_parameters());
      if (take_step) {
        const double norm = c.optim.clip_grad_norm > 0
                                ? clip_grad_norm(model->trainable_parameters(), c.optim.clip_grad_norm)
                                : grad_norm(model->trainable_parameters());
        if (!std::isfinite(norm))
          diverged(epoch, "step " + std::to_string(step) + " of " + std::to_string(steps) + ": the gradient norm is " +
                              std::to_string(norm));
        opt->step();
      } else {
        ++skipped;
      }
      if (scaler) scaler->update();
      if (sched) sched->step();
      ++global_step;
      if (ema) update_ema(*ema, *model, c.optim.ema);
      loss_sum += l * static_cast<double>(step_n);
      seen += step_n;
      correct += step_correct;
      if (cb.on_step && lead) cb.on_step({epoch, step, steps, l, opt->lr(), seen / seconds_since(te)});
      step_delay_hook();
      if (stop_now && step < steps) {
        // Test hook: CONVNET_TEST_STOP_DELAY_MS=<ms> makes the stop slow (as a long step or a
        // slow disk would), so that a test can interrupt it. Timing only.
        if (const char* e = std::getenv("CONVNET_TEST_STOP_DELAY_MS"))
          std::this_thread::sleep_for(std::chrono::milliseconds(std::atoi(e)));
        fill_checkpoint(epoch - 1);
        out.partial = {step, seen, correct, skipped, loss_sum, lr_epoch, seconds_since(te)};
        save(last_path, true);
        out.partial = {};
        return stopped(epoch, step);
      }
    }
    const double train_secs = seconds_since(te);
    if (!all_finite(*model) || (ema && !all_finite(*ema)))
      diverged(epoch, "after its last step: the weights hold NaN or Inf");
    if (reducer && !c.compute.sync_bn) {
      // Each rank's BatchNorm running statistics saw its own shards; rank 0's are the
      // model's (as DistributedDataParallel's broadcast_buffers), for evaluation and saving.
      for (auto& [name, t] : model->named_buffers()) pg.broadcast(t, 0);
      if (ema)
        for (auto& [name, t] : ema->named_buffers()) pg.broadcast(t, 0);
    }
    const EvalResult v = [&] {
      autocast precision_scope(compute);
      return evaluate_sharded(pg, eval_model, d.val, c.data.eval_batch_size, c.aug.tta == "flip");
    }();
    EpochStats e;
    e.epoch = epoch;
    e.train_loss = loss_sum / static_cast<double>(seen);
    e.train_acc = static_cast<double>(correct) / static_cast<double>(seen);
    e.val_loss = v.loss, e.val_acc = v.top1;
    e.lr = lr_epoch;
    e.images_per_second = static_cast<double>(seen) / train_secs;
    e.best = v.top1 > best_acc;
    if (e.best) best_acc = v.top1, best_epoch = epoch;
    e.loss_scale = scaler ? scaler->scale() : 0;
    e.skipped_steps = skipped;
    e.seconds = seconds_since(te);
    history.push_back(e);

    fill_checkpoint(epoch);
    // best before last: if the process dies between the two, the resumed run repeats this
    // epoch bit for bit and writes best again, so best never lags behind last's record.
    if (e.best) save(best_path, false);
    save(last_path, true);
    last_good = last_path + " (epoch " + std::to_string(epoch) + ")";
    if (lead) {
      write_metrics_log(run_dir, history);
      write_training_plots(run_dir, history);
    }
    if (reducer && epoch == start_epoch) {
      const dist::ReducerStats& rs = reducer->stats();
      const double n = static_cast<double>(std::max<int64_t>(1, rs.steps));
      char line[256];
      std::snprintf(line, sizeof line,
                    "data parallel, epoch %lld: %lld bucket(s) per step, %.1f started before backward ended; the "
                    "first started %.3f ms before the end of backward; waiting for allreduce %.3f ms per step; "
                    "gradients combined at %lld of %lld batches",
                    static_cast<long long>(epoch), static_cast<long long>(rs.buckets),
                    static_cast<double>(rs.launched_during_backward) / n, 1e3 * rs.first_launch_before_end / n,
                    1e3 * rs.wait / n, static_cast<long long>(rs.steps), static_cast<long long>(steps));
      info(line);
    }
    if (cb.on_epoch && lead) cb.on_epoch(e);
  }

  if (d.has_test) {
    if (d.val_is_test && !history.empty() && history.back().epoch == c.optim.epochs)
      r.test_acc = history.back().val_acc;  // just measured, same weights and TTA
    else {
      autocast precision_scope(compute);
      r.test_acc = evaluate_sharded(pg, eval_model, d.test, c.data.eval_batch_size, c.aug.tta == "flip").top1;
    }
  } else {
    r.test_acc = history.empty() ? 0 : history.back().val_acc;
  }
  return finish();
}
}  // namespace

TrainResult train(const TrainConfig& cfg, const Callbacks& cb) {
  try {
    return train_run(cfg, cb);
  } catch (const Error& e) {
    // The GPU allocator names the bytes it was asked for; the user needs the model and the
    // batch size that asked (the last good checkpoint is untouched: nothing was written).
    const std::string m = e.what();
    if (m.find("out of GPU memory") == std::string::npos) throw;
    throw Error("training " + cfg.model.model + " with --batch-size " + std::to_string(cfg.optim.batch_size) + ": " +
                m + "; try a smaller --batch-size");
  }
}

}  // namespace convnet::train
