#pragma once
#pragma GCC visibility push(default)
/// \file
/// Data-parallel training over a ProcessGroup (dist.h), as PyTorch's DistributedDataParallel:
/// the same model on every rank, each rank a shard of every global batch, gradients
/// combined over the ranks after backward so that every rank takes the same step.
///
/// GradientReducer groups the parameters into buckets of about `bucket_mb` MB, in reverse
/// order (the last layers' gradients are ready first). During backward, a parameter's
/// post-accumulate hook copies its gradient into its bucket; a bucket whose gradients are all
/// final starts its allreduce at once, on the communication thread, while backward computes
/// the earlier layers. finish() waits for the buckets and writes the combined gradients back.
/// Buckets start in the same order on every rank (a bucket waits for those before it), as
/// MPI's collectives must be matched.
#include <cstdint>
#include <memory>
#include <vector>

#include "convnet/dist/dist.h"
#include "convnet/nn/module.h"

namespace convnet::dist {

/// How GradientReducer buckets the gradients.
struct ReducerOptions {
  double bucket_mb = 25;  ///< Bucket size in MB (10^6 bytes) of float32 gradients; > 0.
};

/// Timings of the steps so far (GradientReducer::stats()).
struct ReducerStats {
  int64_t steps = 0;    ///< Steps that communicated.
  int64_t buckets = 0;  ///< Buckets per step.
  /// Summed over the steps: how long before the end of backward the first bucket's allreduce
  /// was started (> 0: communication overlapped backward), in seconds.
  double first_launch_before_end = 0;
  /// Summed over the steps: how many buckets were started before the end of backward.
  int64_t launched_during_backward = 0;
  double wait = 0;  ///< Summed over the steps: seconds finish() waited for the allreduces.
};

/// Combines the gradients of `params` over the ranks of a group: after finish(), every
/// parameter's gradient is sum over ranks r of weight_r * gradient_r, where weight_r is what
/// rank r gave prepare() (n_r / n for a batch of n samples split in shards of n_r: the
/// gradient of the mean loss over the whole batch).
class GradientReducer {
 public:
  /// Buckets `params` and hooks them (Tensor::register_post_accumulate_grad_hook).
  /// \pre  Every rank gives the same parameters (shapes and order); each requires grad, is a
  ///       float32 CPU leaf; `pg` outlives the reducer.
  /// \throws convnet::Error for a parameter that is not a float32 leaf, or bucket_mb <= 0.
  GradientReducer(ProcessGroup& pg, std::vector<Tensor> params, ReducerOptions o = {});
  /// Removes the hooks (waits for collectives still running).
  ~GradientReducer();
  GradientReducer(const GradientReducer&) = delete;
  GradientReducer& operator=(const GradientReducer&) = delete;

  /// Arms the reducer for the next backward, with this rank's share of the global batch.
  /// With `sync` false (a gradient-accumulation step) that backward communicates nothing and
  /// finish() returns at once: the gradients accumulate locally until a step with `sync`.
  /// \pre  0 <= weight; the weights of all ranks sum to 1.
  void prepare(double weight, bool sync = true);
  /// After backward: starts the buckets not yet started (the gradients of parameters that
  /// backward did not reach count as zero), waits for all, and writes each combined
  /// gradient into its parameter's grad(). A parameter that no rank's backward reached
  /// keeps no gradient.
  /// \post Every parameter's grad() is the same on every rank.
  /// \throws convnet::Error when a collective fails.
  void finish();
  /// The number of buckets.
  int64_t num_buckets() const;
  /// The timings so far.
  const ReducerStats& stats() const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

/// Copies every parameter and buffer of `m` from rank `root` to the other ranks, so that all
/// start from the same weights (and evaluate with the same BatchNorm statistics).
/// \pre  `m` is the same architecture on every rank, on the CPU.
void broadcast_module(ProcessGroup& pg, nn::Module& m, int root = 0);

}  // namespace convnet::dist
#pragma GCC visibility pop
