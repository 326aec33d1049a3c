#pragma once
// DataLoader: mini-batches of an in-memory Dataset, in order or shuffled. The shuffle of
// epoch e is a function of (seed, e) only, so a run is reproducible and can resume at any
// epoch without replaying the earlier ones.
//
//   DataLoader loader(train_set, 128, /*shuffle=*/true, seed);
//   for (int64_t e = 0; e < epochs; ++e) {
//     loader.start_epoch(e);
//     for (Batch b; loader.next(b);) { ... b.x: (B, C, H, W), b.y: B labels ... }
//   }
#include <cstdint>
#include <vector>

#include "convnet/data/dataset.h"

namespace convnet::data {

struct Batch {
  Tensor x;                   // (B, C, H, W): a copy of the images, not attached to any graph
  std::vector<int64_t> y;     // B labels
};

class DataLoader {
 public:
  // The dataset must outlive the loader. requires: batch_size > 0. Epoch 0 is started.
  DataLoader(const Dataset& d, int64_t batch_size, bool shuffle, uint64_t seed = 0, bool drop_last = false);
  // Restarts at the first batch of `epoch`, whose order is a permutation drawn from
  // Generator(mix(seed, epoch)) by Fisher-Yates (the identity when !shuffle).
  void start_epoch(int64_t epoch);
  // The next batch of the epoch; false (and `b` untouched) once the epoch is done. The last
  // batch is smaller when the size is not a multiple of batch_size, unless drop_last.
  bool next(Batch& b);
  int64_t num_batches() const;
  int64_t epoch() const { return epoch_; }
  int64_t batch_size() const { return batch_size_; }
  // The sample order of the current epoch.
  const std::vector<int64_t>& order() const { return order_; }

 private:
  const Dataset& d_;
  int64_t batch_size_;
  bool shuffle_;
  uint64_t seed_;
  bool drop_last_;
  int64_t epoch_ = 0;
  int64_t pos_ = 0;  // index into order_ of the next sample
  std::vector<int64_t> order_;
};

}  // namespace convnet::data
