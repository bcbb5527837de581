#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

#include "core/tensor/best_fit_arena.h"
#include "core/tensor/check.h"
#include "core/tensor/tensor.h"

namespace sngan {
namespace {

constexpr size_t kNoLimit = size_t{1} << 40;

TEST(BestFitArena, GrowsTopWhileNothingIsFree) {
  BestFitArena a;
  EXPECT_EQ(a.take(100, kNoLimit), 0u);
  EXPECT_EQ(a.take(50, kNoLimit), 100u);
  EXPECT_EQ(a.top(), 150u);
  EXPECT_EQ(a.free_bytes(), 0u);
}

TEST(BestFitArena, TakesTheSmallestFreeRangeThatFitsAndKeepsTheRestFree) {
  BestFitArena a;
  const size_t big = *a.take(400, kNoLimit);
  *a.take(10, kNoLimit);  // separators, so the freed ranges cannot merge
  const size_t small = *a.take(120, kNoLimit);
  *a.take(10, kNoLimit);
  a.give(big, 400);
  a.give(small, 120);
  EXPECT_EQ(a.take(100, kNoLimit), small) << "the 120-byte range is the best fit";
  EXPECT_EQ(a.free_ranges(),
            (std::vector<std::pair<size_t, size_t>>{{big, 400}, {small + 100, 20}}));
  EXPECT_EQ(a.take(300, kNoLimit), big);
  EXPECT_EQ(a.top(), 540u) << "served from free ranges: top does not grow";
}

TEST(BestFitArena, MergesAFreedBlockWithBothFreeNeighbours) {
  BestFitArena a;
  const size_t x = *a.take(100, kNoLimit), y = *a.take(200, kNoLimit), z = *a.take(300, kNoLimit);
  *a.take(10, kNoLimit);
  a.give(x, 100);
  a.give(z, 300);
  a.give(y, 200);
  EXPECT_EQ(a.free_ranges(), (std::vector<std::pair<size_t, size_t>>{{0, 600}}));
  EXPECT_EQ(a.take(600, kNoLimit), 0u) << "the three blocks serve one request of their total size";
}

TEST(BestFitArena, ExtendsAFreeRangeAtTheTopInsteadOfLeavingIt) {
  BestFitArena a;
  *a.take(100, kNoLimit);
  const size_t last = *a.take(100, kNoLimit);
  a.give(last, 100);
  EXPECT_EQ(a.take(250, kNoLimit), last);
  EXPECT_EQ(a.top(), 350u);
  EXPECT_EQ(a.free_bytes(), 0u);
}

TEST(BestFitArena, RefusesToPassTheLimitAndChangesNothing) {
  BestFitArena a;
  const size_t x = *a.take(100, 1000);
  a.give(x, 100);
  EXPECT_FALSE(a.take(1001, 1000).has_value());
  EXPECT_EQ(a.top(), 100u);
  EXPECT_EQ(a.free_ranges(), (std::vector<std::pair<size_t, size_t>>{{0, 100}}));
  EXPECT_EQ(a.take(1000, 1000), 0u);
}

TEST(BestFitArena, RejectsADoubleFreeAndABlockOutsideIt) {
  BestFitArena a;
  const size_t x = *a.take(100, kNoLimit);
  *a.take(100, kNoLimit);
  a.give(x, 100);
  EXPECT_THROW(a.give(x, 100), Error);
  EXPECT_THROW(a.give(150, 100), Error);
}

TEST(BestFitArena, TrimLowersTopPastTheLastFreeRange) {
  BestFitArena a;
  *a.take(100, kNoLimit);
  const size_t y = *a.take(200, kNoLimit);
  EXPECT_EQ(a.trim(), 0u) << "the last block is in use";
  a.give(y, 200);
  EXPECT_EQ(a.trim(), 200u);
  EXPECT_EQ(a.top(), 100u);
  EXPECT_EQ(a.free_bytes(), 0u);
}

// Random takes and gives: blocks in use never overlap, in-use plus free bytes cover [0, top)
// exactly, and no two free ranges touch (every merge happened).
TEST(BestFitArena, RandomTrafficKeepsBlocksDisjointAndFreeRangesMerged) {
  std::mt19937 rng(7);
  BestFitArena a;
  std::map<size_t, size_t> used;  // offset -> size
  for (int step = 0; step < 4000; ++step) {
    if (used.empty() || rng() % 5 < 3) {
      const size_t bytes = 64 * (1 + rng() % 64);
      const size_t offset = *a.take(bytes, kNoLimit);
      const auto next = used.lower_bound(offset);
      if (next != used.end()) {
        ASSERT_LE(offset + bytes, next->first) << "step " << step;
      }
      if (next != used.begin()) {
        ASSERT_LE(std::prev(next)->first + std::prev(next)->second, offset) << "step " << step;
      }
      used[offset] = bytes;
    } else {
      auto it = used.begin();
      std::advance(it, static_cast<long>(rng() % used.size()));
      a.give(it->first, it->second);
      used.erase(it);
    }
    size_t in_use = 0;
    for (const auto& [offset, size] : used) in_use += size;
    ASSERT_EQ(in_use + a.free_bytes(), a.top()) << "step " << step;
    const auto ranges = a.free_ranges();
    for (size_t i = 1; i < ranges.size(); ++i)
      ASSERT_LT(ranges[i - 1].first + ranges[i - 1].second, ranges[i].first) << "step " << step;
  }
}

#if !defined(__SANITIZE_ADDRESS__)  // under ASan the pool keeps every block separate
TEST(Tensor, PoolServesALargerTensorFromTwoFreedNeighbours) {
  release_cached_memory();
  // 64 MiB each: larger than any free range the other tests leave.
  const int64_t n = int64_t{16} << 20;
  const Scalar* first;
  {
    Tensor a = Tensor::empty(Shape{n});
    Tensor b = Tensor::empty(Shape{n});
    ASSERT_EQ(b.data(), a.data() + n);
    first = a.data();
  }
  EXPECT_GE(cached_memory_bytes(), 2 * static_cast<size_t>(n) * sizeof(Scalar));
  Tensor c = Tensor::empty(Shape{2 * n});
  EXPECT_EQ(c.data(), first);
}
#endif

}  // namespace
}  // namespace sngan
