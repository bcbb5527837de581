// sum_to against sums in double, and broadcast_to against the element it must copy, on shapes
// with rows long enough for sum_to's vectorised row sums (and their tails).
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/tensor/ops.h"
#include "core/tensor/rng.h"

namespace sngan {
namespace {

Tensor rnd(const Shape& s, uint64_t seed) {
  Rng rng(seed);
  Tensor t = Tensor::empty(s);
  rng.fill_uniform(t, -1, 1);
  return t;
}

// Index of x's element (i0, i1, i2, i3) in `target` (broadcastable to x's 4-d shape).
int64_t reduced_index(const Shape& target, int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
  const int64_t idx[4] = {i0, i1, i2, i3};
  int64_t flat = 0;
  for (int d = 0; d < 4; ++d) flat = flat * target[d] + (target[d] == 1 ? 0 : idx[d]);
  return flat;
}

TEST(Reductions, SumToMatchesSumsInDouble) {
  const Shape xs{3, 4, 6, 70};  // rows of 70: two 32-wide blocks and a tail of 6
  const Tensor x = rnd(xs, 1);
  for (const Shape& target : {Shape{1, 4, 1, 1}, Shape{3, 1, 1, 1}, Shape{1, 4, 6, 1},
                              Shape{1, 1, 6, 70}, Shape{3, 4, 6, 1}}) {
    std::vector<double> want(static_cast<size_t>(target.numel())), mag(want.size());
    for (int64_t a = 0; a < xs[0]; ++a)
      for (int64_t b = 0; b < xs[1]; ++b)
        for (int64_t c = 0; c < xs[2]; ++c)
          for (int64_t d = 0; d < xs[3]; ++d) {
            const double v = x.data()[((a * xs[1] + b) * xs[2] + c) * xs[3] + d];
            const size_t o = static_cast<size_t>(reduced_index(target, a, b, c, d));
            want[o] += v;
            mag[o] += std::abs(v);
          }
    const Var got = sum_to(Var(x), target);
    ASSERT_EQ(got.shape(), target);
    const double terms = static_cast<double>(xs.numel() / target.numel());
    for (size_t i = 0; i < want.size(); ++i) {
      const double tol = (terms + 4) * std::numeric_limits<Scalar>::epsilon() * mag[i];
      EXPECT_NEAR(got.value().data()[i], want[i], tol) << target.str() << " at " << i;
    }
  }
}

TEST(Reductions, SumToGivesTheSameBitsOnAnyThreadCount) {
  const Tensor x = rnd(Shape{8, 16, 32, 33}, 2);
  const int saved = omp_get_max_threads();
  std::vector<Tensor> results;
  for (int threads : {1, 2, 3}) {
    omp_set_num_threads(threads);
    results.push_back(sum_to(Var(x), Shape{1, 16, 1, 1}).value().clone());
    results.push_back(sum_to(Var(x), Shape{}).value().clone());
  }
  omp_set_num_threads(saved);
  for (size_t i = 2; i < results.size(); ++i)
    EXPECT_EQ(0, std::memcmp(results[i].data(), results[i % 2].data(),
                             static_cast<size_t>(results[i].numel()) * sizeof(Scalar)))
        << "result " << i;
}

TEST(Reductions, BroadcastToCopiesTheMatchingElement) {
  const Tensor x = rnd(Shape{3, 1, 5}, 3);
  const Var y = broadcast_to(Var(x), Shape{2, 3, 4, 5});
  ASSERT_EQ(y.shape(), (Shape{2, 3, 4, 5}));
  for (int64_t a = 0; a < 2; ++a)
    for (int64_t b = 0; b < 3; ++b)
      for (int64_t c = 0; c < 4; ++c)
        for (int64_t d = 0; d < 5; ++d)
          EXPECT_EQ(y.value().data()[((a * 3 + b) * 4 + c) * 5 + d], x.data()[b * 5 + d]);
  const Tensor s = rnd(Shape{1}, 4);
  const Var z = broadcast_to(Var(s), Shape{4, 100});
  for (int64_t i = 0; i < 400; ++i) ASSERT_EQ(z.value().data()[i], s.data()[0]) << i;
  const Tensor col = rnd(Shape{6, 1}, 5);  // stretched along the last dimension
  const Var w = broadcast_to(Var(col), Shape{6, 40});
  for (int64_t i = 0; i < 240; ++i) ASSERT_EQ(w.value().data()[i], col.data()[i / 40]) << i;
}

}  // namespace
}  // namespace sngan
