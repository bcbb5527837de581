// mix_seed: a well-mixed 64-bit seed for item i of a stream with base seed `seed`
// (splitmix64 finaliser). Used to give every example its own Rng, so results do not
// depend on which thread or in which order examples are produced.
#pragma once

#include <cstdint>

#include "core/tensor/rng.h"

namespace sngan {

inline uint64_t mix_seed(uint64_t seed, uint64_t i) {
  return splitmix64_mix(seed ^ (i * kSplitmix64Gamma + 0x632be59bd9b4e019ULL));
}

}  // namespace sngan
