// Training checkpoints (round trip, atomic writes under a crash), metrics, plots and
// gradient clipping: the pieces of the training workflow that need no training run.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>

#include "convnet/core/error.h"
#include "convnet/models/registry.h"
#include "convnet/nn/layers.h"
#include "convnet/nn/sequential.h"
#include "convnet/ops/softmax.h"
#include "convnet/optim/sgd.h"
#include "convnet/train/checkpoint.h"
#include "convnet/train/metrics.h"
#include "convnet/train/plot_svg.h"
#include "convnet/train/trainer.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;
namespace fs = std::filesystem;

namespace {

fs::path temp_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("convnet_unit_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// A checkpoint with every field set, from a LeNet-5 that took one SGD step.
train::Checkpoint sample_checkpoint(nn::ModulePtr& net, std::unique_ptr<optim::SGD>& opt) {
  manual_seed(11);
  models::ModelArgs a;
  a.num_classes = 10;
  net = models::create("lenet5", a);
  opt = std::make_unique<optim::SGD>(net->parameters(), optim::SGDOptions{.lr = 0.1, .momentum = 0.9});
  for (auto& p : net->parameters()) p.set_grad(Tensor::full(p.shape(), 0.25f));
  opt->step();
  train::Checkpoint c;
  c.config.model.model = "lenet5";
  c.config.optim.lr = 0.0123456789;
  c.config.data.classes = {3, 5};
  c.config.aug.augment = "crop:4,flip";
  c.config.compute.seed = 0xFFFFFFFFFFFFFFFFull;  // survives JSON exactly
  c.model_args = a;
  c.model_args.input_size = 28;
  c.class_names = {"a \"quoted\" name", "b"};
  c.mean = {0.2860f}, c.std = {0.3530f};
  c.epoch = 6;
  c.scheduler_step = 1234;
  train::EpochStats e;
  e.epoch = 6, e.train_loss = 0.5, e.val_acc = 0.875, e.lr = 1e-3, e.best = true;
  c.history = {e};
  c.best_val_acc = 0.875, c.best_epoch = 6;
  Generator g(99);
  g.normal();  // leaves a cached spare
  c.rng = g.state();
  c.weights = net->state_dict();
  c.optimizer = opt->state_dict();
  return c;
}

void expect_bitwise(const std::map<std::string, Tensor>& a, const std::map<std::string, Tensor>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [k, t] : a) {
    ASSERT_TRUE(b.count(k)) << k;
    ASSERT_EQ(t.shape(), b.at(k).shape()) << k;
    EXPECT_EQ(std::memcmp(t.data(), b.at(k).data(), 4 * static_cast<size_t>(t.numel())), 0) << k;
  }
}

struct Flatten : nn::Module {
  Tensor forward(const Tensor& x) override { return x.reshape({x.size(0), -1}); }
  std::string type_name() const override { return "Flatten"; }
};

}  // namespace

TEST(Checkpoint, RoundTripKeepsEveryFieldExactly) {
  const fs::path d = temp_dir("ckpt");
  nn::ModulePtr net;
  std::unique_ptr<optim::SGD> opt;
  const auto c = sample_checkpoint(net, opt);
  train::save_checkpoint((d / "last.safetensors").string(), c);
  const auto r = train::load_checkpoint(d.string());  // a run directory means its last.safetensors
  EXPECT_EQ(r.path, (d / "last.safetensors").string());
  EXPECT_EQ(r.version, train::kCheckpointVersion);
  EXPECT_EQ(r.config.model.model, "lenet5");
  EXPECT_EQ(r.config.optim.lr, 0.0123456789);
  EXPECT_EQ(r.config.data.classes, (std::vector<int64_t>{3, 5}));
  EXPECT_EQ(r.config.aug.augment, "crop:4,flip");
  EXPECT_EQ(r.config.compute.seed, 0xFFFFFFFFFFFFFFFFull);
  EXPECT_EQ(r.model_args.num_classes, 10);
  EXPECT_EQ(r.model_args.input_size, 28);
  EXPECT_EQ(r.class_names, c.class_names);
  EXPECT_EQ(r.mean, c.mean);
  EXPECT_EQ(r.std, c.std);
  EXPECT_EQ(r.epoch, 6);
  EXPECT_EQ(r.scheduler_step, 1234);
  ASSERT_EQ(r.history.size(), 1u);
  EXPECT_EQ(r.history[0].val_acc, 0.875);
  EXPECT_TRUE(r.history[0].best);
  EXPECT_EQ(r.best_epoch, 6);
  EXPECT_EQ(r.rng.s, c.rng.s);
  EXPECT_EQ(r.rng.has_spare, c.rng.has_spare);
  EXPECT_EQ(std::memcmp(&r.rng.spare, &c.rng.spare, 4), 0);
  EXPECT_TRUE(r.has_train_state);
  expect_bitwise(r.weights, c.weights);
  expect_bitwise(r.optimizer, c.optimizer);
  EXPECT_FALSE(r.optimizer.empty());

  // The weights part is an ordinary weights file for the model.
  auto again = train::model_from_checkpoint(r);
  expect_bitwise(again->state_dict(), c.weights);

  // Weights only (best.safetensors): no training state.
  train::save_checkpoint((d / "best.safetensors").string(), c, false);
  const auto b = train::load_checkpoint((d / "best.safetensors").string());
  EXPECT_FALSE(b.has_train_state);
  EXPECT_TRUE(b.optimizer.empty());
  fs::remove_all(d);
}

