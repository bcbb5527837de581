// mix_seed: a well-mixed 64-bit seed for item i of a stream with base seed `seed`
// (splitmix64 finaliser). Used to give every example its own Rng, so results do not
// depend on which thread or in which order examples are produced.
#pragma once

#include <cstdint>

namespace sngan {

inline uint64_t mix_seed(uint64_t seed, uint64_t i) {
  uint64_t z = seed ^ (i * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace sngan
