#pragma once
// Explicit, seeded random numbers: xoshiro256** seeded through splitmix64. The
// state is four 64-bit words, so it can be saved in a checkpoint and restored.
#include <array>
#include <cstdint>

namespace convnet {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0) { manual_seed(seed); }
  void manual_seed(uint64_t seed);
  uint64_t next_u64();
  // Uniform in [0, 1) with 24 random bits, like a float32 draw.
  float uniform01();
  float uniform(float lo, float hi) { return lo + (hi - lo) * uniform01(); }
  // Standard normal by Box-Muller (both values used, the second one cached).
  float normal(float mean = 0.f, float std = 1.f);
  // Uniform integer in [0, n).
  uint64_t randint(uint64_t n);
  bool bernoulli(float p) { return uniform01() < p; }

  struct State {
    std::array<uint64_t, 4> s;
    bool has_spare;
    float spare;
  };
  State state() const { return {s_, has_spare_, spare_}; }
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

// The process-wide default generator (used when a caller passes none).
Generator& default_generator();
void manual_seed(uint64_t seed);

}  // namespace convnet
