// Learning-rate schedules: the closed forms of torch/optim/lr_scheduler.py (1.13).
#include "convnet/optim/lr_scheduler.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "convnet/core/error.h"

namespace convnet::optim {

LRScheduler::LRScheduler(Optimizer& opt) : opt_(opt), base_lr_(opt.lr()) {}
LRScheduler::~LRScheduler() = default;

void LRScheduler::apply() {
  opt_.set_lr(lr_at(last_step_));
  if (auto m = momentum_at(last_step_)) opt_.set_momentum(*m);
}

void LRScheduler::step() {
  ++last_step_;
  apply();
}

void LRScheduler::set_last_step(int64_t step) {
  CONVNET_CHECK(step >= 0, "LRScheduler::set_last_step: step must be non-negative, got ", step);
  last_step_ = step;
  apply();
}

// ---- StepLR -----------------------------------------------------------------------

StepLR::StepLR(Optimizer& opt, int64_t step_size, double gamma) : LRScheduler(opt), step_size_(step_size), gamma_(gamma) {
  CONVNET_CHECK(step_size > 0, "StepLR: step_size must be positive, got ", step_size);
  apply();
}

double StepLR::lr_at(int64_t step) const { return base_lr_ * std::pow(gamma_, static_cast<double>(step / step_size_)); }

// ---- MultiStepLR ------------------------------------------------------------------

MultiStepLR::MultiStepLR(Optimizer& opt, std::vector<int64_t> milestones, double gamma)
    : LRScheduler(opt), milestones_(std::move(milestones)), gamma_(gamma) {
  std::sort(milestones_.begin(), milestones_.end());
  apply();
}

double MultiStepLR::lr_at(int64_t step) const {
  // bisect_right: milestones <= step have been passed.
  const auto passed = std::upper_bound(milestones_.begin(), milestones_.end(), step) - milestones_.begin();
  return base_lr_ * std::pow(gamma_, static_cast<double>(passed));
}

// ---- CosineAnnealingLR ------------------------------------------------------------

CosineAnnealingLR::CosineAnnealingLR(Optimizer& opt, int64_t T_max, double eta_min)
    : LRScheduler(opt), T_max_(T_max), eta_min_(eta_min) {
  CONVNET_CHECK(T_max > 0, "CosineAnnealingLR: T_max must be positive, got ", T_max);
  apply();
}

double CosineAnnealingLR::lr_at(int64_t step) const {
  return eta_min_ +
         (base_lr_ - eta_min_) * (1 + std::cos(std::numbers::pi * static_cast<double>(step) / T_max_)) / 2;
}

// ---- OneCycleLR -------------------------------------------------------------------

OneCycleLR::OneCycleLR(Optimizer& opt, double max_lr, int64_t total_steps, double pct_start, double div_factor,
                       double final_div_factor, bool three_phase, bool cycle_momentum, double base_momentum,
                       double max_momentum, Anneal anneal)
    : LRScheduler(opt), total_steps_(total_steps), cycle_momentum_(cycle_momentum), anneal_(anneal) {
  CONVNET_CHECK(total_steps > 0, "OneCycleLR: Expected positive integer total_steps, but got ", total_steps);
  CONVNET_CHECK(pct_start >= 0 && pct_start <= 1, "OneCycleLR: Expected float between 0 and 1 pct_start, but got ",
                pct_start);
  CONVNET_CHECK(div_factor > 0 && final_div_factor > 0, "OneCycleLR: div_factor and final_div_factor must be positive, got ",
                div_factor, " and ", final_div_factor);
  const double initial_lr = max_lr / div_factor, min_lr = initial_lr / final_div_factor;
  base_lr_ = initial_lr;  // PyTorch overwrites the group's initial_lr
  const double n = static_cast<double>(total_steps);
  if (three_phase) {
    phases_ = {{pct_start * n - 1, initial_lr, max_lr, max_momentum, base_momentum},
               {2 * pct_start * n - 2, max_lr, initial_lr, base_momentum, max_momentum},
               {n - 1, initial_lr, min_lr, max_momentum, max_momentum}};
  } else {
    phases_ = {{pct_start * n - 1, initial_lr, max_lr, max_momentum, base_momentum},
               {n - 1, max_lr, min_lr, base_momentum, max_momentum}};
  }
  apply();
}

std::pair<const OneCycleLR::Phase*, double> OneCycleLR::locate(int64_t step) const {
  CONVNET_CHECK(step <= total_steps_, "OneCycleLR: Tried to step ", step + 1,
                " times. The specified number of total steps is ", total_steps_);
  CONVNET_CHECK(step >= 0, "OneCycleLR: step must be non-negative, got ", step);
  const double s = static_cast<double>(step);
  double start = 0;
  for (size_t i = 0; i < phases_.size(); ++i) {
    const Phase& ph = phases_[i];
    if (s <= ph.end_step || i + 1 == phases_.size()) {
      // PyTorch divides by zero (and raises) for an empty phase; we are at its end.
      const double pct = ph.end_step == start ? 1.0 : (s - start) / (ph.end_step - start);
      return {&ph, pct};
    }
    start = ph.end_step;
  }
  return {&phases_.back(), 1.0};  // not reached
}

double OneCycleLR::anneal(double start, double end, double pct) const {
  if (anneal_ == Anneal::Linear) return (end - start) * pct + start;
  const double cos_out = std::cos(std::numbers::pi * pct) + 1;
  return end + (start - end) / 2.0 * cos_out;
}

double OneCycleLR::lr_at(int64_t step) const {
  const auto [ph, pct] = locate(step);
  return anneal(ph->start_lr, ph->end_lr, pct);
}

std::optional<double> OneCycleLR::momentum_at(int64_t step) const {
  if (!cycle_momentum_) return std::nullopt;
  const auto [ph, pct] = locate(step);
  return anneal(ph->start_m, ph->end_m, pct);
}

// ---- LinearWarmup -----------------------------------------------------------------

LinearWarmup::LinearWarmup(Optimizer& opt, int64_t warmup_steps, std::unique_ptr<LRScheduler> after,
                           double start_factor)
    : LRScheduler(opt), warmup_(warmup_steps), after_(std::move(after)), start_factor_(start_factor) {
  CONVNET_CHECK(warmup_steps >= 0, "LinearWarmup: warmup_steps must be non-negative, got ", warmup_steps);
  CONVNET_CHECK(start_factor >= 0 && start_factor <= 1,
                "LinearWarmup: Starting multiplicative factor expected to be between 0 and 1, got ", start_factor);
  CONVNET_CHECK(!after_ || &after_->optimizer() == &opt,
                "LinearWarmup: the schedule after the warmup must drive the same optimizer");
  target_ = after_ ? after_->lr_at(0) : base_lr_;
  apply();
}

double LinearWarmup::lr_at(int64_t step) const {
  if (step < warmup_)
    return target_ * (start_factor_ + (1 - start_factor_) * static_cast<double>(step) / static_cast<double>(warmup_));
  return after_ ? after_->lr_at(step - warmup_) : base_lr_;
}

std::optional<double> LinearWarmup::momentum_at(int64_t step) const {
  if (!after_) return std::nullopt;
  return after_->momentum_at(std::max<int64_t>(0, step - warmup_));
}

}  // namespace convnet::optim
