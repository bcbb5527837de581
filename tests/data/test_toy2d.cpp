// Toy 2D mixtures: centers, spread, determinism, loader batches of shape (N, 2).
#include <gtest/gtest.h>

#include <cmath>

#include "data/loader.h"
#include "data/toy2d.h"
#include "tests/data/data_test_util.h"

namespace sngan {
namespace {

TEST(Toy2D, CentersOfRingAndGrid) {
  Toy2DConfig ring;
  ring.kind = "ring8";
  const auto rc = toy2d_centers(ring);
  ASSERT_EQ(rc.size(), 8u);
  for (const auto& c : rc) EXPECT_NEAR(std::hypot(c[0], c[1]), 2.0, 1e-12);
  EXPECT_NEAR(rc[0][0], 2.0, 1e-12);
  EXPECT_NEAR(rc[2][1], 2.0, 1e-12);
  ring.radius = 3.0;
  EXPECT_NEAR(toy2d_centers(ring)[4][0], -3.0, 1e-12);
  EXPECT_DOUBLE_EQ(toy2d_std(ring), 0.02);

  Toy2DConfig grid;
  grid.kind = "grid25";
  const auto gc = toy2d_centers(grid);
  ASSERT_EQ(gc.size(), 25u);
  EXPECT_EQ(gc.front()[0], -4.0);
  EXPECT_EQ(gc.front()[1], -4.0);
  EXPECT_EQ(gc.back()[0], 4.0);
  EXPECT_EQ(gc[12][0], 0.0);
  EXPECT_DOUBLE_EQ(toy2d_std(grid), 0.05);
  grid.kind = "spiral";
  testing::expect_error([&] { toy2d_centers(grid); }, {"'spiral'"});
}

TEST(Toy2D, SamplesSitAtTheirLabelledModeAndAreDeterministic) {
  for (const std::string kind : {"ring8", "grid25"}) {
    Toy2DConfig cfg;
    cfg.kind = kind;
    cfg.size = 4000;
    cfg.seed = 7;
    Toy2DDataset ds(cfg);
    const auto centers = toy2d_centers(cfg);
    const double sd = toy2d_std(cfg);
    std::vector<int> counts(centers.size(), 0);
    double sum_sq = 0;
    for (int64_t i = 0; i < ds.size(); ++i) {
      const Example e = ds.get(i);
      ASSERT_EQ(e.features.size(), 2u);
      ASSERT_GE(e.label, 0);
      const auto& c = centers[static_cast<size_t>(e.label)];
      const double dx = e.features[0] - c[0], dy = e.features[1] - c[1];
      ASSERT_LT(std::hypot(dx, dy), 6 * sd) << kind << " example " << i;
      sum_sq += dx * dx + dy * dy;
      ++counts[static_cast<size_t>(e.label)];
    }
    EXPECT_NEAR(std::sqrt(sum_sq / (2.0 * ds.size())), sd, 0.05 * sd) << kind;
    const double mean = 4000.0 / centers.size();
    for (int n : counts) EXPECT_NEAR(n, mean, 5 * std::sqrt(mean)) << kind;
    // Same seed, same points; another seed, other points.
    Toy2DDataset again(cfg);
    EXPECT_EQ(again.get(123).features, ds.get(123).features);
    cfg.seed = 8;
    EXPECT_NE(Toy2DDataset(cfg).get(123).features, ds.get(123).features);
  }
}

TEST(Toy2D, CustomStdAndLoaderBatches) {
  DatasetConfig dc;
  dc.format = "grid25";
  dc.toy.size = 1000;
  dc.toy.std = 0.5;
  std::shared_ptr<const Dataset> ds = open_dataset(dc);
  EXPECT_EQ(ds->num_classes(), 25);
  EXPECT_EQ(ds->feature_dim(), 2);
  LoaderConfig lc;
  lc.batch_size = 100;
  Loader loader(ds, lc, PreprocessConfig{});
  std::vector<int> labels;
  const Tensor x = loader.next(&labels);
  EXPECT_EQ(x.shape(), (Shape{100, 2}));
  ASSERT_EQ(labels.size(), 100u);
  Toy2DConfig t = dc.toy;
  t.kind = "grid25";
  const auto centers = toy2d_centers(t);
  double spread = 0;
  for (int k = 0; k < 100; ++k) {
    const auto& c = centers[static_cast<size_t>(labels[static_cast<size_t>(k)])];
    spread += std::pow(x[2 * k] - c[0], 2) + std::pow(x[2 * k + 1] - c[1], 2);
  }
  EXPECT_NEAR(std::sqrt(spread / 200), 0.5, 0.1);
}

}  // namespace
}  // namespace sngan
