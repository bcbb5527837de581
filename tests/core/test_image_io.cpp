// Sample grids, single images and loss plots (core/io/image_io, core/io/plot).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <string>
#include <vector>

#include "core/io/image_io.h"
#include "core/io/plot.h"

namespace fs = std::filesystem;
using namespace sngan;

namespace {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "sngan_img_XXXXXX").string();
    char* p = mkdtemp(tmpl.data());
    if (p == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = p;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (fs::path(path_) / name).string(); }
  size_t count() const { return static_cast<size_t>(std::distance(fs::directory_iterator(path_), fs::directory_iterator())); }

 private:
  std::string path_;
};

// The value in [-1, 1] that encodes to byte k exactly.
float level(int k) { return static_cast<float>(k) / 127.5f - 1.f; }

// Byte of image n, channel ch, pixel (y, x) in the test pattern.
int pattern(int n, int ch, int y, int x) { return (n * 53 + ch * 71 + y * 13 + x * 29) % 256; }

void expect_error_naming(const std::function<void()>& f, const std::string& path, const std::string& part) {
  try {
    f();
    ADD_FAILURE() << "expected sngan::Error mentioning '" << part << "'";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find(part), std::string::npos) << msg;
  }
}

}  // namespace

TEST(ImageIo, GridHasTheRightSizeAndPixels) {
  TempDir dir;
  const int n = 5, c = 3, h = 4, w = 3, pad = 2;
  Tensor images = Tensor::empty(Shape{n, c, h, w});
  for (int i = 0; i < n; ++i)
    for (int ch = 0; ch < c; ++ch)
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) images[((i * c + ch) * h + y) * w + x] = level(pattern(i, ch, y, x));
  const std::string path = dir.file("grid.png");
  write_image_grid(path, images);  // columns 0 -> ceil(sqrt(5)) = 3, rows = 2

  const cv::Mat img = cv::imread(path, cv::IMREAD_UNCHANGED);
  ASSERT_FALSE(img.empty());
  EXPECT_EQ(img.type(), CV_8UC3);
  EXPECT_EQ(img.cols, 3 * (w + pad) + pad);
  EXPECT_EQ(img.rows, 2 * (h + pad) + pad);
  std::vector<std::vector<bool>> covered(static_cast<size_t>(img.rows), std::vector<bool>(static_cast<size_t>(img.cols)));
  for (int i = 0; i < n; ++i) {
    const int y0 = pad + (i / 3) * (h + pad), x0 = pad + (i % 3) * (w + pad);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const cv::Vec3b bgr = img.at<cv::Vec3b>(y0 + y, x0 + x);
        EXPECT_EQ(bgr[2], pattern(i, 0, y, x)) << "R of image " << i;
        EXPECT_EQ(bgr[1], pattern(i, 1, y, x)) << "G of image " << i;
        EXPECT_EQ(bgr[0], pattern(i, 2, y, x)) << "B of image " << i;
        covered[static_cast<size_t>(y0 + y)][static_cast<size_t>(x0 + x)] = true;
      }
  }
  // Padding and the empty sixth cell are black.
  for (int y = 0; y < img.rows; ++y)
    for (int x = 0; x < img.cols; ++x)
      if (!covered[static_cast<size_t>(y)][static_cast<size_t>(x)]) {
        EXPECT_EQ(img.at<cv::Vec3b>(y, x), cv::Vec3b(0, 0, 0)) << y << ", " << x;
      }
  EXPECT_EQ(dir.count(), 1u);  // no temp file left
}

TEST(ImageIo, GreyGridClampsAndRounds) {
  TempDir dir;
  const std::string path = dir.file("grey.png");
  const float nan = std::numeric_limits<float>::quiet_NaN();
  // One row of 7 values per image, 2 images, columns 5 -> clamped to 2, no padding.
  const std::vector<float> values = {-1.f, 1.f, 0.f, 2.f, -3.f, nan, level(77) + 0.001f};
  const std::vector<int> expected = {0, 255, 128, 255, 0, 0, 77};
  std::vector<float> both = values;
  both.insert(both.end(), values.rbegin(), values.rend());
  write_image_grid(path, Tensor::from_vector(Shape{2, 1, 1, 7}, both), 5, 0);
  const cv::Mat img = cv::imread(path, cv::IMREAD_UNCHANGED);
  ASSERT_FALSE(img.empty());
  EXPECT_EQ(img.type(), CV_8UC1);
  ASSERT_EQ(img.cols, 14);
  ASSERT_EQ(img.rows, 1);
  for (int x = 0; x < 7; ++x) {
    EXPECT_EQ(img.at<uchar>(0, x), expected[static_cast<size_t>(x)]) << x;
    EXPECT_EQ(img.at<uchar>(0, 13 - x), expected[static_cast<size_t>(x)]) << x;
  }
}

