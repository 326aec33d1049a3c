// Optimizers: hand-computed updates, skipping parameters without a gradient, zero_grad,
// state_dict round trips and the validation messages. PyTorch parity: tests/parity/test_optim.cpp.
#include <cmath>

#include "convnet/core/error.h"
#include "convnet/optim/adam.h"
#include "convnet/optim/sgd.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::optim;
using convnet::testing::all_close;
using convnet::testing::expect_error;

namespace {

Tensor param(std::vector<float> v) {
  const int64_t n = static_cast<int64_t>(v.size());
  Tensor t = Tensor::from_vector({n}, std::move(v));
  t.requires_grad_();
  return t;
}

void set_grad(Tensor& p, std::vector<float> g) { p.set_grad(Tensor::from_vector(p.shape(), std::move(g))); }

// Two parameters of shapes (2, 3) and (3) with gradients from `seed`.
std::vector<Tensor> make_params() {
  Tensor a = Tensor::from_vector({2, 3}, {0.5f, -1.f, 2.f, 0.25f, 3.f, -0.75f});
  Tensor b = Tensor::from_vector({3}, {1.f, -2.f, 0.1f});
  a.requires_grad_();
  b.requires_grad_();
  return {a, b};
}

std::vector<Tensor> clone_params(const std::vector<Tensor>& ps) {
  std::vector<Tensor> out;
  for (const auto& p : ps) {
    Tensor c = p.clone();
    c.requires_grad_();
    out.push_back(c);
  }
  return out;
}

// A deterministic gradient for step k, the same for any copy of the parameters.
void fill_grads(std::vector<Tensor>& ps, int k) {
  for (size_t i = 0; i < ps.size(); ++i) {
    std::vector<float> g(static_cast<size_t>(ps[i].numel()));
    for (size_t j = 0; j < g.size(); ++j) g[j] = std::sin(0.7f * static_cast<float>(j + 3 * i) + 1.3f * k);
    set_grad(ps[i], g);
  }
}

}  // namespace

// ---- hand-computed updates -------------------------------------------------------------

TEST(SGD, PlainStepIsLrTimesGrad) {
  Tensor p = param({1.f, -2.f});
  SGD opt({p}, {.lr = 0.1});
  set_grad(p, {0.5f, -1.f});
  opt.step();
  EXPECT_TRUE(all_close(p, Tensor::from_vector({2}, {0.95f, -1.9f}), 1e-6, 1e-7));
}

TEST(SGD, MomentumFirstStepSetsBufferToGradWithoutDampening) {
  // buf1 = g (no dampening on the first step), buf2 = m*buf1 + (1-d)*g.
  Tensor p = param({1.f});
  SGD opt({p}, {.lr = 0.1, .momentum = 0.9, .dampening = 0.5});
  set_grad(p, {0.5f});
  opt.step();  // buf = 0.5, p = 1 - 0.05
  EXPECT_NEAR(p.item(), 0.95, 1e-7);
  opt.step();  // buf = 0.45 + 0.25 = 0.7, p = 0.95 - 0.07
  EXPECT_NEAR(p.item(), 0.88, 1e-6);
  EXPECT_NEAR(opt.state_dict().at("0.momentum_buffer").item(), 0.7, 1e-7);
}

TEST(SGD, NesterovAndWeightDecay) {
  // g = 0.5 + 0.1*2 = 0.7; buf = 0.7; d = g + 0.9*buf = 1.33; p = 2 - 0.1*1.33.
  Tensor p = param({2.f});
  SGD opt({p}, {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.1, .nesterov = true});
  set_grad(p, {0.5f});
  opt.step();
  EXPECT_NEAR(p.item(), 2 - 0.133, 1e-6);
  // g = 0.5 + 0.1*1.867 = 0.6867; buf = 0.63 + 0.6867 = 1.3167; d = 0.6867 + 1.18503.
  opt.step();
  EXPECT_NEAR(p.item(), 1.867 - 0.1 * (0.6867 + 0.9 * 1.3167), 1e-6);
}

TEST(Adam, FirstStepMovesByLrTimesSignOfGrad) {
  // After one step the bias-corrected m/sqrt(v) is g/|g|, so |dp| = lr (up to eps).
  Tensor p = param({1.f, -1.f, 0.f});
  Adam opt({p}, {.lr = 0.1});
  set_grad(p, {0.5f, -3.f, 1e-3f});
  opt.step();
  EXPECT_TRUE(all_close(p, Tensor::from_vector({3}, {0.9f, -0.9f, -0.1f}), 1e-5, 1e-6));
  const auto st = opt.state_dict();
  EXPECT_EQ(st.at("0.step").item(), 1.f);
  EXPECT_NEAR(st.at("0.exp_avg").at({1}), 0.1 * -3, 1e-6);
  EXPECT_NEAR(st.at("0.exp_avg_sq").at({1}), 0.001 * 9, 1e-7);
}

