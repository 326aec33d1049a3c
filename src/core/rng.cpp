#include "convnet/core/rng.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace convnet {

namespace {
uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

// Box-Muller on (0, 1] x [0, 1) in double so log() never sees 0: two 64-bit draws give a
// standard normal pair (normal() returns the first and caches the second).
inline void box_muller(uint64_t a, uint64_t b, float& first, float& second) {
  const double u1 = (static_cast<double>(a >> 11) + 1.0) * (1.0 / 9007199254740992.0);
  const double u2 = static_cast<double>(b >> 11) * (1.0 / 9007199254740992.0);
  const double r = std::sqrt(-2.0 * std::log(u1));
  const double th = 2.0 * M_PI * u2;
  second = static_cast<float>(r * std::sin(th));
  first = static_cast<float>(r * std::cos(th));
}
inline float unit24(uint64_t v) {
  return static_cast<float>(v >> 40) * (1.0f / 16777216.0f);
}
}  // namespace

void Generator::manual_seed(uint64_t seed) {
  uint64_t x = seed;
  for (auto& w : s_) w = splitmix64(x);
  has_spare_ = false;
  spare_ = 0.f;
}

uint64_t Generator::next_u64() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

float Generator::uniform01() {
  return unit24(next_u64());
}

float Generator::normal(float mean, float std) {
  if (has_spare_) {
    has_spare_ = false;
    return mean + std * spare_;
  }
  const uint64_t a = next_u64(), b = next_u64();
  float first;
  box_muller(a, b, first, spare_);
  has_spare_ = true;
  return mean + std * first;
}

void Generator::fill_u64(uint64_t* p, int64_t n) {
  for (int64_t i = 0; i < n; ++i) p[i] = next_u64();
}

void Generator::fill_uniform(float* p, int64_t n, float lo, float hi) {
  const float width = hi - lo;
  for (int64_t i = 0; i < n; ++i) p[i] = lo + width * unit24(next_u64());
}

void Generator::fill_normal(float* p, int64_t n, float mean, float std) {
  int64_t i = 0;
  if (n > 0 && has_spare_) p[i++] = normal(mean, std);
  // Whole pairs, in chunks: the draws in order here, the transforms on all threads.
  constexpr int64_t kChunkPairs = 1 << 16;
  std::vector<uint64_t> draws;
  while (n - i >= 2) {
    const int64_t pairs = std::min<int64_t>((n - i) / 2, kChunkPairs);
    draws.resize(static_cast<size_t>(2 * pairs));
    fill_u64(draws.data(), 2 * pairs);
    float* out = p + i;
#pragma omp parallel for schedule(static) if (pairs >= 4096)
    for (int64_t k = 0; k < pairs; ++k) {
      float first, second;
      box_muller(draws[2 * k], draws[2 * k + 1], first, second);
      out[2 * k] = mean + std * first;
      out[2 * k + 1] = mean + std * second;
    }
    i += 2 * pairs;
  }
  if (i < n) p[i] = normal(mean, std);  // caches the second value, as the n-th call would
}

uint64_t Generator::randint(uint64_t n) {
  // Rejection sampling: unbiased for every n.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t v;
  do v = next_u64();
  while (v >= limit);
  return v % n;
}

Generator& default_generator() {
  static Generator g(0);
  return g;
}
void manual_seed(uint64_t seed) { default_generator().manual_seed(seed); }

}  // namespace convnet
