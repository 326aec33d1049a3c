#pragma once
#pragma GCC visibility push(default)
/// \file
/// Processes that train together (data parallelism, docs/distributed.md): a process group
/// with a rank and a world size, and the collectives a data-parallel trainer needs.
///
/// world() is the group of the processes `mpirun` started: initialized on first use from the
/// environment mpirun sets (OMPI_COMM_WORLD_SIZE, PMI_SIZE, PMIX_RANK). A process started
/// without mpirun is a group of one, and makes no MPI call at all.
///
/// The MPI group runs every MPI call on one communication thread of its own (MPI is
/// initialized there, with MPI_THREAD_FUNNELED), so the thread that computes never blocks in
/// MPI: allreduce_async() returns at once, and the collective runs while backward goes on.
/// Every collective has a deadline (set_timeout(), `--dist-timeout`): a peer that died or
/// stopped answering makes every rank print what it was waiting for and exit non-zero,
/// instead of hanging forever.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "convnet/core/tensor.h"

namespace convnet::dist {

/// How allreduce combines the ranks' values.
enum class ReduceOp {
  sum,      ///< The sum over the ranks.
  average,  ///< The sum divided by the world size.
  max,      ///< The largest value.
};

/// A collective started by allreduce_async(), running on the communication thread.
class Work {
 public:
  virtual ~Work() = default;
  /// Blocks until the collective is done.
  /// \post The buffer given to allreduce_async() holds the result.
  /// \throws convnet::Error if the collective failed.
  virtual void wait() = 0;
  /// Whether the collective has finished (never blocks).
  virtual bool done() const = 0;
  /// Seconds from submission to the start of the collective on the communication thread.
  virtual double queued_seconds() const = 0;
};

/// A group of processes that run the same program on different data: the collectives of
/// data-parallel training. Every rank must call the same collectives in the same order.
class ProcessGroup {
 public:
  virtual ~ProcessGroup() = default;
  /// This process's rank, in [0, size()).
  virtual int rank() const = 0;
  /// The number of processes.
  virtual int size() const = 0;
  /// "local" (one process, no MPI) or "mpi".
  virtual std::string backend() const = 0;
  /// Reduces `n` floats over the ranks, in place on every rank (blocking).
  /// \pre  Every rank calls it with the same `n` and `op`.
  /// \post `data` holds the result on every rank (the same bits on every rank).
  /// \throws convnet::Error on an MPI failure.
  virtual void allreduce(float* data, int64_t n, ReduceOp op) = 0;
  /// As allreduce() for doubles.
  virtual void allreduce(double* data, int64_t n, ReduceOp op) = 0;
  /// Starts reducing `n` floats in place and returns at once.
  /// \pre  `data` stays valid and untouched until the Work is done; every rank starts the
  ///       same collectives in the same order.
  /// \post The collectives of one process run in the order they were started.
  virtual std::shared_ptr<Work> allreduce_async(float* data, int64_t n, ReduceOp op) = 0;
  /// Copies `bytes` bytes from rank `root` to every other rank (blocking).
  /// \pre  Every rank calls it with the same `bytes` and `root`.
  virtual void broadcast(void* data, int64_t bytes, int root) = 0;
  /// Returns when every rank has called it.
  virtual void barrier() = 0;
  /// Every rank's string, in rank order, on every rank (the strings may differ in length).
  virtual std::vector<std::string> allgather(const std::string& mine) = 0;

  /// allreduce() of a float32 tensor, in place.
  /// \pre  `t` is a float32 CPU tensor of the same shape on every rank.
  /// \throws convnet::Error for another dtype or device.
  void allreduce(Tensor& t, ReduceOp op);
  /// broadcast() of a tensor's elements, in place.
  /// \pre  `t` is a CPU tensor of the same shape and dtype on every rank.
  void broadcast(Tensor& t, int root);
  /// rank 0's string on every rank.
  std::string broadcast(const std::string& s, int root = 0);
};

/// The process group of this process: MPI when started by mpirun (and built with MPI),
/// otherwise a group of one. Made on the first call.
/// \throws convnet::Error when mpirun started this process but the build has no MPI.
ProcessGroup& world();
/// Whether world() has been made and is an MPI group (with any number of ranks).
bool launched();
/// The rank that world() has, or would have (read from the environment without starting
/// MPI): for prefixing messages before world() exists.
int env_rank();
/// Whether this build can run an MPI group (it was compiled with MPI found).
bool mpi_compiled();
/// The deadline of every collective, in seconds (default 120); `--dist-timeout`.
/// \pre  `seconds` > 0.
void set_timeout(double seconds);
/// The deadline set by set_timeout().
double timeout();
/// This rank's share of the current global batch (n_r / n): GradientReducer::prepare() sets
/// it before each backward; ops::sync_batch_norm's backward weights its sums by it.
/// \post 1 until set.
double grad_weight();
/// Sets grad_weight().
/// \pre  0 < w <= 1.
void set_grad_weight(double w);
/// A prefix for messages: "rank R: " in an MPI group, "" otherwise.
std::string rank_prefix();

}  // namespace convnet::dist
#pragma GCC visibility pop