TEST(Adam, SecondStepBiasCorrection) {
  // g1 = 1, g2 = -1: m = 0.09*... computed from the formulas in double.
  Tensor p = param({0.f});
  const double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8;
  Adam opt({p}, {.lr = lr});
  double m = 0, v = 0, x = 0;
  const double gs[] = {1.0, -1.0, 0.25};
  for (int t = 1; t <= 3; ++t) {
    set_grad(p, {static_cast<float>(gs[t - 1])});
    opt.step();
    m = b1 * m + (1 - b1) * gs[t - 1];
    v = b2 * v + (1 - b2) * gs[t - 1] * gs[t - 1];
    x -= lr / (1 - std::pow(b1, t)) * m / (std::sqrt(v) / std::sqrt(1 - std::pow(b2, t)) + eps);
    EXPECT_NEAR(p.item(), x, 1e-7) << "step " << t;
  }
}

TEST(Adam, L2WeightDecayVersusAdamWDecoupled) {
  // Adam folds wd*p into the gradient (so with a zero gradient the step is still ~lr);
  // AdamW multiplies p by (1 - lr*wd) and then takes the plain Adam step.
  Tensor pa = param({2.f}), pw = param({2.f});
  Adam adam({pa}, {.lr = 0.1, .weight_decay = 0.5});
  AdamW adamw({pw}, {.lr = 0.1, .weight_decay = 0.5});
  set_grad(pa, {0.f});
  set_grad(pw, {1.f});
  adam.step();
  adamw.step();
  EXPECT_NEAR(pa.item(), 1.9, 1e-6);               // g = 0 + 0.5*2 = 1 -> step lr*sign
  EXPECT_NEAR(pw.item(), 2 * (1 - 0.05) - 0.1, 1e-6);  // decay, then lr*sign(g)
}

TEST(AdamW, DefaultWeightDecayIsPyTorchs) {
  Tensor p = param({1.f});
  AdamW opt({p});
  EXPECT_DOUBLE_EQ(opt.options().weight_decay, 1e-2);
  EXPECT_DOUBLE_EQ(opt.lr(), 1e-3);
  EXPECT_EQ(opt.name(), "AdamW");
}

TEST(Adam, AmsgradUsesTheMaximumSecondMoment) {
  // A large gradient then small ones: with amsgrad the denominator keeps the large v.
  Tensor p1 = param({0.f}), p2 = param({0.f});
  Adam plain({p1}, {.lr = 0.1}), ams({p2}, {.lr = 0.1, .amsgrad = true});
  for (float g : {10.f, 0.1f, 0.1f, 0.1f}) {
    set_grad(p1, {g});
    set_grad(p2, {g});
    plain.step();
    ams.step();
  }
  const auto st = ams.state_dict();
  ASSERT_TRUE(st.count("0.max_exp_avg_sq"));
  EXPECT_GT(st.at("0.max_exp_avg_sq").item(), st.at("0.exp_avg_sq").item());
  EXPECT_GT(p2.item(), p1.item());  // smaller steps down with amsgrad
}

// ---- gradients: skipping and zero_grad ---------------------------------------------------

TEST(Optimizer, SkipsParametersWithoutGradient) {
  for (int kind = 0; kind < 3; ++kind) {
    auto ps = make_params();
    const std::vector<float> before_b = ps[1].to_vector();
    std::unique_ptr<Optimizer> opt;
    if (kind == 0) opt = std::make_unique<SGD>(ps, SGDOptions{.lr = 0.1, .momentum = 0.9, .weight_decay = 0.1});
    if (kind == 1) opt = std::make_unique<Adam>(ps, AdamOptions{.lr = 0.1, .weight_decay = 0.1});
    if (kind == 2) opt = std::make_unique<AdamW>(ps, AdamWOptions{.lr = 0.1, .weight_decay = 0.1});
    set_grad(ps[0], std::vector<float>(6, 1.f));
    const std::vector<float> before_a = ps[0].to_vector();
    opt->step();
    EXPECT_EQ(ps[1].to_vector(), before_b) << opt->name() << ": weight decay must not touch a param without grad";
    EXPECT_NE(ps[0].to_vector(), before_a) << opt->name();
    for (const auto& [k, v] : opt->state_dict()) EXPECT_EQ(k.rfind("0.", 0), 0u) << opt->name() << ": state " << k;
  }
}

