#include "core/metrics/kid.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/tensor/rng.h"

namespace sngan {
namespace {

// (x y^T / d + 1)^3 elementwise: (m, D) x (n, D) -> (m, n)
Eigen::MatrixXd cubic_kernel(const FeatureMatrix& x, const FeatureMatrix& y) {
  const double d = static_cast<double>(x.cols());
  Eigen::MatrixXd k = (x * y.transpose()) / d;
  return (k.array() + 1.0).cube().matrix();
}

FeatureMatrix gather_rows(const FeatureMatrix& m, const std::vector<int64_t>& rows) {
  FeatureMatrix out(static_cast<Eigen::Index>(rows.size()), m.cols());  // (rows, D)
  for (size_t i = 0; i < rows.size(); ++i) {
    SNGAN_CHECK(rows[i] >= 0 && rows[i] < m.rows(), "KID: subset index ", rows[i],
                " out of range [0, ", m.rows(), ")");
    out.row(static_cast<Eigen::Index>(i)) = m.row(rows[i]);
  }
  return out;
}

// The first k entries of a random permutation of [0, n) (partial Fisher-Yates).
std::vector<int64_t> draw_subset(Rng& rng, int64_t n, int64_t k) {
  std::vector<int64_t> all(static_cast<size_t>(n));
  std::iota(all.begin(), all.end(), int64_t(0));
  for (int64_t i = 0; i < k; ++i) {
    const int64_t j = i + static_cast<int64_t>(rng.below(static_cast<uint64_t>(n - i)));
    std::swap(all[static_cast<size_t>(i)], all[static_cast<size_t>(j)]);
  }
  all.resize(static_cast<size_t>(k));
  return all;
}

}  // namespace

double mmd2_unbiased_polynomial(const FeatureMatrix& x, const FeatureMatrix& y) {
  const double m = static_cast<double>(x.rows());
  SNGAN_CHECK(x.rows() >= 2 && y.rows() == x.rows() && y.cols() == x.cols(),
              "KID: expected two subsets of equal size >= 2 and equal width, got (", x.rows(), ", ",
              x.cols(), ") and (", y.rows(), ", ", y.cols(), ")");
  const Eigen::MatrixXd kxx = cubic_kernel(x, x), kyy = cubic_kernel(y, y), kxy = cubic_kernel(x, y);
  const double sxx = kxx.sum() - kxx.trace();
  const double syy = kyy.sum() - kyy.trace();
  return (sxx + syy) / (m * (m - 1)) - 2.0 * kxy.sum() / (m * m);
}

KidResult kernel_inception_distance(const FeatureMatrix& real, const FeatureMatrix& fake,
                                    const std::vector<std::vector<int64_t>>& real_subsets,
                                    const std::vector<std::vector<int64_t>>& fake_subsets) {
  SNGAN_CHECK(!real_subsets.empty() && real_subsets.size() == fake_subsets.size(),
              "KID: expected as many real as fake subsets (at least one), got ",
              real_subsets.size(), " and ", fake_subsets.size());
  std::vector<double> values(real_subsets.size());
  for (size_t s = 0; s < real_subsets.size(); ++s)
    values[s] = mmd2_unbiased_polynomial(gather_rows(real, real_subsets[s]),
                                         gather_rows(fake, fake_subsets[s]));
  KidResult r;
  r.subsets = static_cast<int>(values.size());
  r.subset_size = static_cast<int64_t>(real_subsets[0].size());
  r.mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
  double var = 0;
  for (double v : values) var += (v - r.mean) * (v - r.mean);
  r.std = std::sqrt(var / static_cast<double>(values.size()));
  return r;
}

KidResult kernel_inception_distance(const FeatureMatrix& real, const FeatureMatrix& fake,
                                    const KidConfig& config) {
  SNGAN_CHECK(real.rows() >= 2 && fake.rows() >= 2,
              "KID: expected at least 2 real and 2 generated feature vectors, got ", real.rows(),
              " and ", fake.rows());
  SNGAN_CHECK(real.cols() == fake.cols(), "KID: expected features of equal width, got ",
              real.cols(), " and ", fake.cols());
  SNGAN_CHECK(config.subsets >= 1 && config.subset_size >= 2,
              "KID: expected at least 1 subset of size >= 2, got ", config.subsets, " of ",
              config.subset_size);
  const int64_t m = std::min({config.subset_size, static_cast<int64_t>(real.rows()),
                              static_cast<int64_t>(fake.rows())});
  Rng rng(config.seed);
  std::vector<std::vector<int64_t>> rs, fs;
  for (int s = 0; s < config.subsets; ++s) {
    rs.push_back(draw_subset(rng, real.rows(), m));
    fs.push_back(draw_subset(rng, fake.rows(), m));
  }
  return kernel_inception_distance(real, fake, rs, fs);
}

}  // namespace sngan
