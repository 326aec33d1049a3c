#pragma once
// DataLoader: mini-batches of an in-memory Dataset, in order or shuffled, optionally
// augmented, normalized and mixed (MixUp/CutMix) by background worker threads.
//
//   LoaderOptions o;  o.batch_size = 128;  o.seed = 1;  o.workers = 2;
//   o.augment = Augment::parse("crop:4,flip");  o.mean = {...};  o.std = {...};
//   DataLoader loader(train_set, o);
//   for (int64_t e = 0; e < epochs; ++e) {
//     loader.start_epoch(e);
//     for (Batch b; loader.next(b);) { ... b.x: (B, C, H, W), b.y: B labels ... }
//   }
//
// Reproducibility: everything is a function of (seed, epoch) alone, never of the thread
// count or timing, so workers = 0, 1 or 8 give bit-identical batches and a resumed run
// repeats the epoch exactly:
//   - the order of epoch e is a Fisher-Yates permutation drawn from Generator(h(seed, e));
//   - sample k's augmentation draws come from Generator(h(seed, e, k)), k its dataset index;
//   - batch b's MixUp/CutMix draws come from Generator(h(seed, e, b)) (another stream).
#include <cstdint>
#include <exception>
#include <memory>
#include <vector>

#include "convnet/data/dataset.h"
#include "convnet/data/transforms.h"

namespace convnet::data {

struct Batch {
  Tensor x;                // (B, C, H, W): a copy of the images, not attached to any graph
  std::vector<int64_t> y;  // B labels (the samples' own labels, also under MixUp/CutMix)
  Tensor y_soft;           // (B, K) when MixUp/CutMix produced soft labels, else undefined
};

struct LoaderOptions {
  int64_t batch_size = 128;
  bool shuffle = true;
  uint64_t seed = 0;
  bool drop_last = false;
  int workers = 2;                           // background threads preparing batches (0 = in next())
  int prefetch = 2;                          // prepared batches kept ahead per worker (the queue bound)
  std::shared_ptr<const Augment> augment;    // may be null
  std::vector<float> mean, std;              // x[c] = (x[c] - mean[c]) / std[c] after augmentation (empty = none)
  double mixup_alpha = 0, cutmix_alpha = 0;  // > 0 turns MixUp / CutMix on (see mixup.h: mix_batch)
  int64_t num_classes = 0;                   // K of the soft targets; 0 = d.class_names.size()
};

class DataLoader {
 public:
  // The dataset must outlive the loader and not change while it runs. Epoch 0 is started.
  // requires: batch_size > 0, workers >= 0, mean/std empty or one per channel with std > 0,
  // num_classes known when MixUp/CutMix is on.
  DataLoader(const Dataset& d, const LoaderOptions& o);
  // The plain loader (no workers, no augmentation): copies of the samples in order.
  DataLoader(const Dataset& d, int64_t batch_size, bool shuffle, uint64_t seed = 0, bool drop_last = false);
  ~DataLoader();  // stops and joins the workers
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  // Restarts at the first batch of `epoch` (abandoning the batches in flight). Workers start
  // on the first next() of the epoch.
  void start_epoch(int64_t epoch);
  // The next batch of the epoch; false (and `b` untouched) once the epoch is done. The last
  // batch is smaller when the size is not a multiple of batch_size, unless drop_last. An
  // exception thrown while preparing a batch (in a worker or not) is rethrown here, by the
  // next() that would have returned that batch, and again by later calls until start_epoch.
  bool next(Batch& b);
  int64_t num_batches() const;
  int64_t epoch() const { return epoch_; }
  int64_t batch_size() const { return o_.batch_size; }
  const LoaderOptions& options() const { return o_; }
  // The sample order of the current epoch.
  const std::vector<int64_t>& order() const { return order_; }

  // Builds batch `index` of the current epoch (what the workers run); public for tests.
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
