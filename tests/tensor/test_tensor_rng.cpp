#include <gtest/gtest.h>

#include <cmath>

#include "core/tensor/rng.h"
#include "core/tensor/tensor.h"

namespace sngan {
namespace {

TEST(Tensor, ShapeAndReshapeShareData) {
  Tensor t = Tensor::zeros(Shape{2, 3, 4, 5});
  EXPECT_EQ(t.numel(), 120);
  EXPECT_EQ(t.dim(-1), 5);
  Tensor r = t.reshape(Shape{6, 20});
  r[7] = 3.0f;
  EXPECT_EQ(t[7], 3.0f);
  EXPECT_THROW(t.reshape(Shape{7, 20}), Error);
  EXPECT_THROW(t.dim(4), Error);
  Tensor c = t.clone();
  c[7] = 1.0f;
  EXPECT_EQ(t[7], 3.0f);
}

TEST(Tensor, PoolReusesFreedBlocks) {
  release_cached_memory();
  const Scalar* first;
  {
    Tensor a = Tensor::empty(Shape{1000});
    first = a.data();
  }
  EXPECT_GT(cached_memory_bytes(), 0u);
  Tensor b = Tensor::empty(Shape{1000});
  EXPECT_EQ(b.data(), first);
}

TEST(Tensor, PoolServesASmallerRequestFromALargerFreeBlockUpToTwiceItsSize) {
  release_cached_memory();
  const Scalar* big;
  {
    Tensor a = Tensor::empty(Shape{1000});
    big = a.data();
  }
  Tensor tiny = Tensor::empty(Shape{400});  // 1600 bytes: a 4000-byte block is too wasteful
  EXPECT_NE(tiny.data(), big);
  Tensor c = Tensor::empty(Shape{600});  // 2400 bytes: takes the 4032-byte block
  EXPECT_EQ(c.data(), big);
  const size_t cached = cached_memory_bytes();
  { Tensor d = std::move(c); }
  EXPECT_EQ(cached_memory_bytes(), cached + 4032) << "the block returns under its own size";
}

TEST(Rng, StateRoundTripIsExact) {
  Rng a(42);
  for (int i = 0; i < 5; ++i) a.normal();
  const std::string saved = a.state();
  std::vector<double> expected;
  for (int i = 0; i < 10; ++i) expected.push_back(i % 2 ? a.normal() : a.uniform());
  Rng b(0);
  b.set_state(saved);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(expected[static_cast<size_t>(i)], i % 2 ? b.normal() : b.uniform());
  EXPECT_THROW(b.set_state("garbage"), Error);
}

TEST(Rng, SeedsDifferAndMomentsAreRight) {
  Rng a(1), b(2);
  EXPECT_NE(a.next_u64(), b.next_u64());
  Tensor t = Tensor::empty(Shape{200000});
  Rng r(3);
  r.fill_normal(t, 1.0, 2.0);
  double m = 0, v = 0;
  for (int64_t i = 0; i < t.numel(); ++i) m += t[i];
  m /= static_cast<double>(t.numel());
  for (int64_t i = 0; i < t.numel(); ++i) v += (t[i] - m) * (t[i] - m);
  v /= static_cast<double>(t.numel());
  EXPECT_NEAR(m, 1.0, 0.02);   // standard error 2/sqrt(2e5) = 0.0045
  EXPECT_NEAR(v, 4.0, 0.08);   // standard error of the variance ~ 4*sqrt(2/2e5) = 0.013
  r.fill_uniform(t, -1, 1);
  double lo = 1, hi = -1;
  for (int64_t i = 0; i < t.numel(); ++i) lo = std::min<double>(lo, t[i]), hi = std::max<double>(hi, t[i]);
  EXPECT_GE(lo, -1.0);
  EXPECT_LT(hi, 1.0);
  EXPECT_LT(lo, -0.99);
  EXPECT_GT(hi, 0.99);
}

// The published splitmix64 sequence from state 0 (Vigna's reference splitmix64.c): the shared
// finaliser and increment reproduce it.
TEST(Rng, Splitmix64MatchesTheReferenceSequence) {
  EXPECT_EQ(splitmix64_mix(1 * kSplitmix64Gamma), 0xe220a8397b1dcdafULL);
  EXPECT_EQ(splitmix64_mix(2 * kSplitmix64Gamma), 0x6e789e6aa1b965f4ULL);
  EXPECT_EQ(splitmix64_mix(3 * kSplitmix64Gamma), 0x06c45d188009454fULL);
}

}  // namespace
}  // namespace sngan
