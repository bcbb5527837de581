#include "core/metrics/inception_score.h"

#include <cmath>

namespace sngan {

InceptionScore inception_score(const FeatureMatrix& logits, int splits) {
  const int64_t n = logits.rows(), k = logits.cols();
  SNGAN_CHECK(splits >= 1, "Inception score: expected at least 1 split, got ", splits);
  SNGAN_CHECK(n >= splits, "Inception score: expected at least as many samples as splits (",
              splits, "), got ", n);
  // log p(y|x) by a stable log-softmax: (N, K)
  FeatureMatrix logp(n, k);
  for (int64_t i = 0; i < n; ++i) {
    const double mx = logits.row(i).maxCoeff();
    const double lse = mx + std::log((logits.row(i).array() - mx).exp().sum());
    logp.row(i) = logits.row(i).array() - lse;
  }
  const int64_t part = n / splits;
  std::vector<double> scores(static_cast<size_t>(splits));
  for (int s = 0; s < splits; ++s) {
    const auto lp = logp.middleRows(s * part, part);         // (part, K)
    const Eigen::RowVectorXd py = lp.array().exp().colwise().mean();  // (K)
    const Eigen::RowVectorXd log_py = py.array().log();
    double kl_sum = 0;
    for (int64_t i = 0; i < part; ++i) {
      for (int64_t c = 0; c < k; ++c) {
        const double p = std::exp(lp(i, c));
        if (p > 0) kl_sum += p * (lp(i, c) - log_py(c));  // 0 log 0 = 0
      }
    }
    scores[static_cast<size_t>(s)] = std::exp(kl_sum / static_cast<double>(part));
  }
  InceptionScore r;
  r.splits = splits;
  for (double v : scores) r.mean += v;
  r.mean /= splits;
  for (double v : scores) r.std += (v - r.mean) * (v - r.mean);
  r.std = std::sqrt(r.std / splits);
  return r;
}

}  // namespace sngan
