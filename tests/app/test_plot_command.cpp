// `sngan plot` (app/plot_command.h): CSV reading, grouping and the PNG it writes.
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include "app/plot_command.h"
#include "core/tensor/check.h"
#include "tests/cli/cli_util.h"

namespace sngan {
namespace {

using testing::TempDir;
using testing::write_file;

TEST(PlotCommand, ReadsCsvAndRefusesRaggedRows) {
  TempDir dir;
  write_file(dir.path() / "a.csv", "method, x ,y\nsn,1,2\n\nwn,2,3\n");
  const CsvTable t = read_csv((dir.path() / "a.csv").string());
  EXPECT_EQ(t.columns, (std::vector<std::string>{"method", "x", "y"}));
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[1][0], "wn");
  write_file(dir.path() / "b.csv", "x,y\n1,2\n3\n");
  try {
    read_csv((dir.path() / "b.csv").string());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("line 3"), std::string::npos) << e.what();
  }
}

TEST(PlotCommand, WritesAPngOfTheAskedSizeWithOneColourPerGroup) {
  TempDir dir;
  write_file(dir.path() / "s.csv", "method,n,v\nsn,1,1\nsn,10,2\nsn,100,3\nwn,1,3\nwn,10,1\nwn,100,0.5\n");
  PlotOptions o;
  o.csv = (dir.path() / "s.csv").string();
  o.x = "n";
  o.y = "v";
  o.group = "method";
  o.out = (dir.path() / "s.png").string();
  o.log_x = true;
  o.y_label = "value";
  o.width = 640;
  o.height = 400;
  ASSERT_EQ(run_plot(o), 0);
  const cv::Mat img = cv::imread(o.out, cv::IMREAD_COLOR);
  ASSERT_FALSE(img.empty());
  EXPECT_EQ(img.cols, 640);
  EXPECT_EQ(img.rows, 400);
  // The palette's first two colours (tab10 blue and orange, BGR here) both appear.
  int blue = 0, orange = 0;
  for (int y = 0; y < img.rows; ++y)
    for (int x = 0; x < img.cols; ++x) {
      const cv::Vec3b p = img.at<cv::Vec3b>(y, x);
      blue += p == cv::Vec3b(180, 119, 31);
      orange += p == cv::Vec3b(14, 127, 255);
    }
  EXPECT_GT(blue, 50);
  EXPECT_GT(orange, 50);

  o.where = {"method=none"};
  EXPECT_THROW(run_plot(o), Error);  // no rows left
  o.where.clear();
  o.y = "missing";
  EXPECT_THROW(run_plot(o), Error);
}

}  // namespace
}  // namespace sngan