TEST(ImageIo, SingleImageIsRgbWithoutPadding) {
  TempDir dir;
  const std::string path = dir.file("red.png");
  Tensor red = Tensor::full(Shape{3, 2, 5}, -1.f);  // (C, H, W)
  for (int i = 0; i < 10; ++i) red[i] = 1.f;        // channel 0 = R
  write_image(path, red);
  cv::Mat img = cv::imread(path, cv::IMREAD_UNCHANGED);
  ASSERT_EQ(img.type(), CV_8UC3);
  EXPECT_EQ(img.cols, 5);
  EXPECT_EQ(img.rows, 2);
  EXPECT_EQ(img.at<cv::Vec3b>(1, 4), cv::Vec3b(0, 0, 255));  // OpenCV stores BGR

  write_image(path, red.reshape(Shape{1, 3, 2, 5}));  // (1, C, H, W) replaces the file
  img = cv::imread(path, cv::IMREAD_UNCHANGED);
  EXPECT_EQ(img.at<cv::Vec3b>(0, 0), cv::Vec3b(0, 0, 255));
  EXPECT_EQ(dir.count(), 1u);
}

TEST(ImageIo, ErrorsNameThePath) {
  TempDir dir;
  const std::string path = dir.file("x.png");
  expect_error_naming([&] { write_image_grid(path, Tensor::zeros(Shape{2, 2, 4, 4})); }, path, "C = 1 or 3");
  expect_error_naming([&] { write_image_grid(path, Tensor::zeros(Shape{2, 4, 4})); }, path, "(N, C, H, W)");
  expect_error_naming([&] { write_image_grid(path, Tensor::zeros(Shape{1, 1, 4, 4}), -1); }, path, "columns");
  expect_error_naming([&] { write_image(path, Tensor::zeros(Shape{2, 3, 4, 4})); }, path, "(C, H, W)");
  const std::string odd = dir.file("x.unknownext");
  expect_error_naming([&] { write_image(odd, Tensor::zeros(Shape{3, 4, 4})); }, odd, "extension");
  const std::string nodir = dir.file("missing/x.png");
  expect_error_naming([&] { write_image(nodir, Tensor::zeros(Shape{3, 4, 4})); }, nodir, "No such file or directory");
  EXPECT_EQ(dir.count(), 0u);
}

TEST(Plot, WritesAPngOfTheStatedSize) {
  TempDir dir;
  const std::string path = dir.file("loss.png");
  PlotSeries d{"loss_d", {}, {}, std::nullopt}, g{"loss_g", {}, {}, PlotColor{255, 0, 0}};
  for (int step = 0; step < 200; ++step) {
    d.x.push_back(step * 10);
    d.y.push_back(1.4 * std::exp(-step / 50.0) + 0.1 * std::sin(step));
    g.x.push_back(step * 10);
    g.y.push_back(step == 100 ? std::numeric_limits<double>::quiet_NaN() : 0.7 + 0.05 * std::cos(step));
  }
  g.y[150] = std::numeric_limits<double>::infinity();
  write_line_plot(path, {d, g}, "step", "losses, epoch 3");
  ASSERT_GT(fs::file_size(path), 0u);
  const cv::Mat img = cv::imread(path, cv::IMREAD_COLOR);
  ASSERT_FALSE(img.empty());
  EXPECT_EQ(img.cols, 800);
  EXPECT_EQ(img.rows, 500);
  int red = 0, dark = 0;
  for (int y = 0; y < img.rows; ++y)
    for (int x = 0; x < img.cols; ++x) {
      const cv::Vec3b p = img.at<cv::Vec3b>(y, x);
      if (p == cv::Vec3b(0, 0, 255)) ++red;
      if (p[0] < 50 && p[1] < 50 && p[2] < 50) ++dark;
    }
  EXPECT_GT(red, 200) << "the loss_g line (pure red) is drawn";
  EXPECT_GT(dark, 500) << "axes and text are drawn";
  EXPECT_EQ(dir.count(), 1u);

  write_line_plot(path, {d}, "step", "small", 320, 240);
  EXPECT_EQ(cv::imread(path).size(), cv::Size(320, 240));
}

