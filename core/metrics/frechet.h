// Frechet distance between two Gaussians N(mu1, S1) and N(mu2, S2) (Heusel et al. 2017, the
// FID when the statistics are Inception pool3 features):
//   d^2 = ||mu1 - mu2||^2 + Tr(S1) + Tr(S2) - 2 Tr((S1 S2)^(1/2)).
//
// The trace of the matrix square root is computed without a general (non-symmetric) sqrtm:
// (S1 S2)^(1/2) is similar to M = S1^(1/2) S2 S1^(1/2), which is symmetric positive
// semi-definite, so Tr((S1 S2)^(1/2)) = sum_i sqrt(lambda_i(M)).
//  1. S1 = V diag(l) V^T by a symmetric eigendecomposition (Eigen's SelfAdjointEigenSolver);
//     eigenvalues below zero (rounding in a rank-deficient covariance) are clipped to 0, and
//     S1^(1/2) = V diag(sqrt(l)) V^T.
//  2. M = S1^(1/2) S2 S1^(1/2), symmetrised ((M + M^T) / 2) against rounding.
//  3. the eigenvalues of M, negative ones clipped to 0, give Tr sqrt(M).
// Unlike scipy.linalg.sqrtm of S1 S2 (pytorch-fid), this never meets complex values or needs
// an epsilon on the diagonal for singular covariances. All in double.
#pragma once

#include <Eigen/Core>

#include "core/metrics/feature_stats.h"

namespace sngan {

// Throws unless the means have equal sizes D and both covariances are D x D.
double frechet_distance(const Eigen::VectorXd& mu1, const Eigen::MatrixXd& s1,
                        const Eigen::VectorXd& mu2, const Eigen::MatrixXd& s2);
inline double frechet_distance(const FeatureStats& a, const FeatureStats& b) {
  return frechet_distance(a.mean, a.cov, b.mean, b.cov);
}

// Tr(A^(1/2) B A^(1/2))^(1/2) for symmetric PSD A, B (steps 1-3 above).
double trace_sqrt_product(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b);

}  // namespace sngan