TEST(Checkpoint, ErrorsNameTheFile) {
  const fs::path d = temp_dir("ckpt_err");
  expect_error([&] { train::load_checkpoint((d / "none.safetensors").string()); },
               {"none.safetensors", "does not exist"});
  expect_error([&] { train::load_checkpoint(d.string()); }, {d.string(), "has no last.safetensors"});
  std::ofstream((d / "junk.safetensors").string()) << "not a checkpoint at all";
  expect_error([&] { train::load_checkpoint((d / "junk.safetensors").string()); }, {"junk.safetensors", "corrupt"});
  nn::ModulePtr net;
  std::unique_ptr<optim::SGD> opt;
  auto c = sample_checkpoint(net, opt);
  c.model_args.num_classes = 4;
  train::save_checkpoint((d / "head.safetensors").string(), c);
  const auto r = train::load_checkpoint((d / "head.safetensors").string());
  expect_error([&] { train::model_from_checkpoint(r); },
               {"head.safetensors", "do not fit model 'lenet5'", "in checkpoint", "in model"});
  fs::remove_all(d);
}

TEST(Checkpoint, AWriterKilledMidWriteNeverLeavesAHalfFileUnderTheRealName) {
  const fs::path d = temp_dir("ckpt_crash");
  const std::string path = (d / "last.safetensors").string();
  nn::ModulePtr net;
  std::unique_ptr<optim::SGD> opt;
  auto c = sample_checkpoint(net, opt);
  train::save_checkpoint(path, c);  // the last good one: epoch 6
  const auto size = fs::file_size(path);
  c.epoch = 7;
  for (auto& [k, t] : c.weights) t.data()[0] += 1;  // different content
  for (uint64_t bytes : {uint64_t{0}, uint64_t{1}, uint64_t{8}, uint64_t{100}, size / 2, size - 1}) {
    const pid_t pid = fork();
    if (pid == 0) {
      setenv("CONVNET_TEST_CRASH_SAVING", ("7:" + std::to_string(bytes)).c_str(), 1);
      train::save_checkpoint(path, c);
      _exit(0);  // not reached: the hook ends the process mid-write
    }
    int st = 0;
    waitpid(pid, &st, 0);
    ASSERT_TRUE(WIFEXITED(st));
    EXPECT_EQ(WEXITSTATUS(st), 86) << "after " << bytes << " bytes";
    EXPECT_EQ(fs::file_size(path + ".tmp"), bytes);
    const auto r = train::load_checkpoint(path);
    EXPECT_EQ(r.epoch, 6) << "after " << bytes << " bytes";
  }
  train::save_checkpoint(path, c);
  EXPECT_EQ(train::load_checkpoint(path).epoch, 7);
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  fs::remove_all(d);
}

