#include "convnet/data/dataloader.h"

#include <cstring>
#include <numeric>

#include "convnet/core/error.h"
#include "convnet/core/rng.h"

namespace convnet::data {

namespace {
// splitmix64's finalizer: decorrelates the (seed, epoch) pairs before seeding.
uint64_t mix(uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
}  // namespace

DataLoader::DataLoader(const Dataset& d, int64_t batch_size, bool shuffle, uint64_t seed, bool drop_last)
    : d_(d), batch_size_(batch_size), shuffle_(shuffle), seed_(seed), drop_last_(drop_last) {
  CONVNET_CHECK(batch_size > 0, "DataLoader: batch_size must be positive, got ", batch_size);
  CONVNET_CHECK(d.images.defined() && d.images.dim() >= 1, "DataLoader: the dataset has no images tensor");
  CONVNET_CHECK(d.images.size(0) == d.size(), "DataLoader: the dataset has ", d.images.size(0), " images (shape ",
                shape_str(d.images.shape()), ") but ", d.size(), " labels");
  start_epoch(0);
}

void DataLoader::start_epoch(int64_t epoch) {
  CONVNET_CHECK(epoch >= 0, "DataLoader::start_epoch: epoch must be non-negative, got ", epoch);
  epoch_ = epoch;
  pos_ = 0;
  order_.resize(static_cast<size_t>(d_.size()));
  std::iota(order_.begin(), order_.end(), int64_t{0});
  if (!shuffle_) return;
  Generator gen(mix(seed_ + 0x9e3779b97f4a7c15ULL * static_cast<uint64_t>(epoch + 1)));
  for (int64_t i = d_.size() - 1; i > 0; --i)  // Fisher-Yates
    std::swap(order_[i], order_[gen.randint(static_cast<uint64_t>(i + 1))]);
}

int64_t DataLoader::num_batches() const {
  const int64_t n = d_.size();
  return drop_last_ ? n / batch_size_ : (n + batch_size_ - 1) / batch_size_;
}

bool DataLoader::next(Batch& b) {
  const int64_t left = d_.size() - pos_;
  if (left <= 0 || (drop_last_ && left < batch_size_)) return false;
  const int64_t B = std::min(batch_size_, left);
  Shape s = d_.images.shape();
  const int64_t sample = d_.images.numel() / std::max<int64_t>(1, s[0]);
  s[0] = B;
  b.x = Tensor::empty(s);
  b.y.resize(static_cast<size_t>(B));
  const float* src = d_.images.data();
  float* dst = b.x.data();
  for (int64_t i = 0; i < B; ++i) {
    const int64_t k = order_[pos_ + i];
    std::memcpy(dst + i * sample, src + k * sample, sizeof(float) * sample);
    b.y[i] = d_.labels[k];
  }
  pos_ += B;
  return true;
}

}  // namespace convnet::data
