#pragma once
#pragma GCC visibility push(default)
/// \file
/// Learning-rate schedules, as torch.optim.lr_scheduler. A scheduler drives one optimizer:
/// at construction it sets the lr of step 0 (PyTorch's initial step), and each step()
/// advances the step count and sets the optimizer's lr (and, for OneCycleLR, its momentum /
/// Adam beta1) to the closed form lr_at(step). Call it after optimizer.step(), once per
/// epoch or once per batch, as in PyTorch.
///
/// The base lr is the optimizer's lr when the scheduler is constructed (PyTorch's
/// initial_lr), except for OneCycleLR, which, as PyTorch's, starts at max_lr / div_factor.
/// Schedules are closed forms of the step count, so resuming from a checkpoint is
/// set_last_step(saved step): no history is replayed.
///
/// A scheduler keeps a reference to its optimizer: the optimizer must outlive it.
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "convnet/optim/optimizer.h"

namespace convnet::optim {

/// The base of the schedules (torch.optim.lr_scheduler.LRScheduler).
class LRScheduler {
 public:
  /// Attaches to `opt`; base_lr() = opt.lr(), last_step() = 0. Does not set the lr: each
  /// concrete scheduler's constructor does (apply()).
  /// \pre  `opt` outlives the scheduler.
  explicit LRScheduler(Optimizer& opt);
  virtual ~LRScheduler();
  LRScheduler(const LRScheduler&) = delete;
  LRScheduler& operator=(const LRScheduler&) = delete;

  /// The lr after `step` calls to step() (step 0: right after construction).
  /// \pre  `step` >= 0 (and, for OneCycleLR, at most total_steps).
  /// \post the closed form of the schedule; no side effect.
  /// \throws convnet::Error naming the schedule where it refuses `step` (OneCycleLR).
  virtual double lr_at(int64_t step) const = 0;
  /// The momentum this schedule sets at `step`, or nullopt if it leaves momentum alone.
  /// \pre  as lr_at().
  /// \throws convnet::Error as lr_at().
  virtual std::optional<double> momentum_at(int64_t step) const { return std::nullopt; }

  /// Advances one step (scheduler.step()).
  /// \post last_step() is one more; the optimizer's lr is lr_at(last_step()), and its
  ///       momentum momentum_at(last_step()) when that is set.
  /// \throws convnet::Error as lr_at() for a step past the schedule's end (OneCycleLR), or
  ///         as the optimizer's set_momentum() for a momentum it refuses.
  void step();
  /// The number of step() calls (or the step last set).
  int64_t last_step() const { return last_step_; }
  /// Jumps to `step` and sets the optimizer's lr/momentum for it (for resuming).
  /// \pre  `step` >= 0.
  /// \post last_step() == `step`; the optimizer as after `step` calls to step().
  /// \throws convnet::Error "LRScheduler::set_last_step: step must be non-negative" for a
  ///         negative `step`; as step() otherwise.
  void set_last_step(int64_t step);

  /// The lr the schedule scales (see the file comment).
  double base_lr() const { return base_lr_; }
  /// The optimizer this scheduler drives.
  Optimizer& optimizer() const { return opt_; }

 protected:
  /// Sets the optimizer's lr (and momentum) for last_step(). Every concrete scheduler's
  /// constructor calls it last: PyTorch's initial step (a virtual call cannot be made
  /// from this base constructor).
  /// \throws convnet::Error as step().
  void apply();

  Optimizer& opt_;         ///< The optimizer driven.
  double base_lr_;         ///< See base_lr().
  int64_t last_step_ = 0;  ///< See last_step().
};

/// torch.optim.lr_scheduler.StepLR: lr = base * gamma^floor(step / step_size).
class StepLR : public LRScheduler {
 public:
  /// Attaches to `opt` and sets its lr to lr_at(0) = base lr.
  /// \pre  `step_size` > 0.
  /// \throws convnet::Error "StepLR: step_size must be positive" otherwise.
  StepLR(Optimizer& opt, int64_t step_size, double gamma = 0.1);
  /// base * gamma^floor(step / step_size).
  double lr_at(int64_t step) const override;

 private:
  int64_t step_size_;
  double gamma_;
};

/// torch.optim.lr_scheduler.MultiStepLR: lr = base * gamma^(number of milestones <= step);
/// a repeated milestone counts twice.
class MultiStepLR : public LRScheduler {
 public:
  /// Attaches to `opt` and sets its lr to lr_at(0). `milestones` may come in any order.
  MultiStepLR(Optimizer& opt, std::vector<int64_t> milestones, double gamma = 0.1);
  /// base * gamma^(number of milestones <= step).
  double lr_at(int64_t step) const override;