// --resume keeps the run's configuration: every option of TrainConfig but the few that do
// not change the result is refused when it differs from the checkpoint's, each by name, and
// those few (--workers among them) are taken. The options come from the config's own JSON
// field list, so a new option is covered without a new line here.
TEST(Checkpoint, ResumeRefusesEveryChangedOptionButTheFreeOnes) {
  const fs::path d = temp_dir("resume_opts");
  nn::ModulePtr net;
  std::unique_ptr<optim::SGD> opt;
  train::Checkpoint c = sample_checkpoint(net, opt);
  const std::string path = (d / "last.safetensors").string();
  train::save_checkpoint(path, c);
  const nlohmann::json stored = nlohmann::json::parse(train::config_to_json(c.config));
  // What may change on resume (how fast and where, not what is trained): the data-parallel
  // bucket size and timeout included.
  const std::set<std::string> free = {"epochs", "threads", "workers", "data_dir",  "out",
                                      "eval_batch_size", "resume", "device", "bucket_mb", "dist_timeout"};
  int refused = 0;
  for (const auto& [key, value] : stored.items()) {
    SCOPED_TRACE("option " + key);
    nlohmann::json changed = stored;
    // A different value of the same JSON type.
    if (value.is_boolean())
      changed[key] = !value.get<bool>();
    else if (value.is_number_unsigned())
      changed[key] = value.get<uint64_t>() == 3 ? 4 : 3;
    else if (value.is_number_integer())
      changed[key] = value.get<int64_t>() + 3;
    else if (value.is_number_float())
      changed[key] = value.get<double>() * 0.5 + 0.25;
    else if (value.is_string())
      changed[key] = value.get<std::string>() + "x";
    else if (value.is_array())
      changed[key].push_back(value.empty() ? nlohmann::json(1) : value.back());
    else
      FAIL() << "unexpected JSON type of " << key << ": " << value.dump();
    train::TrainConfig given;
    try {
      given = train::config_from_json(changed.dump(), "the test's config");
    } catch (const convnet::Error&) {  // an empty list of strings (--freeze): a string element instead
      changed[key] = nlohmann::json::array({"x"});
      given = train::config_from_json(changed.dump(), "the test's config");
    }
    if (free.count(key)) {
      const train::TrainConfig r = train::resume_config(path, given, {key});
      if (key == "resume")
        EXPECT_EQ(r.ckpt.resume, path);  // always the checkpoint resumed from
      else
        EXPECT_EQ(nlohmann::json::parse(train::config_to_json(r))[key], changed[key]);
      continue;
    }
    // The message names the flag the user types (--checkpoint for finetune_checkpoint).
    std::string flag;
    for (const train::OptionInfo& o : train::train_options())
      if (o.key == key) flag = train::option_flag(o);
    ASSERT_FALSE(flag.empty()) << key << " is in the JSON but not in the option table";
    expect_error([&] { train::resume_config(path, given, {key}); },
                 {flag + " ", "does not match checkpoint", "which was trained with " + flag});
    ++refused;
  }
  EXPECT_GT(refused, 30);  // TrainConfig has about 45 options
  // Options given with the stored value are fine, and unset ones keep the stored value.
  EXPECT_EQ(train::resume_config(path, c.config, {"lr", "model"}).optim.lr, c.config.optim.lr);
  fs::remove_all(d);
}

TEST(Metrics, TopKPerClassConfusionAndFlipTta) {
  data::Dataset d;
  // Images (1, 1, 6) are the logits themselves (Flatten model).
  d.images = Tensor::from_vector({4, 1, 1, 6}, {5, 4, 3, 2, 1, 0,  //
                                                5, 4, 3, 2, 1, 0,  //
                                                0, 1, 2, 3, 4, 5,  //
                                                1, 1, 0, 0, 0, 0});
  d.labels = {0, 5, 1, 1};  // ranks 0, 5, 4, 0 (a tie goes to the first index for top-1)
  Flatten m;
  const auto r = train::evaluate_full(m, d, 3);
  EXPECT_EQ(r.n, 4);
  EXPECT_DOUBLE_EQ(r.top1, 0.25);
  EXPECT_DOUBLE_EQ(r.top5, 0.75);
  EXPECT_EQ(r.confusion[0 * 6 + 0], 1);
  EXPECT_EQ(r.confusion[5 * 6 + 0], 1);
  EXPECT_EQ(r.confusion[1 * 6 + 5], 1);
  EXPECT_EQ(r.confusion[1 * 6 + 0], 1);
  const auto acc = r.per_class_accuracy();
  EXPECT_EQ(acc[0], 1.0);
  EXPECT_EQ(acc[1], 0.0);
  EXPECT_TRUE(std::isnan(acc[2]));
  const Tensor lp = ops::log_softmax(d.images.reshape({4, 6}), 1);
  EXPECT_NEAR(r.loss, -(lp.at({0, 0}) + lp.at({1, 5}) + lp.at({2, 1}) + lp.at({3, 1})) / 4, 1e-6);
  const std::string text = train::confusion_text(r, {"zero", "one"});
  EXPECT_NE(text.find("zero"), std::string::npos) << text;
  EXPECT_NE(text.find("100.00%"), std::string::npos) << text;

  // Flip TTA: the mean of the two softmaxes (flipping W reverses these logits).
  const Tensor x = d.images;
  const Tensor p = train::predict_proba(m, x, true);
  const Tensor s1 = ops::softmax(x.reshape({4, 6}), 1), s2 = ops::softmax(train::hflip(x).reshape({4, 6}), 1);
  for (int64_t i = 0; i < 24; ++i) EXPECT_NEAR(p.data()[i], (s1.data()[i] + s2.data()[i]) / 2, 1e-6);

  const fs::path dir = temp_dir("png");
  train::write_confusion_png((dir / "cm.png").string(), r);
  std::ifstream f(dir / "cm.png", std::ios::binary);
  unsigned char h[24];
  f.read(reinterpret_cast<char*>(h), 24);
  EXPECT_EQ(std::memcmp(h + 1, "PNG", 3), 0);
  EXPECT_EQ((h[16] << 24) | (h[17] << 16) | (h[18] << 8) | h[19], 6 * 40 + 7);  // width: 6 cells of 40 + grid
  fs::remove_all(dir);
}

