// Rng: an explicit, seeded random stream (xoshiro256**) whose whole state is four 64-bit
// words, so it can be saved and restored exactly (state() / set_state()).
// Normal samples come from Box-Muller without a cached spare value, so a stream's output
// depends only on its state and the calls made.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "core/tensor/tensor.h"

namespace sngan {

// splitmix64 (Steele, Lea and Flood 2014): its increment, and its finaliser, which turns any
// 64-bit value into a well-mixed one. Rng seeding and the per-example seeds of data/ use these.
constexpr uint64_t kSplitmix64Gamma = 0x9e3779b97f4a7c15ULL;
constexpr uint64_t splitmix64_mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class Rng {
 public:
  explicit Rng(uint64_t seed = 0);

  uint64_t next_u64();
  double uniform();                    // [0, 1) with 53 random bits
  double uniform(double lo, double hi);  // [lo, hi)
  double normal();                     // N(0, 1)
  uint64_t below(uint64_t n);          // uniform integer in [0, n), n > 0

  void fill_uniform(Tensor& t, double lo, double hi);
  void fill_normal(Tensor& t, double mean = 0.0, double std = 1.0);

  // Exact state as text ("xoshiro256**:<4 hex words>") and back.
  std::string state() const;
  void set_state(const std::string& state);

  // A new independent stream derived from this one's seed space (advances this stream).
  Rng split();

 private:
  std::array<uint64_t, 4> s_{};
};

}  // namespace sngan