// Pixels of exactly this colour (RGB) in a BGR image.
int count_color(const cv::Mat& img, PlotColor c) {
  int n = 0;
  for (int y = 0; y < img.rows; ++y)
    for (int x = 0; x < img.cols; ++x) n += img.at<cv::Vec3b>(y, x) == cv::Vec3b(c.b, c.g, c.r);
  return n;
}

TEST(Plot, BarsGrowWithTheirValuesAndSkipNaN) {
  TempDir dir;
  const std::string path = dir.file("bars.png");
  const PlotColor red{255, 0, 0}, blue{0, 0, 255};
  const double nan = std::numeric_limits<double>::quiet_NaN();
  // Red's bars: 1 and 3 (so three times the area of 1); blue: 2 and no bar.
  write_bar_plot(path, {"A", "B"}, {{"red", {1, 3}, red}, {"blue", {2, nan}, blue}}, "setting", "bars", "IS");
  const cv::Mat img = cv::imread(path, cv::IMREAD_COLOR);
  ASSERT_EQ(img.size(), cv::Size(800, 500));
  const int red_px = count_color(img, red), blue_px = count_color(img, blue);
  ASSERT_GT(blue_px, 0);
  // One red bar of height 1 and one of 3 against one blue bar of 2 (same widths; the legend's
  // squares add the same few pixels to both): red / blue = 4 / 2 within rounding.
  EXPECT_NEAR(static_cast<double>(red_px) / blue_px, 2.0, 0.1);

  // One series: bars coloured by category, no legend.
  write_bar_plot(path, {"x", "y", "z"}, {{"only", {1, 2, 3}, std::nullopt}}, "", "", "");
  EXPECT_EQ(cv::imread(path).size(), cv::Size(800, 500));
  expect_error_naming([&] { write_bar_plot(path, {"x"}, {{"bad", {1, 2}, std::nullopt}}, "", "", ""); }, path,
                      "series 'bad'");
}

TEST(Plot, DegenerateInputsStillWrite) {
  TempDir dir;
  const double inf = std::numeric_limits<double>::infinity(), nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<std::vector<PlotSeries>> inputs = {
      {},
      {{"empty", {}, {}, std::nullopt}},
      {{"all nan", {nan, 1, inf}, {0, nan, 2}, std::nullopt}},
      {{"one point", {3}, {0.5}, std::nullopt}},
      {{"flat", {0, 1, 2}, {0.693, 0.693, 0.693}, std::nullopt}},
      {{"zero", {5, 5}, {0, 0}, std::nullopt}},
      {{"huge", {-1e308, 1e308}, {-1e308, 1e308}, std::nullopt}, {"tiny", {0, 1e-300}, {1e-310, 0}, std::nullopt}},
      {{"non-ascii \xc3\xa9", {0, 1}, {1, 0}, std::nullopt}},
  };
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::string path = dir.file("p" + std::to_string(i) + ".png");
    write_line_plot(path, inputs[i], "x", "t");
    EXPECT_EQ(cv::imread(path).size(), cv::Size(800, 500)) << i;
  }
}

TEST(Plot, ErrorsNameThePath) {
  TempDir dir;
  const std::string path = dir.file("p.png");
  expect_error_naming([&] { write_line_plot(path, {{"bad", {1, 2}, {1}, std::nullopt}}, "x", "t"); }, path,
                      "series 'bad'");
  expect_error_naming([&] { write_line_plot(path, {}, "x", "t", 10, 10); }, path, "size");
  const std::string nodir = dir.file("missing/p.png");
  expect_error_naming([&] { write_line_plot(nodir, {}, "x", "t"); }, nodir, "No such file or directory");
  EXPECT_EQ(dir.count(), 0u);
}
