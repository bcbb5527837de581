// Properties and edge cases of the metrics that follow from their definitions.
#include <gtest/gtest.h>

#include <cmath>

#include "core/metrics/feature_stats.h"
#include "core/metrics/frechet.h"
#include "core/metrics/inception_score.h"
#include "core/metrics/kid.h"
#include "core/metrics/precision_recall.h"
#include "core/tensor/rng.h"

namespace sngan {
namespace {

FeatureMatrix gaussian(int64_t n, int64_t d, uint64_t seed, double shift = 0.0) {
  Rng rng(seed);
  FeatureMatrix f(n, d);
  for (int64_t i = 0; i < n * d; ++i) f.data()[i] = rng.normal() + shift;
  return f;
}

TEST(FrechetDistance, IdenticalSetsGiveZero) {
  const FeatureStats s = compute_feature_stats(gaussian(400, 20, 1));
  EXPECT_NEAR(frechet_distance(s, s), 0.0, 1e-9 * s.cov.trace());
}

TEST(FrechetDistance, RankDeficientCovarianceStaysFiniteAndZeroOnItself) {
  const FeatureStats s = compute_feature_stats(gaussian(10, 40, 2));  // rank 9 < 40
  const double fd = frechet_distance(s, s);
  EXPECT_TRUE(std::isfinite(fd));
  // rounding noise in the null space (eigenvalues ~1e-16) contributes sqrt(noise) each
  EXPECT_NEAR(fd, 0.0, 1e-6 * s.cov.trace());
}

TEST(FrechetDistance, ShiftedSetAddsTheSquaredShiftOnly) {
  const FeatureMatrix a = gaussian(300, 8, 3);
  const FeatureMatrix b = a.array() + 0.5;
  const double fd = frechet_distance(compute_feature_stats(a), compute_feature_stats(b));
  EXPECT_NEAR(fd, 8 * 0.25, 1e-9);
}

TEST(FrechetDistance, DiagonalCovariancesHaveTheClosedForm) {
  Eigen::VectorXd a(3), b(3), mu1 = Eigen::VectorXd::Zero(3), mu2(3);
  a << 1.0, 4.0, 9.0;
  b << 4.0, 1.0, 0.25;
  mu2 << 1.0, 0.0, -2.0;
  double want = 5.0;  // ||mu1 - mu2||^2
  for (int i = 0; i < 3; ++i) want += std::pow(std::sqrt(a(i)) - std::sqrt(b(i)), 2);
  const double fd = frechet_distance(mu1, Eigen::MatrixXd(a.asDiagonal()), mu2, Eigen::MatrixXd(b.asDiagonal()));
  EXPECT_NEAR(fd, want, 1e-12);
  EXPECT_NEAR(fd, frechet_distance(mu2, Eigen::MatrixXd(b.asDiagonal()), mu1, Eigen::MatrixXd(a.asDiagonal())), 1e-12);
}

TEST(FrechetDistance, RejectsMismatchedSizes) {
  EXPECT_THROW(frechet_distance(Eigen::VectorXd::Zero(3), Eigen::MatrixXd::Identity(3, 3),
                                Eigen::VectorXd::Zero(4), Eigen::MatrixXd::Identity(4, 4)),
               Error);
  EXPECT_THROW(compute_feature_stats(gaussian(1, 4, 0)), Error);
}

TEST(Kid, SeededSubsetsAreReproducibleAndSeparateSameFromShifted) {
  const FeatureMatrix a = gaussian(500, 16, 4), b = gaussian(500, 16, 5), c = gaussian(500, 16, 6, 0.5);
  const KidConfig cfg{20, 200, 7};
  const KidResult same = kernel_inception_distance(a, b, cfg);
  const KidResult again = kernel_inception_distance(a, b, cfg);
  EXPECT_EQ(same.mean, again.mean);
  EXPECT_EQ(same.subset_size, 200);
  EXPECT_NE(same.mean, kernel_inception_distance(a, b, KidConfig{20, 200, 8}).mean);
  const KidResult shifted = kernel_inception_distance(a, c, cfg);
  EXPECT_LT(std::abs(same.mean), 3 * same.std + 1e-3);
  EXPECT_GT(shifted.mean, 10 * std::abs(same.mean));
  EXPECT_GT(shifted.mean, 0.0);
}

TEST(Kid, SubsetSizeIsCappedAndTinySetsAreRejected) {
  const FeatureMatrix a = gaussian(50, 4, 1), b = gaussian(30, 4, 2);
  EXPECT_EQ(kernel_inception_distance(a, b, KidConfig{3, 1000, 0}).subset_size, 30);
  EXPECT_THROW(kernel_inception_distance(a, gaussian(1, 4, 3)), Error);
  EXPECT_THROW(kernel_inception_distance(a, gaussian(50, 5, 3)), Error);
}

TEST(InceptionScore, UniformPredictionsScoreOneAndConfidentSpreadScoresK) {
  EXPECT_NEAR(inception_score(FeatureMatrix::Zero(100, 10), 10).mean, 1.0, 1e-12);
  FeatureMatrix confident = FeatureMatrix::Constant(100, 10, -1e4);  // exp underflows to 0
  for (int i = 0; i < 100; ++i) confident(i, i % 10) = 1e4;
  const InceptionScore s = inception_score(confident, 10);
  EXPECT_NEAR(s.mean, 10.0, 1e-9);
  EXPECT_NEAR(s.std, 0.0, 1e-9);
  EXPECT_THROW(inception_score(FeatureMatrix::Zero(5, 10), 10), Error);
}

TEST(PrecisionRecall, IdenticalSetsGiveOneAndFarSetsGiveZero) {
  const FeatureMatrix a = gaussian(200, 10, 9);
  const PrecisionRecall same = precision_recall(a, a, 3, 64);
  EXPECT_EQ(same.precision, 1.0);
  EXPECT_EQ(same.recall, 1.0);
  const PrecisionRecall far = precision_recall(a, gaussian(150, 10, 10, 100.0), 3, 64);
  EXPECT_EQ(far.precision, 0.0);
  EXPECT_EQ(far.recall, 0.0);
  EXPECT_THROW(precision_recall(a, gaussian(3, 10, 11), 3), Error);
}

TEST(PrecisionRecall, RadiusIsTheKthNeighbourWithoutThePointItself) {
  FeatureMatrix line(5, 1);
  line << 0, 1, 3, 6, 10;
  const Eigen::VectorXd r = knn_radii_squared(line, 2, 2);
  const double want[5] = {9, 4, 9, 16, 49};  // 2nd nearest other point, squared
  for (int i = 0; i < 5; ++i) EXPECT_DOUBLE_EQ(r(i), want[i]) << i;
}

TEST(ClassHistogram, CountsArgmaxWithTiesToTheLowestClass) {
  FeatureMatrix l(4, 3);
  l << 0, 1, 0,  //
      2, 2, 1,   //
      0, 0, 5,   //
      -1, 3, 2;
  EXPECT_EQ(class_histogram(l), (std::vector<int64_t>{1, 2, 1}));
}

}  // namespace
}  // namespace sngan
