#include "core/tensor/rng.h"

#include <cmath>
#include <cstdio>
#include <sstream>

namespace sngan {

namespace {
uint64_t splitmix64(uint64_t& x) { return splitmix64_mix(x += kSplitmix64Gamma); }
inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
constexpr double kTwoPi = 6.283185307179586476925286766559;
}  // namespace

Rng::Rng(uint64_t seed) {
  uint64_t x = seed;
  for (auto& w : s_) w = splitmix64(x);
}

uint64_t Rng::next_u64() {
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

double Rng::uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

double Rng::uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

double Rng::normal() {
  double u1 = 1.0 - uniform();  // (0, 1]
  double u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(kTwoPi * u2);
}

uint64_t Rng::below(uint64_t n) {
  SNGAN_CHECK(n > 0, "Rng::below: expected n > 0, got 0");
  // Rejection sampling: unbiased.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do x = next_u64();
  while (x >= limit);
  return x % n;
}

void Rng::fill_uniform(Tensor& t, double lo, double hi) {
  Scalar* p = t.data();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<Scalar>(uniform(lo, hi));
}

void Rng::fill_normal(Tensor& t, double mean, double std) {
  Scalar* p = t.data();
  const int64_t n = t.numel();
  for (int64_t i = 0; i < n; i += 2) {
    double u1 = 1.0 - uniform();
    double u2 = uniform();
    double r = std::sqrt(-2.0 * std::log(u1));
    p[i] = static_cast<Scalar>(mean + std * r * std::cos(kTwoPi * u2));
    if (i + 1 < n) p[i + 1] = static_cast<Scalar>(mean + std * r * std::sin(kTwoPi * u2));
  }
}

std::string Rng::state() const {
  char buf[16 * 4 + 32];
  std::snprintf(buf, sizeof(buf), "xoshiro256**:%016llx%016llx%016llx%016llx",
                static_cast<unsigned long long>(s_[0]), static_cast<unsigned long long>(s_[1]),
                static_cast<unsigned long long>(s_[2]), static_cast<unsigned long long>(s_[3]));
  return buf;
}

void Rng::set_state(const std::string& state) {
  const std::string prefix = "xoshiro256**:";
  SNGAN_CHECK(state.size() == prefix.size() + 64 && state.compare(0, prefix.size(), prefix) == 0,
              "expected an RNG state of the form 'xoshiro256**:<64 hex digits>', got '", state,
              "'");
  std::array<uint64_t, 4> s{};
  for (int w = 0; w < 4; ++w) {
    uint64_t v = 0;
    for (int k = 0; k < 16; ++k) {
      char c = state[prefix.size() + static_cast<size_t>(w * 16 + k)];
      int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
      SNGAN_CHECK(d >= 0, "expected hex digits in RNG state, got '", state, "'");
      v = (v << 4) | static_cast<uint64_t>(d);
    }
    s[static_cast<size_t>(w)] = v;
  }
  SNGAN_CHECK(s[0] | s[1] | s[2] | s[3], "expected a non-zero RNG state, got all zeros");
  s_ = s;
}

Rng Rng::split() { return Rng(next_u64()); }

}  // namespace sngan
