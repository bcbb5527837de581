// Sums in double in a fixed order that vectorises: term i goes to partial sum i % kSumLanes,
// the partials are folded pairwise, then the tail past the last whole group is added. A serial
// sum waits on each addition's latency (about 4x slower); an OpenMP reduction combines its
// partials in arrival order. These give the same bits wherever the data lies and whatever the
// thread count, so a whole tensor's sum and a row's sum agree when they cover the same terms.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace sngan {

constexpr int kSumLanes = 16;

// acc[0] + ... + acc[kSumLanes - 1], folded pairwise.
inline double fold_lanes(double* acc) {
  for (int w = kSumLanes / 2; w >= 1; w /= 2)
    for (int j = 0; j < w; ++j) acc[j] += acc[j + w];
  return acc[0];
}

// term(lo) + ... + term(hi - 1), term returning double.
template <typename Term>
double ordered_sum(int64_t lo, int64_t hi, Term term) {
  double acc[kSumLanes] = {};
  int64_t i = lo;
  for (; i + kSumLanes <= hi; i += kSumLanes)
    for (int j = 0; j < kSumLanes; ++j) acc[j] += term(i + j);
  double s = fold_lanes(acc);
  for (; i < hi; ++i) s += term(i);
  return s;
}

// term(0) + ... + term(n - 1) over fixed blocks of terms (in parallel when there are several),
// each an ordered_sum, added in block order.
template <typename Term>
double blocked_sum(int64_t n, Term term) {
  constexpr int64_t kBlock = 16384;
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  std::vector<double> partial(static_cast<size_t>(blocks));
#pragma omp parallel for schedule(static) if (blocks > 2)
  for (int64_t b = 0; b < blocks; ++b)
    partial[static_cast<size_t>(b)] = ordered_sum(b * kBlock, std::min(n, (b + 1) * kBlock), term);
  double total = 0;
  for (double s : partial) total += s;
  return total;
}

}  // namespace sngan