TEST(Metrics, ClipGradNormMatchesPyTorchsDefinition) {
  Tensor a = Tensor::zeros({2}), b = Tensor::zeros({1}), c = Tensor::zeros({3});
  a.set_grad(Tensor::from_vector({2}, {3, 4}));                  // norm 5
  b.set_grad(Tensor::from_vector({1}, {12}));                    // norm 12: total 13
  EXPECT_NEAR(train::clip_grad_norm({a, b, c}, 100), 13, 1e-5);  // c has no gradient
  EXPECT_EQ(a.grad().data()[0], 3);                              // below the limit: untouched
  EXPECT_NEAR(train::clip_grad_norm({a, b, c}, 6.5), 13, 1e-5);
  const float coef = 6.5f / (13.f + 1e-6f);
  EXPECT_FLOAT_EQ(a.grad().data()[1], 4 * coef);
  EXPECT_FLOAT_EQ(b.grad().data()[0], 12 * coef);
}

TEST(Metrics, GradNormIsTheClipNormAndSeesEveryNonFiniteElement) {
  Tensor a = Tensor::zeros({2}), big = Tensor::zeros({200001});
  a.set_grad(Tensor::from_vector({2}, {3, 4}));
  std::vector<float> g(200001, 0.f);
  g[7] = 12;
  big.set_grad(Tensor::from_vector({200001}, g));  // over the threading threshold
  EXPECT_NEAR(train::grad_norm({a, big}), 13, 1e-5);
  EXPECT_EQ(a.grad().data()[0], 3);  // untouched
  for (const float bad : {INFINITY, -INFINITY, NAN}) {
    big.grad().data()[199999] = bad;
    EXPECT_FALSE(std::isfinite(train::grad_norm({a, big}))) << bad;
  }
}

