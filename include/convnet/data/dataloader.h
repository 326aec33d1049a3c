#pragma once
#pragma GCC visibility push(default)
/// \file
/// DataLoader (as torch.utils.data.DataLoader): mini-batches of an in-memory Dataset, in
/// order or shuffled, optionally augmented, normalized and mixed (MixUp/CutMix) by
/// background worker threads.
///
/// \code
///   LoaderOptions o;  o.batch_size = 128;  o.seed = 1;  o.workers = 2;
///   o.augment = Augment::parse("crop:4,flip");  o.mean = {...};  o.std = {...};
///   DataLoader loader(train_set, o);
///   for (int64_t e = 0; e < epochs; ++e) {
///     loader.start_epoch(e);
///     for (Batch b; loader.next(b);) { ... b.x: (B, C, H, W), b.y: B labels ... }
///   }
/// \endcode
///
/// Reproducibility: everything is a function of (seed, epoch) alone, never of the thread
/// count or timing, so workers = 0, 1 or 8 give bit-identical batches and a resumed run
/// repeats the epoch exactly:
///   - the order of epoch e is a Fisher-Yates permutation drawn from Generator(h(seed, e));
///   - sample k's augmentation draws come from Generator(h(seed, e, k)), k its dataset index;
///   - batch b's MixUp/CutMix draws come from Generator(h(seed, e, b)) (another stream).
#include <cstdint>
#include <exception>
#include <memory>
#include <vector>

#include "convnet/data/dataset.h"
#include "convnet/data/transforms.h"