TEST(Optimizer, ZeroGradDropsGradients) {
  auto ps = make_params();
  SGD opt(ps, {.lr = 0.1});
  fill_grads(ps, 0);
  ASSERT_TRUE(ps[0].grad().defined());
  opt.zero_grad();
  EXPECT_FALSE(ps[0].grad().defined());
  EXPECT_FALSE(ps[1].grad().defined());
  const auto before = ps[0].to_vector();
  opt.step();  // nothing to do
  EXPECT_EQ(ps[0].to_vector(), before);
}

TEST(Optimizer, SetLrAndMomentum) {
  auto ps = make_params();
  SGD sgd(ps, {.lr = 0.1, .momentum = 0.9});
  sgd.set_lr(0.5);
  sgd.set_momentum(0.8);
  EXPECT_DOUBLE_EQ(sgd.lr(), 0.5);
  EXPECT_DOUBLE_EQ(sgd.momentum(), 0.8);
  Adam adam(ps, {.lr = 0.1});
  EXPECT_DOUBLE_EQ(adam.momentum(), 0.9);  // beta1
  adam.set_momentum(0.85);
  EXPECT_DOUBLE_EQ(adam.options().beta1, 0.85);
  expect_error([&] { adam.set_momentum(1.0); }, {"Adam", "Invalid beta parameter at index 0: 1"});
}

// ---- state_dict ------------------------------------------------------------------------

namespace {
// Runs `a` 3 steps, copies params + state into `b`, then checks 3 more steps agree exactly.
template <class Opt, class Options>
void check_round_trip(Options o, const std::vector<std::string>& expected_keys) {
  auto pa = make_params();
  Opt a(pa, o);
  for (int k = 0; k < 3; ++k) {
    fill_grads(pa, k);
    a.step();
  }
  const auto st = a.state_dict();
  std::vector<std::string> keys;
  for (const auto& [k, v] : st) keys.push_back(k);
  EXPECT_EQ(keys, expected_keys);
  auto pb = clone_params(pa);
  Opt b(pb, o);
  b.load_state_dict(st);
  // The loaded state is a copy: changing the saved map does not change b.
  for (auto& [k, v] : const_cast<std::map<std::string, Tensor>&>(st)) v.fill_(123.f);
  for (int k = 3; k < 6; ++k) {
    fill_grads(pa, k);
    fill_grads(pb, k);
    a.step();
    b.step();
  }
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_EQ(pa[i].to_vector(), pb[i].to_vector()) << "param " << i;
  // Without the state, the trajectories differ (the test can fail).
  auto pc = clone_params(pb);
  Opt c(pc, o);
  fill_grads(pb, 6);
  fill_grads(pc, 6);
  b.step();
  c.step();
  EXPECT_NE(pb[0].to_vector(), pc[0].to_vector());
}
}  // namespace

TEST(Optimizer, StateDictRoundTripSGD) {
  check_round_trip<SGD>(SGDOptions{.lr = 0.1, .momentum = 0.9, .nesterov = true},
                        {"0.momentum_buffer", "1.momentum_buffer"});
}

TEST(Optimizer, StateDictRoundTripAdam) {
  check_round_trip<Adam>(AdamOptions{.lr = 0.05, .amsgrad = true},
                         {"0.exp_avg", "0.exp_avg_sq", "0.max_exp_avg_sq", "0.step", "1.exp_avg", "1.exp_avg_sq",
                          "1.max_exp_avg_sq", "1.step"});
}

TEST(Optimizer, StateDictRoundTripAdamW) {
  check_round_trip<AdamW>(AdamWOptions{.lr = 0.05, .weight_decay = 0.1},
                          {"0.exp_avg", "0.exp_avg_sq", "0.step", "1.exp_avg", "1.exp_avg_sq", "1.step"});
}

TEST(Optimizer, StateDictIsEmptyBeforeTheFirstStep) {
  auto ps = make_params();
  Adam opt(ps, {});
  EXPECT_TRUE(opt.state_dict().empty());
  opt.load_state_dict({});  // an empty state is valid
}

