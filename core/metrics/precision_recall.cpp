#include "core/metrics/precision_recall.h"

#include <algorithm>
#include <limits>
#include <vector>

namespace sngan {
namespace {

// Squared distances of rows [r0, r0 + rows) of a to every row of b: (rows, Nb).
Eigen::MatrixXd squared_distances(const FeatureMatrix& a, int64_t r0, int64_t rows,
                                  const FeatureMatrix& b, const Eigen::VectorXd& b_sq) {
  const auto block = a.middleRows(r0, rows);                    // (rows, D)
  Eigen::MatrixXd d = -2.0 * (block * b.transpose());           // (rows, Nb)
  const Eigen::VectorXd a_sq = block.rowwise().squaredNorm();   // (rows)
  d.colwise() += a_sq;
  d.rowwise() += b_sq.transpose();
  return d.cwiseMax(0.0);
}

}  // namespace

Eigen::VectorXd knn_radii_squared(const FeatureMatrix& x, int k, int64_t block_rows) {
  const int64_t n = x.rows();
  SNGAN_CHECK(k >= 1 && n > k, "precision/recall: expected more than k = ", k,
              " feature vectors in each set, got ", n);
  const Eigen::VectorXd sq = x.rowwise().squaredNorm();
  Eigen::VectorXd radii(n);
  for (int64_t r0 = 0; r0 < n; r0 += block_rows) {
    const int64_t rows = std::min(block_rows, n - r0);
    Eigen::MatrixXd d = squared_distances(x, r0, rows, x, sq);  // (rows, N)
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < rows; ++i) {
      std::vector<double> row(static_cast<size_t>(n));
      for (int64_t j = 0; j < n; ++j) row[static_cast<size_t>(j)] = d(i, j);
      row[static_cast<size_t>(r0 + i)] = std::numeric_limits<double>::infinity();  // not itself
      std::nth_element(row.begin(), row.begin() + (k - 1), row.end());
      radii(r0 + i) = row[static_cast<size_t>(k - 1)];
    }
  }
  return radii;
}

double share_inside_balls(const FeatureMatrix& points, const FeatureMatrix& centres,
                          const Eigen::VectorXd& radii_sq, int64_t block_rows) {
  const int64_t n = points.rows(), m = centres.rows();
  const Eigen::VectorXd sq = centres.rowwise().squaredNorm();
  int64_t inside = 0;
  for (int64_t r0 = 0; r0 < n; r0 += block_rows) {
    const int64_t rows = std::min(block_rows, n - r0);
    const Eigen::MatrixXd d = squared_distances(points, r0, rows, centres, sq);  // (rows, M)
#pragma omp parallel for schedule(static) reduction(+ : inside)
    for (int64_t i = 0; i < rows; ++i) {
      for (int64_t j = 0; j < m; ++j) {
        if (d(i, j) <= radii_sq(j)) {
          ++inside;
          break;
        }
      }
    }
  }
  return static_cast<double>(inside) / static_cast<double>(n);
}

PrecisionRecall precision_recall(const FeatureMatrix& real, const FeatureMatrix& fake, int k,
                                 int64_t block_rows) {
  SNGAN_CHECK(real.cols() == fake.cols(), "precision/recall: expected features of equal width, got ",
              real.cols(), " and ", fake.cols());
  SNGAN_CHECK(block_rows >= 1, "precision/recall: expected block_rows >= 1, got ", block_rows);
  const Eigen::VectorXd real_r = knn_radii_squared(real, k, block_rows);
  const Eigen::VectorXd fake_r = knn_radii_squared(fake, k, block_rows);
  PrecisionRecall pr;
  pr.k = k;
  pr.precision = share_inside_balls(fake, real, real_r, block_rows);
  pr.recall = share_inside_balls(real, fake, fake_r, block_rows);
  return pr;
}

}  // namespace sngan
