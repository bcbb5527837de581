// The metrics of core/metrics against independent numpy/scipy computations on fixed feature
// sets (tests/metrics/make_reference.py wrote reference_metrics.json from the same formulas).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/metrics/feature_stats.h"
#include "core/metrics/frechet.h"
#include "core/metrics/inception_score.h"
#include "core/metrics/kid.h"
#include "core/metrics/precision_recall.h"

namespace sngan {
namespace {

using nlohmann::json;

json reference() {
  std::ifstream in(std::string(SNGAN_SOURCE_DIR) + "/tests/metrics/reference_metrics.json");
  EXPECT_TRUE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

// make_reference.py's features(): the same formula in double.
FeatureMatrix features(int64_t n, int64_t d, double c) {
  FeatureMatrix f(n, d);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j) {
      const double di = double(i), dj = double(j);
      f(i, j) = std::sin(0.7 * di + 1.3 * dj + c) + 0.5 * std::sin(0.37 * di * (dj + 1) + c) +
                0.25 * std::cos(0.013 * di * di + 0.9 * dj) + 0.05 * c * dj;
    }
  return f;
}

FeatureMatrix logits(int64_t n, int64_t k) {
  FeatureMatrix l(n, k);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < k; ++c)
      l(i, c) = 4.0 * std::sin(0.3 * double(i) + 0.9 * double(c)) + 2.0 * std::cos(0.05 * double(i) * double(c));
  return l;
}

void expect_rel(double got, double want, double rel, const char* what) {
  std::printf("  %-10s sngan %.12g  numpy/scipy %.12g  relative difference %.2e\n", what, got, want,
              std::abs(got - want) / std::max(std::abs(want), 1e-300));
  EXPECT_LE(std::abs(got - want), rel * std::max(std::abs(want), 1e-12))
      << what << ": got " << got << ", reference " << want;
}

class MetricsReference : public ::testing::Test {
 protected:
  void SetUp() override {
    ref = reference();
    real = features(ref["n_real"], ref["dim"], ref["c_real"]);
    fake = features(ref["n_fake"], ref["dim"], ref["c_fake"]);
  }
  json ref;
  FeatureMatrix real, fake;
};

TEST_F(MetricsReference, MeanAndCovarianceMatchNumpy) {
  const FeatureStats s = compute_feature_stats(real);
  const auto mean = ref["mean_real"].get<std::vector<double>>();
  const auto cov = ref["cov_real"].get<std::vector<double>>();
  ASSERT_EQ(s.mean.size(), static_cast<Eigen::Index>(mean.size()));
  ASSERT_EQ(s.cov.size(), static_cast<Eigen::Index>(cov.size()));
  for (size_t i = 0; i < mean.size(); ++i) EXPECT_NEAR(s.mean(i), mean[i], 1e-12);
  for (size_t i = 0; i < cov.size(); ++i) EXPECT_NEAR(s.cov.data()[i], cov[i], 1e-12);
}

TEST_F(MetricsReference, FrechetDistanceMatchesScipySqrtm) {
  const double fd = frechet_distance(compute_feature_stats(real), compute_feature_stats(fake));
  expect_rel(fd, ref["fid"].get<double>(), 1e-6, "FD");
}

TEST_F(MetricsReference, KidMatchesNumpyOnTheSameSubsets) {
  const auto rs = ref["kid"]["real_subsets"].get<std::vector<std::vector<int64_t>>>();
  const auto fs = ref["kid"]["fake_subsets"].get<std::vector<std::vector<int64_t>>>();
  const KidResult k = kernel_inception_distance(real, fake, rs, fs);
  expect_rel(k.mean, ref["kid"]["mean"].get<double>(), 1e-6, "KID mean");
  expect_rel(k.std, ref["kid"]["std"].get<double>(), 1e-6, "KID std");
}

TEST_F(MetricsReference, InceptionScoreMatchesNumpy) {
  const InceptionScore s = inception_score(logits(ref["is"]["n"], ref["is"]["classes"]), ref["is"]["splits"]);
  expect_rel(s.mean, ref["is"]["mean"].get<double>(), 1e-6, "IS mean");
  expect_rel(s.std, ref["is"]["std"].get<double>(), 1e-6, "IS std");
}

TEST_F(MetricsReference, PrecisionRecallMatchScipyAtEveryBlockSize) {
  for (int64_t block : {1, 7, 64, 1024}) {
    const PrecisionRecall pr = precision_recall(real, fake, ref["pr"]["k"], block);
    expect_rel(pr.precision, ref["pr"]["precision"].get<double>(), 1e-6, "precision");
    expect_rel(pr.recall, ref["pr"]["recall"].get<double>(), 1e-6, "recall");
  }
}

}  // namespace
}  // namespace sngan