TEST(Optimizer, LoadStateDictErrors) {
  auto ps = make_params();
  SGD sgd(ps, {.lr = 0.1, .momentum = 0.9});
  Adam adam(ps, {.lr = 0.1});
  fill_grads(ps, 0);
  adam.step();
  auto adam_state = adam.state_dict();

  expect_error([&] { sgd.load_state_dict(adam_state); }, {"SGD::load_state_dict", "unexpected entry '0.exp_avg'"});
  expect_error([&] { sgd.load_state_dict({{"0.velocity", Tensor::zeros({2, 3})}}); },
               {"SGD::load_state_dict", "'0.velocity'"});
  expect_error([&] { sgd.load_state_dict({{"momentum_buffer", Tensor::zeros({2, 3})}}); },
               {"SGD::load_state_dict", "'momentum_buffer'"});
  expect_error([&] { sgd.load_state_dict({{"2.momentum_buffer", Tensor::zeros({3})}}); },
               {"SGD::load_state_dict", "'2.momentum_buffer'", "2 parameters"});
  expect_error([&] { sgd.load_state_dict({{"1.momentum_buffer", Tensor::zeros({2, 3})}}); },
               {"SGD::load_state_dict", "'1.momentum_buffer'", "(2, 3)", "(3)"});

  auto missing = adam_state;
  missing.erase("1.exp_avg_sq");
  expect_error([&] { adam.load_state_dict(missing); }, {"Adam::load_state_dict", "missing entry '1.exp_avg_sq'"});
  auto bad_step = adam_state;
  bad_step["0.step"] = Tensor::zeros({2});
  expect_error([&] { adam.load_state_dict(bad_step); }, {"Adam::load_state_dict", "'0.step'"});
  auto bad_shape = adam_state;
  bad_shape["0.exp_avg"] = Tensor::zeros({6});
  expect_error([&] { adam.load_state_dict(bad_shape); }, {"Adam::load_state_dict", "'0.exp_avg'", "(6)", "(2, 3)"});
  Adam ams(ps, {.lr = 0.1, .amsgrad = true});
  expect_error([&] { ams.load_state_dict(adam_state); }, {"missing entry '0.max_exp_avg_sq'"});

  // A failed load leaves the state as it was.
  const auto before = adam.state_dict();
  EXPECT_THROW(adam.load_state_dict(missing), Error);
  EXPECT_EQ(adam.state_dict().size(), before.size());
  EXPECT_EQ(adam.state_dict().at("1.exp_avg_sq").to_vector(), before.at("1.exp_avg_sq").to_vector());
}

// ---- validation ------------------------------------------------------------------------

TEST(Optimizer, ValidationMessages) {
  auto ps = make_params();
  expect_error([&] { SGD(ps, {.lr = -0.1}); }, {"SGD", "Invalid learning rate: -0.1"});
  expect_error([&] { SGD(ps, {.lr = 0.1, .momentum = -0.5}); }, {"SGD", "Invalid momentum value: -0.5"});
  expect_error([&] { SGD(ps, {.lr = 0.1, .weight_decay = -1}); }, {"SGD", "Invalid weight_decay value: -1"});
  expect_error([&] { SGD(ps, {.lr = 0.1, .nesterov = true}); },
               {"SGD", "Nesterov momentum requires a momentum and zero dampening"});
  expect_error([&] { SGD(ps, {.lr = 0.1, .momentum = 0.9, .dampening = 0.1, .nesterov = true}); },
               {"Nesterov momentum requires a momentum and zero dampening", "dampening 0.1"});
  expect_error([&] { Adam(ps, {.lr = -1e-3}); }, {"Adam", "Invalid learning rate"});
  expect_error([&] { Adam(ps, {.eps = -1}); }, {"Adam", "Invalid epsilon value: -1"});
  expect_error([&] { Adam(ps, {.beta1 = 1.0}); }, {"Adam", "Invalid beta parameter at index 0: 1"});
  expect_error([&] { Adam(ps, {.beta2 = -0.1}); }, {"Adam", "Invalid beta parameter at index 1: -0.1"});
  expect_error([&] { AdamW(ps, {.weight_decay = -0.01}); }, {"AdamW", "Invalid weight_decay value: -0.01"});
  expect_error([&] { SGD({}, {}); }, {"SGD", "empty parameter list"});
  expect_error([&] { Adam({Tensor()}, {}); }, {"Adam", "parameter 0 is an undefined tensor"});
  Tensor leaf = Tensor::zeros({2, 2});
  leaf.requires_grad_();
  Tensor non_leaf = leaf.reshape({4});
  ASSERT_FALSE(non_leaf.is_leaf());
  expect_error([&] { SGD({leaf, non_leaf}, {}); }, {"SGD", "non-leaf", "parameter 1", "(4)"});
}

TEST(Optimizer, GradientShapeMismatch) {
  auto ps = make_params();
  SGD opt(ps, {.lr = 0.1});
  ps[1].set_grad(Tensor::zeros({4}));
  expect_error([&] { opt.step(); }, {"SGD", "gradient of shape (4)", "parameter 1 of shape (3)"});
}

TEST(AdamW, TakesAdamOptionsToo) {
  // A named AdamOptions works (its weight decay, 0 unless set); a braced list means AdamWOptions.
  Tensor p = param({1.f});
  AdamOptions o;
  o.lr = 0.1;
  AdamW with_adam_options({p}, o);
  EXPECT_DOUBLE_EQ(with_adam_options.options().weight_decay, 0.0);
  AdamW braced({p}, {.lr = 0.1});
  EXPECT_DOUBLE_EQ(braced.options().weight_decay, 1e-2);
}
