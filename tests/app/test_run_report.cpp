// The run's history columns, the smoothing of its curves and the report page (app/run_report.h).
#include <gtest/gtest.h>

#include <cmath>

#include "app/run_report.h"
#include "tests/cli/cli_util.h"

namespace sngan {
namespace {

using nlohmann::json;

TEST(RunHistory, ColumnsStayAlignedWhenLayersAppearOrMissingValuesOccur) {
  RunHistory h;
  h.add(json::parse(R"({"step": 1, "loss_d": 2.0, "loss_g": 1.0, "sigma": {"conv0": 1.5}})"));
  h.add(json::parse(R"({"step": 2, "loss_d": 1.0, "sigma": {"conv0": 1.2, "conv1": 0.9}})"));
  h.add(json::parse(R"({"step": 3, "loss_g": 0.5})"));
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h.step, (std::vector<double>{1, 2, 3}));
  EXPECT_TRUE(std::isnan(h.loss_d[2]));
  EXPECT_TRUE(std::isnan(h.loss_g[1]));
  ASSERT_EQ(h.sigma.at("conv0").size(), 3u);
  ASSERT_EQ(h.sigma.at("conv1").size(), 3u);
  EXPECT_DOUBLE_EQ(h.sigma.at("conv0")[1], 1.2);
  EXPECT_TRUE(std::isnan(h.sigma.at("conv1")[0]));
  EXPECT_DOUBLE_EQ(h.sigma.at("conv1")[1], 0.9);
  EXPECT_TRUE(std::isnan(h.sigma.at("conv0")[2]));
  EXPECT_EQ(h.last_line["step"], 3);
}

TEST(RunHistory, SmoothingIsADebiasedMovingAverageThatSkipsGaps) {
  const std::vector<double> y{4, NAN, 2, 8};
  const std::vector<double> s = smooth(y, 0.5);
  // Debiased: the first value is kept, then weights 1/2, 1/4 ... normalised by their sum.
  EXPECT_DOUBLE_EQ(s[0], 4);
  EXPECT_TRUE(std::isnan(s[1]));
  EXPECT_DOUBLE_EQ(s[2], (0.5 * 0.5 * 4 + 0.5 * 2) / (0.5 * 0.5 + 0.5));
  EXPECT_DOUBLE_EQ(s[3], (0.5 * 0.5 * 0.5 * 4 + 0.5 * 0.5 * 2 + 0.5 * 8) / (0.125 + 0.25 + 0.5));
  const std::vector<double> flat = smooth({3, 3, 3}, 0.9);
  for (double v : flat) EXPECT_NEAR(v, 3, 1e-12);
}

TEST(RunReport, EscapesTheConfigAndListsOnlyExistingGrids) {
  testing::TempDir tmp;
  std::filesystem::create_directories(tmp.path() / "samples");
  testing::write_file(tmp.path() / "samples" / "epoch_0002.png", "png");
  testing::write_file(tmp.path() / "samples" / "epoch_0010.png", "png");
  testing::write_file(tmp.path() / "samples" / "epoch_0003.png.tmp.77", "partial");
  RunHistory h;
  h.add(json::parse(R"({"step": 5, "loss_d": 1.25})"));
  write_report(tmp.path(), json::parse(R"({"data": {"path": "<a&b>"}})"), h, {});
  const std::string html = testing::read_file(tmp.path() / "report.html");
  EXPECT_NE(html.find("&lt;a&amp;b&gt;"), std::string::npos);
  EXPECT_EQ(html.find("<a&b>"), std::string::npos);
  EXPECT_LT(html.find("epoch_0010.png"), html.find("epoch_0002.png"));  // newest first, by number
  EXPECT_EQ(html.find(".tmp."), std::string::npos);
  EXPECT_NE(html.find("1.25"), std::string::npos);
  EXPECT_NE(html.find("No checkpoint yet"), std::string::npos);
}

}  // namespace
}  // namespace sngan
