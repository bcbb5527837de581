// Kernel Inception Distance (Binkowski et al. 2018, "Demystifying MMD GANs", Sec. 2.3 and
// their reference code): the unbiased estimate of the squared MMD between real and generated
// features with the cubic polynomial kernel k(x, y) = (x.y / d + 1)^3, d the feature width,
// averaged over random subsets of equal size m drawn from each set:
//   MMD^2_u = sum_{i != j} k(x_i, x_j) / (m (m - 1)) + sum_{i != j} k(y_i, y_j) / (m (m - 1))
//             - 2 sum_{i, j} k(x_i, y_j) / m^2.
// The reported std is the population standard deviation (numpy's default) over the subsets.
#pragma once

#include <cstdint>
#include <vector>

#include "core/metrics/feature_stats.h"

namespace sngan {

struct KidConfig {
  int subsets = 100;        // as in Binkowski et al.
  int64_t subset_size = 1000;  // capped at the smaller of the two set sizes
  uint64_t seed = 0;        // draws the subsets (each without replacement)
};

struct KidResult {
  double mean = 0, std = 0;
  int subsets = 0;
  int64_t subset_size = 0;
};

// MMD^2_u between all rows of x (m, D) and all rows of y (m, D) (same m >= 2).
double mmd2_unbiased_polynomial(const FeatureMatrix& x, const FeatureMatrix& y);

// KID over the given subsets: real_subsets[s] and fake_subsets[s] list the rows of real and
// fake of subset s (equal lengths >= 2, indices in range).
KidResult kernel_inception_distance(const FeatureMatrix& real, const FeatureMatrix& fake,
                                    const std::vector<std::vector<int64_t>>& real_subsets,
                                    const std::vector<std::vector<int64_t>>& fake_subsets);

// KID over config.subsets subsets of size min(config.subset_size, N_real, N_fake), each drawn
// without replacement (a partial Fisher-Yates shuffle of an sngan Rng seeded with
// config.seed: real subset 0, fake subset 0, real subset 1, ...). Throws unless both sets
// have at least 2 rows and the same width.
KidResult kernel_inception_distance(const FeatureMatrix& real, const FeatureMatrix& fake,
                                    const KidConfig& config = {});

}  // namespace sngan
