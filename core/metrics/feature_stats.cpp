#include "core/metrics/feature_stats.h"

namespace sngan {

FeatureMatrix to_feature_matrix(const Tensor& features) {
  SNGAN_CHECK(features.defined() && features.ndim() == 2,
              "features: expected a 2-d tensor (N, D), got ",
              features.defined() ? features.shape().str() : std::string("an undefined tensor"));
  const int64_t n = features.dim(0), d = features.dim(1);
  FeatureMatrix m(n, d);
  const Scalar* p = features.data();
  for (int64_t i = 0; i < n * d; ++i) m.data()[i] = static_cast<double>(p[i]);
  return m;
}

FeatureStats compute_feature_stats(const FeatureMatrix& features) {
  const int64_t n = features.rows();
  SNGAN_CHECK(n >= 2, "feature statistics: expected at least 2 feature vectors, got ", n);
  FeatureStats s;
  s.count = n;
  s.mean = features.colwise().mean().transpose();                      // (D)
  const FeatureMatrix centred = features.rowwise() - s.mean.transpose();  // (N, D)
  s.cov = (centred.transpose() * centred) / static_cast<double>(n - 1);  // (D, D)
  return s;
}

std::vector<int64_t> class_histogram(const FeatureMatrix& logits) {
  std::vector<int64_t> counts(static_cast<size_t>(logits.cols()), 0);
  for (int64_t i = 0; i < logits.rows(); ++i) {
    Eigen::Index best = 0;
    logits.row(i).maxCoeff(&best);  // first maximum on ties
    ++counts[static_cast<size_t>(best)];
  }
  return counts;
}

}  // namespace sngan
