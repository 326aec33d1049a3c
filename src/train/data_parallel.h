#pragma once
// The data-parallel parts of the trainer (docs/distributed.md) that are not the training
// step itself. Private to src/train.
#include <cstdint>

#include "convnet/data/dataset.h"
#include "convnet/dist/dist.h"
#include "convnet/nn/module.h"
#include "convnet/train/metrics.h"
#include "convnet/train/options.h"

namespace convnet::train {

// Every rank must train the same thing: rank 0's configuration is compared with each
// rank's, option by option, and all ranks stop with a message naming the first option that
// differs. Options that only say where things are or how fast they go may differ.
// \throws convnet::Error on every rank when some rank differs.
void check_same_config(dist::ProcessGroup& pg, const TrainConfig& c);

// evaluate_full() with each rank scoring a contiguous shard of `d`; the loss and top-1 of the
// whole set on every rank (the other EvalResult fields are left empty with several ranks).
EvalResult evaluate_sharded(dist::ProcessGroup& pg, nn::Module& m, const data::Dataset& d, int64_t batch_size,
                            bool tta);

}  // namespace convnet::train
