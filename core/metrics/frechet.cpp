#include "core/metrics/frechet.h"

#include <Eigen/Eigenvalues>
#include <cmath>

#include "core/tensor/check.h"

namespace sngan {

double trace_sqrt_product(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> ea(a);
  SNGAN_CHECK(ea.info() == Eigen::Success, "Frechet distance: eigendecomposition of a covariance failed");
  const Eigen::VectorXd root = ea.eigenvalues().cwiseMax(0.0).cwiseSqrt();              // (D)
  const Eigen::MatrixXd a_half = ea.eigenvectors() * root.asDiagonal() * ea.eigenvectors().transpose();
  Eigen::MatrixXd m = a_half * b * a_half;  // (D, D), symmetric PSD up to rounding
  m = 0.5 * (m + m.transpose()).eval();
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> em(m, Eigen::EigenvaluesOnly);
  SNGAN_CHECK(em.info() == Eigen::Success, "Frechet distance: eigendecomposition of S1^1/2 S2 S1^1/2 failed");
  return em.eigenvalues().cwiseMax(0.0).cwiseSqrt().sum();
}

double frechet_distance(const Eigen::VectorXd& mu1, const Eigen::MatrixXd& s1,
                        const Eigen::VectorXd& mu2, const Eigen::MatrixXd& s2) {
  const Eigen::Index d = mu1.size();
  SNGAN_CHECK(mu2.size() == d, "Frechet distance: expected means of equal size, got ", d, " and ",
              mu2.size());
  SNGAN_CHECK(s1.rows() == d && s1.cols() == d && s2.rows() == d && s2.cols() == d,
              "Frechet distance: expected covariances of ", d, " x ", d, ", got ", s1.rows(), " x ",
              s1.cols(), " and ", s2.rows(), " x ", s2.cols());
  const double mean_term = (mu1 - mu2).squaredNorm();
  return mean_term + s1.trace() + s2.trace() - 2.0 * trace_sqrt_product(s1, s2);
}

}  // namespace sngan
