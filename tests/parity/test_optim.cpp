// PyTorch parity of the LR schedules (every lr, and momentum, of a 57..100-step run) and of
// the optimizers (20 training steps of a small MLP: the loss at each step and the final
// weights). Fixtures: python/fixtures/optim.py.
#include "convnet/ops/activation.h"
#include "convnet/ops/linear.h"
#include "convnet/ops/loss.h"
#include "convnet/optim/adam.h"
#include "convnet/optim/lr_scheduler.h"
#include "convnet/optim/sgd.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::optim;
using namespace convnet::testing;
using nlohmann::json;

namespace {

std::unique_ptr<Optimizer> make_optimizer(const json& c, std::vector<Tensor> params) {
  const std::string kind = c["optimizer"];
  if (kind == "sgd") {
    SGDOptions o;
    o.lr = c["lr"];
    o.momentum = c.value("momentum", 0.0);
    o.dampening = c.value("dampening", 0.0);
    o.weight_decay = c.value("weight_decay", 0.0);
    o.nesterov = c.value("nesterov", false);
    return std::make_unique<SGD>(std::move(params), o);
  }
  AdamOptions o;
  o.lr = c["lr"];
  o.beta1 = c.value("beta1", 0.9);
  o.beta2 = c.value("beta2", 0.999);
  o.eps = c.value("eps", 1e-8);
  o.weight_decay = c.value("weight_decay", 0.0);
  o.amsgrad = c.value("amsgrad", false);
  if (kind == "adam") return std::make_unique<Adam>(std::move(params), o);
  EXPECT_EQ(kind, "adamw");
  return std::make_unique<AdamW>(std::move(params), o);
}

std::unique_ptr<LRScheduler> make_scheduler(const json& c, Optimizer& opt) {
  const std::string kind = c["scheduler"];
  if (kind == "step") return std::make_unique<StepLR>(opt, c["step_size"].get<int64_t>(), c.value("gamma", 0.1));
  if (kind == "multistep")
    return std::make_unique<MultiStepLR>(opt, c["milestones"].get<std::vector<int64_t>>(), c.value("gamma", 0.1));
  if (kind == "cosine")
    return std::make_unique<CosineAnnealingLR>(opt, c["T_max"].get<int64_t>(), c.value("eta_min", 0.0));
  if (kind == "onecycle")
    return std::make_unique<OneCycleLR>(
        opt, c["max_lr"].get<double>(), c["total_steps"].get<int64_t>(), c["pct_start"].get<double>(),
        c["div_factor"].get<double>(), c["final_div_factor"].get<double>(), c["three_phase"].get<bool>(),
        c["cycle_momentum"].get<bool>(), c["base_momentum"].get<double>(), c["max_momentum"].get<double>(),
        c["anneal"] == "linear" ? OneCycleLR::Anneal::Linear : OneCycleLR::Anneal::Cos);
  EXPECT_EQ(kind, "warmup");
  auto after = make_scheduler(c["after"], opt);
  return std::make_unique<LinearWarmup>(opt, c["warmup_steps"].get<int64_t>(), std::move(after),
                                        c["start_factor"].get<double>());
}

Tensor param_from(const io::SafeTensors& f, const std::string& name) {
  Tensor p = fixture_tensor(f, name).clone();
  p.requires_grad_();
  return p;
}

}  // namespace

TEST(OptimParity, Schedules) {
  int cases = 0;
  for (const auto& path : fixture_files("optim_sched_")) {
    SCOPED_TRACE(path);
    const json c = fixture_config(load_fixture(path));
    Tensor p = Tensor::zeros({1});
    p.requires_grad_();
    auto opt = make_optimizer(c, {p});
    auto sched = make_scheduler(c, *opt);
    const auto lrs = c["lrs"].get<std::vector<double>>();
    const auto moms = c["momentums"].get<std::vector<double>>();
    const int64_t steps = c["steps"];
    ASSERT_EQ(static_cast<int64_t>(lrs.size()), steps + 1);
    std::vector<double> got_lr{opt->lr()}, got_m{opt->momentum()};
    for (int64_t s = 1; s <= steps; ++s) {
      opt->step();  // no gradients: a no-op, but the order of calls is PyTorch's
      sched->step();
      got_lr.push_back(opt->lr());
      got_m.push_back(opt->momentum());
      EXPECT_DOUBLE_EQ(sched->lr_at(s), opt->lr());  // the closed form is what step() sets
    }
    // PyTorch's recursive forms (StepLR, cosine, LinearLR) round differently from the
    // closed forms by a few ulps; 1e-12 relative is far below anything that matters.
    EXPECT_TRUE(all_close(got_lr, lrs, 1e-12, 1e-18)) << "lr";
    EXPECT_TRUE(all_close(got_m, moms, 1e-12, 1e-18)) << "momentum";
    ++cases;
  }
  EXPECT_GE(cases, 10);
}

TEST(OptimParity, TrainSmallMLP) {
  int cases = 0;
  for (const auto& path : fixture_files("optim_train_")) {
    SCOPED_TRACE(path);
    const auto f = load_fixture(path);
    const json c = fixture_config(f);
    std::vector<Tensor> ps = {param_from(f, "w1"), param_from(f, "b1"), param_from(f, "w2"), param_from(f, "b2")};
    auto opt = make_optimizer(c, ps);
    std::unique_ptr<LRScheduler> sched;
    if (c.contains("onecycle_max_lr"))
      sched = std::make_unique<OneCycleLR>(*opt, c["onecycle_max_lr"].get<double>(), c["steps"].get<int64_t>());
    const Tensor& xs = fixture_tensor(f, "x");  // (steps, B, in)
    const Tensor& ys = fixture_tensor(f, "y");  // (steps, B)
    const int64_t steps = c["steps"], B = xs.size(1), in = xs.size(2);
    std::vector<double> losses;
    for (int64_t s = 0; s < steps; ++s) {
      Tensor x = Tensor::from_vector({B, in}, std::vector<float>(xs.data() + s * B * in, xs.data() + (s + 1) * B * in));
      Labels y(static_cast<size_t>(B));
      for (int64_t i = 0; i < B; ++i) y[i] = static_cast<int64_t>(ys.data()[s * B + i]);
      opt->zero_grad();
      Tensor h = ops::relu(ops::linear(x, ps[0], ps[1]));
      Tensor loss = ops::cross_entropy(ops::linear(h, ps[2], ps[3]), y);
      loss.backward();
      opt->step();
      if (sched) sched->step();
      losses.push_back(loss.item());
    }
    EXPECT_TRUE(all_close(losses, c["losses"].get<std::vector<double>>(), 1e-5, 1e-7)) << "losses";
    for (const auto& [i, name] : {std::pair<int, const char*>{0, "w1"}, {1, "b1"}, {2, "w2"}, {3, "b2"}})
      EXPECT_TRUE(all_close(ps[i], fixture_tensor(f, std::string(name) + "_final"), 1e-5, 1e-6)) << name;
    // The run moved the weights (so matching the final weights means something).
    EXPECT_FALSE(all_close(ps[0], fixture_tensor(f, "w1"), 1e-3, 1e-4));
    ++cases;
  }
  EXPECT_GE(cases, 10);
}
