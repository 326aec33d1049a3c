// DataLoader: batches prepared in order by the caller or, ahead of it, by worker threads.
// Workers claim batch indices in increasing order and put the finished batches in a map;
// next() takes them out in index order, so the result never depends on which worker ran
// which batch, only on the per-sample and per-batch seeds.
#include "convnet/data/dataloader.h"

#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <numeric>
#include <thread>

#include "convnet/core/error.h"
#include "convnet/core/rng.h"
#include "convnet/data/mixup.h"

namespace convnet::data {

namespace {
// splitmix64's finalizer: decorrelates the (seed, epoch, ...) tuples before seeding.
uint64_t mix(uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
constexpr uint64_t kGolden = 0x9e3779b97f4a7c15ULL;
// Streams: one seed per (purpose, seed, epoch, index), so that samples' and batches' draws
// never overlap with each other or with the shuffle.
enum Stream : uint64_t { kSample = 1, kBatch = 2 };
uint64_t seed_of(uint64_t seed, int64_t epoch, int64_t index, Stream stream) {
  uint64_t h = mix(seed + kGolden * stream);
  h = mix(h ^ (static_cast<uint64_t>(epoch) + kGolden));
  return mix(h ^ (static_cast<uint64_t>(index) + 2 * kGolden));
}
}  // namespace

struct DataLoader::Workers {
  struct Slot {
    Batch batch;
    std::exception_ptr error;
  };
  std::mutex m;
  std::condition_variable work;   // a worker may claim another batch, or must stop
  std::condition_variable ready;  // a batch was finished
  bool stop = false;
  int64_t next_claim = 0;  // the next batch index a worker takes
  int64_t consumed = 0;    // batches handed out by next(); claims stay below consumed + capacity
  int64_t total = 0, capacity = 1;
  std::map<int64_t, Slot> done;
  std::vector<std::thread> threads;