// --ema on a BatchNorm model, by hand: parameters e <- d e + (1 - d) w (twice: e2 = d^2 e0 +
// (1 - d^2) w for a constant w), buffers copied from the model, not averaged.
TEST(Metrics, EmaStepAveragesParametersAndCopiesBuffers) {
  auto make = [] {
    auto s = std::make_shared<nn::Sequential>();
    s->add(std::make_shared<nn::Conv2d>(nn::Conv2dOptions(1, 2, 1)));
    s->add(std::make_shared<nn::BatchNorm2d>(2));
    return s;
  };
  auto model = make(), ema = make();
  auto fill = [](nn::Module& m, double base, double step) {
    double v = base;
    for (auto& [n, p] : m.named_parameters())
      for (int64_t i = 0; i < p.numel(); ++i, v += step) p.data()[i] = static_cast<float>(v);
  };
  fill(*model, 2.0, -0.5);  // w = 2, 1.5, 1, ...
  fill(*ema, 0.0, 0.25);    // e = 0, 0.25, 0.5, ...
  auto buffers = model->named_buffers();
  const std::vector<float> mean = {0.25f, -0.5f}, var = {2.f, 3.f};
  for (auto& [n, b] : buffers) {
    if (n.find("running_mean") != std::string::npos) std::copy(mean.begin(), mean.end(), b.data());
    if (n.find("running_var") != std::string::npos) std::copy(var.begin(), var.end(), b.data());
  }
  const double d = 0.9;
  train::update_ema(*ema, *model, d);
  train::update_ema(*ema, *model, d);
  double w = 2.0, e0 = 0.0;
  int64_t checked = 0;
  for (auto& [n, p] : ema->named_parameters())
    for (int64_t i = 0; i < p.numel(); ++i, w -= 0.5, e0 += 0.25, ++checked)
      EXPECT_NEAR(p.data()[i], d * d * e0 + (1 - d * d) * w, 1e-6) << n << "[" << i << "]";
  EXPECT_EQ(checked, 2 + 2 + 2 + 2);  // conv weight and bias, BN weight and bias
  int64_t buffers_checked = 0;
  for (auto& [n, b] : ema->named_buffers()) {
    if (n.find("running_mean") != std::string::npos) {
      EXPECT_EQ(b.to_vector(), mean);
      ++buffers_checked;
    }
    if (n.find("running_var") != std::string::npos) {
      EXPECT_EQ(b.to_vector(), var);
      ++buffers_checked;
    }
  }
  EXPECT_EQ(buffers_checked, 2);
}

TEST(Plots, StandaloneSvgWithOnePointPerFiniteValue) {
  const std::string svg =
      train::line_chart_svg("a < b & c", "epoch", "loss", {1, 2, 3, 4},
                            {{"train", {1, 0.5, 0.25, 0.2}, "#000"}, {"val", {1, NAN, 0.3, 0.4}, "red"}});
  EXPECT_EQ(svg.find("a < b"), std::string::npos);
  EXPECT_NE(svg.find("a &lt; b &amp; c"), std::string::npos);
  size_t polylines = 0, pos = 0;
  while ((pos = svg.find("<polyline", pos)) != std::string::npos) ++polylines, ++pos;
  EXPECT_EQ(polylines, 2u);
  const size_t p0 = svg.find("points=\""), p1 = svg.find("points=\"", p0 + 1);
  auto count = [&](size_t at) {
    const std::string pts = svg.substr(at + 8, svg.find('"', at + 8) - at - 8);
    return std::count(pts.begin(), pts.end(), ',');
  };
  EXPECT_EQ(count(p0), 4);
  EXPECT_EQ(count(p1), 3);
  EXPECT_EQ(svg.rfind("</svg>"), svg.size() - 7);
}

// What a checkpoint's metadata says goes through the checks of the command line: a value a
// hostile or damaged file carries is refused naming the file, never used.
TEST(Checkpoint, HostileMetadataIsRefusedNamingTheFile) {
  const fs::path d = temp_dir("ckpt_hostile");
  nn::ModulePtr net;
  std::unique_ptr<optim::SGD> opt;
  const auto base = sample_checkpoint(net, opt);
  auto refused = [&](const std::string& name, const std::function<void(train::Checkpoint&)>& edit,
                     const std::vector<std::string>& parts) {
    auto c = base;
    edit(c);
    const std::string p = (d / (name + ".safetensors")).string();
    train::save_checkpoint(p, c);
    std::vector<std::string> want = parts;
    want.push_back(p);
    expect_error([&] { train::load_checkpoint(p); }, want);
  };
  refused("optimizer", [](auto& c) { c.config.optim.optimizer = "rmsprop"; },
          {"stores a training configuration that is not valid", "rmsprop"});
  refused("epoch", [](auto& c) { c.epoch = INT64_MAX; }, {"malformed counters", "epoch 9223372036854775807"});
  refused("best", [](auto& c) { c.best_epoch = 7; }, {"malformed counters", "best epoch 7"});
  refused("input_size", [](auto& c) { c.model_args.input_size = 100000; },
          {"malformed model_args", "input_size 100000"});
  refused("classes", [](auto& c) { c.model_args.num_classes = 0; }, {"malformed model_args", "num_classes 0"});
  refused("names", [](auto& c) { c.class_names.assign(11, "x"); }, {"names 11 classes for a model with 10"});
  refused("model", [](auto& c) { c.config.model.model = "lenet9"; }, {"not valid", "lenet9"});
  fs::remove_all(d);
}