namespace convnet::data {

/// One mini-batch of a DataLoader.
struct Batch {
  Tensor x;                ///< (B, C, H, W) float32: a copy of the images, not attached to any graph
  std::vector<int64_t> y;  ///< B labels (the samples' own labels, also under MixUp/CutMix)
  Tensor y_soft;           ///< (B, K) soft targets when MixUp/CutMix is on, else undefined
};

/// The settings of a DataLoader (torch.utils.data.DataLoader's arguments, plus the per-sample
/// augmentation, normalization and batch mixing that torchvision would do in transforms).
struct LoaderOptions {
  int64_t batch_size = 128;                  ///< samples per batch (> 0)
  bool shuffle = true;                       ///< a new random order each epoch, else the data set's order
  uint64_t seed = 0;                         ///< seeds the order, the augmentation and the mixing
  bool drop_last = false;                    ///< drop the last batch when it is smaller than batch_size
  int workers = 2;                           ///< background threads preparing batches (0 = in next())
  int prefetch = 2;                          ///< prepared batches kept ahead per worker (the queue bound, >= 1)
  std::shared_ptr<const Augment> augment;    ///< per-sample random transforms; may be null (none)
  /// Per-channel means: `x[c] = (x[c] - mean[c]) / std[c]` after augmentation (empty = none).
  std::vector<float> mean, std;              ///< Per-channel standard deviations (> 0), one per channel as `mean`.
  /// MixUp's Beta parameter; > 0 turns MixUp on (see mix_batch()).
  double mixup_alpha = 0, cutmix_alpha = 0;  ///< CutMix's Beta parameter; > 0 turns CutMix on (see mix_batch()).
  int64_t num_classes = 0;                   ///< K of the soft targets; 0 = `d.class_names.size()`
  /// Data parallelism (dist/data_parallel.h): this process's rank among `world_size` ranks
  /// that each take a shard of every global batch. A global batch holds `batch_size *
  /// world_size` samples of the epoch's order (which depends on the seed, not on the world
  /// size); rank r takes its r-th contiguous slice. A last global batch too small to give
  /// every rank a sample is dropped.
  int rank = 0;
  int world_size = 1;  ///< The number of ranks sharing each global batch (>= 1, > rank).
};

/// Mini-batches of an in-memory Dataset, one epoch at a time (as torch.utils.data.DataLoader).
/// Batches are prepared by prepare(), in next() or ahead of it by worker threads; the result
/// does not depend on the number of workers (see the file comment).
class DataLoader {
 public:
  /// A loader over `d` with the options `o` (as torch.utils.data.DataLoader).
  /// The loader keeps a reference to `d`: the data set must outlive the loader and not change
  /// while it runs. Epoch 0 is started.
  /// \pre  `o.batch_size > 0`, `o.workers >= 0`, `o.prefetch >= 1`; `d.images` defined with
  ///       `d.size()` rows; (N, C, H, W) images when augmentation, normalization or mixing is on;
  ///       `o.mean` and `o.std` both empty or both of C entries, every std > 0; alphas >= 0;
  ///       when MixUp/CutMix is on, K (`o.num_classes`, else the number of class names) > 0 and
  ///       every label in `[0, K)`.
  /// \post epoch() == 0 and next() returns the first batch of epoch 0.
  /// \throws convnet::Error naming the option or the value that breaks a requirement above
  ///         (the batch size, the image shape, the mean/std counts, the channel, the sample ...).
  DataLoader(const Dataset& d, const LoaderOptions& o);
  /// The plain loader: no workers, no augmentation, normalization or mixing; batches are copies
  /// of the samples, in order or shuffled.
  /// \pre  `batch_size > 0`; `d` outlives the loader, as above.
  /// \post as DataLoader(d, o) with those four options set and workers = 0.
  /// \throws convnet::Error as DataLoader(d, o).
  DataLoader(const Dataset& d, int64_t batch_size, bool shuffle, uint64_t seed = 0, bool drop_last = false);
  /// A temporary dataset would be destroyed while the loader still reads it (the loader
  /// keeps a reference): refused at compile time.
  DataLoader(Dataset&& d, const LoaderOptions& o) = delete;
  /// As above.
  DataLoader(Dataset&& d, int64_t batch_size, bool shuffle, uint64_t seed = 0, bool drop_last = false) = delete;
  ~DataLoader();  ///< Stops and joins the workers.
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  /// Restarts at the first batch of `epoch`, abandoning the batches in flight.
  /// Workers start on the first next() of the epoch.
  /// \pre  `epoch >= 0`.
  /// \post epoch() == `epoch`; order() is the epoch's sample order (a permutation drawn from
  ///       the seed and `epoch` when shuffling, else 0..N-1); a failure kept from the previous
  ///       epoch is cleared.
  /// \throws convnet::Error when `epoch` is negative.
  void start_epoch(int64_t epoch);
  /// The next batch of the epoch (one step of iterating a torch DataLoader).
  /// The last batch is smaller when the size is not a multiple of batch_size, unless drop_last.
  /// \post true and `b` the next batch, or false (and `b` untouched) once the epoch is done.
  /// \throws convnet::Error or any other exception thrown while preparing a batch (in a worker
  ///         or not): it is rethrown by the next() that would have returned that batch, and again
  ///         by later calls until start_epoch().
  bool next(Batch& b);
  /// Batches per epoch: `ceil(N / batch_size)`, or `floor(N / batch_size)` with drop_last.
  /// With world_size W > 1, global batches: `floor(N / (batch_size W))`, plus one for the rest
  /// unless drop_last or the rest is below W.
  int64_t num_batches() const;
  /// The number of samples of global batch `index` over all ranks (the batch itself when
  /// world_size is 1).
  /// \pre `0 <= index < num_batches()`.
  int64_t global_batch_size(int64_t index) const;
  int64_t epoch() const { return epoch_; }  ///< The current epoch.
  int64_t batch_size() const { return o_.batch_size; }  ///< The batch size.
  const LoaderOptions& options() const { return o_; }  ///< The options the loader was made with.
  /// The sample order of the current epoch (N data set indices).
  const std::vector<int64_t>& order() const { return order_; }

  /// Builds batch `index` of the current epoch (what the workers run); public for tests.
  /// \pre  `0 <= index < num_batches()`.
  /// \post `b.x` holds the batch's samples in order() (augmented, then normalized, then mixed,
  ///       as the options say), `b.y` their labels, `b.y_soft` the soft targets when mixing,
  ///       else undefined. The loader is not modified.
  /// \throws convnet::Error when `index` is out of range (naming it and num_batches()), or what
  ///         the augmentation or mixing throws.
  void prepare(int64_t index, Batch& b) const;

 private:
  struct Workers;
  void stop_workers();

  const Dataset& d_;
  LoaderOptions o_;
  int64_t K_ = 0;  // soft-target classes
  int64_t epoch_ = 0;
  int64_t next_batch_ = 0;  // index of the batch next() returns
  std::vector<int64_t> order_;
  std::exception_ptr error_;  // from a failed batch of this epoch, rethrown by next()
  std::unique_ptr<Workers> workers_;
};

}  // namespace convnet::data
#pragma GCC visibility pop