  void run(const DataLoader& loader) {
    for (;;) {
      int64_t idx;
      {
        std::unique_lock lk(m);
        work.wait(lk, [&] { return stop || next_claim >= total || next_claim < consumed + capacity; });
        if (stop || next_claim >= total) return;
        idx = next_claim++;
      }
      Slot s;
      try {
        loader.prepare(idx, s.batch);
      } catch (...) {
        s.error = std::current_exception();
      }
      {
        std::lock_guard lk(m);
        done.emplace(idx, std::move(s));
      }
      ready.notify_all();
    }
  }
};

DataLoader::DataLoader(const Dataset& d, int64_t batch_size, bool shuffle, uint64_t seed, bool drop_last)
    : DataLoader(d, [&] {
        LoaderOptions o;
        o.batch_size = batch_size;
        o.shuffle = shuffle;
        o.seed = seed;
        o.drop_last = drop_last;
        o.workers = 0;
        return o;
      }()) {}

DataLoader::DataLoader(const Dataset& d, const LoaderOptions& o) : d_(d), o_(o) {
  CONVNET_CHECK(o.batch_size > 0, "DataLoader: batch_size must be positive, got ", o.batch_size);
  CONVNET_CHECK(o.world_size >= 1 && o.rank >= 0 && o.rank < o.world_size, "DataLoader: rank ", o.rank,
                " is not in [0, world_size ", o.world_size, ")");
  CONVNET_CHECK(o.workers >= 0, "DataLoader: workers must be non-negative, got ", o.workers);
  CONVNET_CHECK(o.prefetch >= 1, "DataLoader: prefetch must be at least 1, got ", o.prefetch);
  CONVNET_CHECK(d.images.defined() && d.images.dim() >= 1, "DataLoader: the dataset has no images tensor");
  CONVNET_CHECK(d.images.size(0) == d.size(), "DataLoader: the dataset has ", d.images.size(0), " images (shape ",
                shape_str(d.images.shape()), ") but ", d.size(), " labels");
  const bool per_image = (o.augment && !o.augment->empty()) || !o.mean.empty() || !o.std.empty();
  const bool mixing = o.mixup_alpha > 0 || o.cutmix_alpha > 0;
  if (per_image || mixing)
    CONVNET_CHECK(d.images.dim() == 4, "DataLoader: augmentation, normalization and MixUp/CutMix need images of ",
                  "shape (N, C, H, W), got ", shape_str(d.images.shape()));
  if (!o.mean.empty() || !o.std.empty()) {
    const int64_t C = d.images.size(1);
    CONVNET_CHECK(static_cast<int64_t>(o.mean.size()) == C && static_cast<int64_t>(o.std.size()) == C,
                  "DataLoader: got ", o.mean.size(), " means and ", o.std.size(), " stds for images of shape ",
                  shape_str(d.images.shape()), " with ", C, " channels");
    for (int64_t c = 0; c < C; ++c)
      CONVNET_CHECK(o.std[c] > 0, "DataLoader: std of channel ", c, " must be positive, got ", o.std[c]);
  }
  CONVNET_CHECK(o.mixup_alpha >= 0 && o.cutmix_alpha >= 0, "DataLoader: mixup/cutmix alphas must be non-negative, got ",
                o.mixup_alpha, " and ", o.cutmix_alpha);
  K_ = o.num_classes > 0 ? o.num_classes : static_cast<int64_t>(d.class_names.size());
  if (mixing) {
    CONVNET_CHECK(K_ > 0, "DataLoader: MixUp/CutMix need the number of classes (num_classes or the dataset's ",
                  "class names)");
    for (int64_t i = 0; i < d.size(); ++i)
      CONVNET_CHECK(d.labels[i] >= 0 && d.labels[i] < K_, "DataLoader: label ", d.labels[i], " of sample ", i,
                    " is out of range for ", K_, " classes");
  }
  start_epoch(0);
}

DataLoader::~DataLoader() {
  stop_workers();
}

void DataLoader::stop_workers() {
  if (!workers_) return;
  {
    std::lock_guard lk(workers_->m);
    workers_->stop = true;
  }
  workers_->work.notify_all();
  for (auto& t : workers_->threads) t.join();
  workers_.reset();
}

void DataLoader::start_epoch(int64_t epoch) {
  CONVNET_CHECK(epoch >= 0, "DataLoader::start_epoch: epoch must be non-negative, got ", epoch);
  stop_workers();  // they read order_, which changes now
  epoch_ = epoch;
  next_batch_ = 0;
  error_ = nullptr;
  order_.resize(static_cast<size_t>(d_.size()));
  std::iota(order_.begin(), order_.end(), int64_t{0});
  if (!o_.shuffle) return;
  Generator gen(mix(o_.seed + kGolden * static_cast<uint64_t>(epoch + 1)));
  for (int64_t i = d_.size() - 1; i > 0; --i)  // Fisher-Yates
    std::swap(order_[i], order_[gen.randint(static_cast<uint64_t>(i + 1))]);
}

int64_t DataLoader::num_batches() const {
  const int64_t n = d_.size(), g = o_.batch_size * o_.world_size;
  const int64_t rest = n % g;
  return n / g + (!o_.drop_last && rest >= o_.world_size && rest > 0 ? 1 : 0);
}

int64_t DataLoader::global_batch_size(int64_t index) const {
  const int64_t g = o_.batch_size * o_.world_size;
  return std::min(g, d_.size() - index * g);
}

void DataLoader::prepare(int64_t index, Batch& b) const {
  CONVNET_CHECK(index >= 0 && index < num_batches(), "DataLoader::prepare: batch ", index, " is out of range for ",
                num_batches(), " batches");
  // This rank's slice of the global batch (all of it with one rank).
  const int64_t gstart = index * o_.batch_size * o_.world_size, G = global_batch_size(index);
  const int64_t start = gstart + G * o_.rank / o_.world_size, B = gstart + G * (o_.rank + 1) / o_.world_size - start;
  Shape s = d_.images.shape();
  const int64_t sample = d_.images.numel() / std::max<int64_t>(1, s[0]);
  s[0] = B;
  b.x = Tensor::empty(s);
  b.y.resize(static_cast<size_t>(B));
  b.y_soft = Tensor();
  const float* src = d_.images.data();
  float* dst = b.x.data();
  const bool aug = o_.augment && !o_.augment->empty();
  for (int64_t i = 0; i < B; ++i) {
    const int64_t k = order_[start + i];
    float* img = dst + i * sample;
    std::memcpy(img, src + k * sample, sizeof(float) * sample);
    b.y[i] = d_.labels[k];
    if (aug) {
      Generator gen(seed_of(o_.seed, epoch_, k, kSample));
      o_.augment->apply(img, s[1], s[2], s[3], gen);
    }
    if (!o_.mean.empty()) {
      const int64_t HW = s[2] * s[3];
      for (int64_t c = 0; c < s[1]; ++c) {
        const float m = o_.mean[c], sd = o_.std[c];
        for (int64_t j = 0; j < HW; ++j) img[c * HW + j] = (img[c * HW + j] - m) / sd;  // as normalize()
      }
    }
  }
  if (o_.mixup_alpha > 0 || o_.cutmix_alpha > 0) {
    Generator gen(seed_of(o_.seed, epoch_, index, kBatch));
    b.y_soft = mix_batch(b.x, b.y, K_, o_.mixup_alpha, o_.cutmix_alpha, gen);
  }
}

bool DataLoader::next(Batch& b) {
  if (error_) std::rethrow_exception(error_);
  if (next_batch_ >= num_batches()) return false;
  if (o_.workers == 0) {
    try {
      prepare(next_batch_, b);
    } catch (...) {
      error_ = std::current_exception();
      throw;
    }
    ++next_batch_;
    return true;
  }
  if (!workers_) {
    workers_ = std::make_unique<Workers>();
    workers_->total = num_batches();
    workers_->consumed = next_batch_;
    workers_->next_claim = next_batch_;
    workers_->capacity = static_cast<int64_t>(o_.workers) * o_.prefetch;
    const int64_t n = std::min<int64_t>(o_.workers, num_batches() - next_batch_);
    Workers* w = workers_.get();
    for (int64_t i = 0; i < n; ++i) w->threads.emplace_back([w, this] { w->run(*this); });
  }
  Workers::Slot slot;
  {
    std::unique_lock lk(workers_->m);
    workers_->ready.wait(lk, [&] { return workers_->done.count(next_batch_) > 0; });
    auto it = workers_->done.find(next_batch_);
    slot = std::move(it->second);
    workers_->done.erase(it);
    workers_->consumed = next_batch_ + 1;
  }
  workers_->work.notify_all();
  if (slot.error) {
    error_ = slot.error;
    stop_workers();  // the epoch cannot go on past a missing batch
    std::rethrow_exception(error_);
  }
  b = std::move(slot.batch);
  ++next_batch_;
  return true;
}

}  // namespace convnet::data