 private:
  std::vector<int64_t> milestones_;  // sorted
  double gamma_;
};

/// torch.optim.lr_scheduler.CosineAnnealingLR:
/// lr = eta_min + (base - eta_min) * (1 + cos(pi * step / T_max)) / 2
/// (PyTorch's _get_closed_form_lr; its recursive form gives the same values, and both
/// continue as a cosine of period 2*T_max past T_max).
class CosineAnnealingLR : public LRScheduler {
 public:
  /// Attaches to `opt` and sets its lr to lr_at(0) = base lr.
  /// \pre  `T_max` > 0.
  /// \throws convnet::Error "CosineAnnealingLR: T_max must be positive" otherwise.
  CosineAnnealingLR(Optimizer& opt, int64_t T_max, double eta_min = 0);
  /// eta_min + (base - eta_min) * (1 + cos(pi * step / T_max)) / 2.
  double lr_at(int64_t step) const override;

 private:
  int64_t T_max_;
  double eta_min_;
};

/// The 1cycle policy (Smith & Topin 2017), exactly torch.optim.lr_scheduler.OneCycleLR:
/// lr goes from max_lr/div_factor up to max_lr over the first pct_start of total_steps,
/// then down to max_lr/div_factor/final_div_factor (three_phase: back to the initial lr
/// symmetrically, then down to the minimum); momentum (SGD momentum or Adam beta1) moves
/// inversely between max_momentum and base_momentum when cycle_momentum. It may step
/// total_steps times; lr_at(step > total_steps) throws, as PyTorch does.
class OneCycleLR : public LRScheduler {
 public:
  /// The annealing curve within a phase.
  enum class Anneal {
    Cos,    ///< cosine annealing (PyTorch's anneal_strategy='cos')
    Linear  ///< linear annealing (anneal_strategy='linear')
  };
  /// Attaches to `opt`, sets base_lr() = max_lr / div_factor, and sets the optimizer's lr
  /// (and, with cycle_momentum, its momentum) for step 0.
  /// \pre  `total_steps` > 0; `pct_start` in [0, 1]; `div_factor`, `final_div_factor` > 0;
  ///       with cycle_momentum, base_momentum and max_momentum values the optimizer's
  ///       set_momentum() accepts.
  /// \throws convnet::Error "OneCycleLR: ..." naming the offending value; or as the
  ///         optimizer's set_momentum().
  OneCycleLR(Optimizer& opt, double max_lr, int64_t total_steps, double pct_start = 0.3, double div_factor = 25,
             double final_div_factor = 1e4, bool three_phase = false, bool cycle_momentum = true,
             double base_momentum = 0.85, double max_momentum = 0.95, Anneal anneal = Anneal::Cos);
  /// The lr at `step`.
  /// \pre  0 <= `step` <= total_steps.
  /// \throws convnet::Error "OneCycleLR: Tried to step ... times" (PyTorch's message) for a
  ///         larger `step`; "OneCycleLR: step must be non-negative" for a negative one.
  double lr_at(int64_t step) const override;
  /// The momentum at `step` with cycle_momentum, else nullopt.
  /// \pre  as lr_at() (with cycle_momentum).
  /// \throws convnet::Error as lr_at().
  std::optional<double> momentum_at(int64_t step) const override;

 private:
  struct Phase {
    double end_step, start_lr, end_lr, start_m, end_m;
  };
  // The phase containing `step` and the fraction of it done.
  std::pair<const Phase*, double> locate(int64_t step) const;
  double anneal(double start, double end, double pct) const;

  int64_t total_steps_;
  bool cycle_momentum_;
  Anneal anneal_;
  std::vector<Phase> phases_;
};

/// Linear warmup, then another schedule: the choice made here is a wrapper rather than a
/// SequentialLR-style list. For step < warmup_steps
///   lr = target * (start_factor + (1 - start_factor) * step / warmup_steps),
/// with target = after->lr_at(0) (the lr the next schedule starts from); from then on
/// lr = after->lr_at(step - warmup_steps), i.e. `after` runs on a clock started at the end
/// of the warmup. This is PyTorch's SequentialLR([LinearLR(opt, start_factor, 1.0,
/// warmup_steps), after], milestones=[warmup_steps]). start_factor defaults to LinearLR's
/// 1/3. `after` may be null: the lr then stays at the base lr. During the warmup the
/// momentum is after's momentum at its step 0.
class LinearWarmup : public LRScheduler {
 public:
  /// Takes ownership of `after` and sets the optimizer's lr (and `after`'s momentum, if it
  /// sets one) for step 0.
  /// \pre  `warmup_steps` >= 0; `start_factor` in [0, 1]; `after` null or driving `opt`.
  /// \throws convnet::Error "LinearWarmup: ..." when any of these does not hold.
  LinearWarmup(Optimizer& opt, int64_t warmup_steps, std::unique_ptr<LRScheduler> after,
               double start_factor = 1.0 / 3);
  /// The warmup ramp for step < warmup_steps, then after->lr_at(step - warmup_steps) (the
  /// base lr without `after`).
  /// \throws convnet::Error as `after`'s lr_at().
  double lr_at(int64_t step) const override;
  /// after's momentum at max(0, step - warmup_steps); nullopt without `after`.
  /// \throws convnet::Error as `after`'s momentum_at().
  std::optional<double> momentum_at(int64_t step) const override;

 private:
  int64_t warmup_;
  std::unique_ptr<LRScheduler> after_;
  double start_factor_;
  double target_;
};

}  // namespace convnet::optim
#pragma GCC visibility pop
