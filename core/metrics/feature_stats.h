// Feature statistics for the evaluation metrics: features as a double matrix, their mean and
// unbiased covariance (numpy.cov(features, rowvar=False)), and the class histogram of logits.
// Everything is computed in double whatever the network's Scalar is.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <vector>

#include "core/tensor/tensor.h"

namespace sngan {

// (N, D): one feature vector per row.
using FeatureMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// features (N, D) -> FeatureMatrix (N, D). Throws unless features is 2-d.
FeatureMatrix to_feature_matrix(const Tensor& features);

struct FeatureStats {
  Eigen::VectorXd mean;  // (D)
  Eigen::MatrixXd cov;   // (D, D), unbiased: sum (x - mean)(x - mean)^T / (N - 1)
  int64_t count = 0;     // N
};

// Mean and unbiased covariance of the rows. Throws unless N >= 2 (the covariance needs two).
FeatureStats compute_feature_stats(const FeatureMatrix& features);

// Counts of argmax over each row of logits (N, K) -> (K); ties go to the lowest index.
std::vector<int64_t> class_histogram(const FeatureMatrix& logits);

}  // namespace sngan
