#pragma once
#pragma GCC visibility push(default)
/// \file
/// Explicit, seeded random numbers (the counterpart of torch.Generator): xoshiro256**
/// seeded through splitmix64. The state is four 64-bit words (plus the cached second
/// normal value), so it can be saved in a checkpoint and restored. The streams are not
/// PyTorch's: a seed gives other numbers than torch.manual_seed with the same seed.
#include <array>
#include <cstdint>

namespace convnet {

/// A random number generator (torch.Generator): xoshiro256** seeded through splitmix64.
/// Not synchronized: use one generator from one thread at a time.
class Generator {
 public:
  /// A generator seeded with `seed`, as `torch.Generator().manual_seed(seed)`.
  /// \post the same state as after manual_seed(seed): equal seeds give equal streams.
  explicit Generator(uint64_t seed = 0) { manual_seed(seed); }
  /// Resets the state from `seed` (as torch.Generator.manual_seed).
  /// \post the four state words are the first four splitmix64 outputs from `seed`; no cached
  ///       normal value is left.
  void manual_seed(uint64_t seed);
  /// The next 64 random bits (one xoshiro256** step).
  /// \post the state has advanced by one step.
  uint64_t next_u64();
  /// Uniform in [0, 1) with 24 random bits, like a float32 draw.
  /// \post a multiple of 2^-24 in [0, 1); the state has advanced by one step.
  float uniform01();
  /// Uniform in [lo, hi): `lo + (hi - lo) * uniform01()`.
  /// \pre  `lo` <= `hi` for a draw in [lo, hi) (nothing is checked).
  float uniform(float lo, float hi) { return lo + (hi - lo) * uniform01(); }
  /// Normal with mean `mean` and standard deviation `std`, by Box-Muller (both values of a
  /// pair are used: every second call returns the cached one without advancing the state).
  /// \post `mean + std * z`, z a standard normal draw.
  float normal(float mean = 0.f, float std = 1.f);
  /// Fills `p[0, n)` with `uniform(lo, hi)` draws: the values, and the state after, of n calls
  /// in order (one tight loop instead of n calls).
  /// \pre  `p` holds n floats.
  void fill_uniform(float* p, int64_t n, float lo, float hi);
  /// Fills `p[0, n)` with `normal(mean, std)` draws: the values, and the state after
  /// (including a cached second value), of n calls in order. The 64-bit draws are made in
  /// order on the calling thread; the Box-Muller transforms of large fills run on all threads.
  /// \pre  `p` holds n floats.
  void fill_normal(float* p, int64_t n, float mean, float std);
  /// Fills `p[0, n)` with n `next_u64()` draws, in order.
  void fill_u64(uint64_t* p, int64_t n);
  /// Uniform integer in [0, n), unbiased (rejection sampling).
  /// \pre  `n` > 0 (not checked; 0 divides by zero).
  /// \post a value in [0, n).
  uint64_t randint(uint64_t n);
  /// True with probability `p` (`uniform01() < p`): never for `p` <= 0, always for `p` >= 1.
  bool bernoulli(float p) { return uniform01() < p; }

  /// The whole state of a Generator, to save and restore (checkpoints keep the default
  /// generator's).
  struct State {
    std::array<uint64_t, 4> s;  ///< The xoshiro256** state words.
    bool has_spare;  ///< Whether a second normal value is cached.
    float spare;  ///< The cached standard normal value (meaningful when has_spare).
  };
  /// A copy of the current state.
  State state() const { return {s_, has_spare_, spare_}; }
  /// Restores a state returned by state().
  /// \post the generator continues exactly as the one `st` was taken from did.
  void set_state(const State& st) {
    s_ = st.s;
    has_spare_ = st.has_spare;
    spare_ = st.spare;
  }

 private:
  std::array<uint64_t, 4> s_{};
  bool has_spare_ = false;
  float spare_ = 0.f;
};

/// The process-wide default generator, seeded with 0 at first use. Library functions that
/// take a generator (weight initializers, Dropout, head replacement ...) use it when a
/// caller passes none; training checkpoints save and restore its state. Not synchronized,
/// as any Generator.
Generator& default_generator();
/// Seeds the default generator (as torch.manual_seed).
/// \post `default_generator()` is in the state of `Generator(seed)`.
void manual_seed(uint64_t seed);

}  // namespace convnet
#pragma GCC visibility pop
