// Improved precision and recall (Kynkaanniemi et al. 2019, Sec. 2): each set of feature
// vectors approximates its manifold by the union of balls around its points, the radius of a
// point being the distance to its k-th nearest neighbour in the same set (the point itself
// not counted; k = 3 in the paper). Then
//   precision = share of generated points inside at least one real ball,
//   recall    = share of real points inside at least one generated ball.
// Distances are exact Euclidean distances (in double, ||a||^2 + ||b||^2 - 2 a.b clipped at 0,
// compared squared), computed in blocks of rows so that memory stays at block x N doubles;
// rows of a block run in parallel with OpenMP. A point on the boundary counts as inside.
#pragma once

#include <cstdint>

#include "core/metrics/feature_stats.h"

namespace sngan {

struct PrecisionRecall {
  double precision = 0, recall = 0;
  int k = 0;
};

// Squared distance of every row of x to its k-th nearest other row: (N). Throws unless
// N > k >= 1.
Eigen::VectorXd knn_radii_squared(const FeatureMatrix& x, int k, int64_t block_rows = 1024);

// Share of rows of `points` within (<=) the ball of at least one row of `centres`, the ball of
// centre i having squared radius radii_sq(i).
double share_inside_balls(const FeatureMatrix& points, const FeatureMatrix& centres,
                          const Eigen::VectorXd& radii_sq, int64_t block_rows = 1024);

// Throws unless both sets have more than k rows and the same width.
PrecisionRecall precision_recall(const FeatureMatrix& real, const FeatureMatrix& fake, int k = 3,
                                 int64_t block_rows = 1024);

}  // namespace sngan
