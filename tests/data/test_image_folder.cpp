// Image folder: recursive PNG/JPEG discovery, first-level subfolder = class.
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include <filesystem>

#include "data/image_folder.h"
#include "data/loader.h"
#include "tests/data/data_test_util.h"

namespace sngan {
namespace {

using testing::data_config;
using testing::expect_error;
using testing::TempDir;

// An RGB image as OpenCV wants it (BGR), with pixel (y, x) = RGB (r, g, b) from a formula.
cv::Mat bgr_image(int h, int w, int seed) {
  cv::Mat m(h, w, CV_8UC3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      m.at<cv::Vec3b>(y, x) = cv::Vec3b(static_cast<uint8_t>(seed + 3 * x),      // B
                                        static_cast<uint8_t>(seed + 5 * y),      // G
                                        static_cast<uint8_t>(seed + x * y + 1));  // R
  return m;
}

void write_image(const std::string& path, const cv::Mat& m) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  ASSERT_TRUE(cv::imwrite(path, m)) << path;
}

TEST(ImageFolder, FindsImagesRecursivelyWithSubfolderClasses) {
  TempDir dir;
  write_image(dir.file("dog/deep/er/b.png"), bgr_image(4, 6, 50));
  write_image(dir.file("cat/a.PNG"), bgr_image(5, 7, 10));
  cv::Mat grey(3, 2, CV_8UC1);
  for (int k = 0; k < 6; ++k) grey.data[k] = static_cast<uint8_t>(40 * k);
  write_image(dir.file("cat/g.png"), grey);
  write_image(dir.file("dog/c.jpg"), bgr_image(8, 8, 0));
  write_image(dir.file("loose.png"), bgr_image(2, 2, 0));
  testing::write_bytes(dir.file("cat/notes.txt"), {'h', 'i'});

  ImageFolderDataset ds(dir.path());
  ASSERT_EQ(ds.size(), 5);
  EXPECT_EQ(ds.num_classes(), 2);
  EXPECT_EQ(ds.class_names(), (std::vector<std::string>{"cat", "dog"}));
  // Sorted path order: cat/a.PNG, cat/g.png, dog/c.jpg, dog/deep/er/b.png, loose.png.
  EXPECT_EQ(ds.source(0), dir.file("cat/a.PNG"));
  const std::vector<int> labels = {0, 0, 1, 1, -1};
  for (int i = 0; i < 5; ++i) EXPECT_EQ(ds.get(i).label, labels[i]) << ds.source(i);

  const Example a = ds.get(0);  // RGB order, exact (PNG is lossless)
  ASSERT_EQ(a.height, 5);
  ASSERT_EQ(a.width, 7);
  ASSERT_EQ(a.channels, 3);
  for (int y = 0; y < 5; ++y)
    for (int x = 0; x < 7; ++x) {
      const uint8_t* p = &a.pixels[(y * 7 + x) * 3];
      EXPECT_EQ(p[0], static_cast<uint8_t>(10 + x * y + 1));
      EXPECT_EQ(p[1], static_cast<uint8_t>(10 + 5 * y));
      EXPECT_EQ(p[2], static_cast<uint8_t>(10 + 3 * x));
    }
  const Example g = ds.get(1);
  EXPECT_EQ(g.channels, 1);
  EXPECT_EQ(g.pixels, std::vector<uint8_t>(grey.data, grey.data + 6));
  const Example j = ds.get(2);
  EXPECT_EQ(j.height, 8);
  EXPECT_EQ(j.channels, 3);
  EXPECT_EQ(ds.dims(3).width, 6);
}

TEST(ImageFolder, BadInputsNamePath) {
  TempDir dir;
  expect_error([&] { ImageFolderDataset(dir.file("missing")); }, {dir.file("missing"), "no such file"});
  std::filesystem::create_directories(dir.file("empty/sub"));
  testing::write_bytes(dir.file("empty/sub/readme.txt"), {'x'});
  expect_error([&] { open_dataset(data_config("folder", dir.file("empty"))); },
               {dir.file("empty"), "at least one PNG or JPEG", "got none"});
  write_image(dir.file("broken/a/ok.png"), bgr_image(4, 4, 0));
  testing::write_bytes(dir.file("broken/a/bad.png"), {0x89, 'P', 'N', 'G', 1, 2, 3});
  expect_error([&] { open_dataset(data_config("folder", dir.file("broken"))); },
               {dir.file("broken/a/bad.png"), "OpenCV can decode"});
}

TEST(ImageFolder, ImageTooLargeToPadNamesFileAndSizes) {
  TempDir dir;
  write_image(dir.file("a/small.png"), bgr_image(32, 32, 0));
  write_image(dir.file("a/big.png"), bgr_image(40, 36, 0));
  std::shared_ptr<const Dataset> ds = open_dataset(data_config("folder", dir.path()));
  LoaderConfig lc;
  lc.batch_size = 2;
  PreprocessConfig pad;
  pad.image_size = 32;
  expect_error([&] { Loader(ds, lc, pad); }, {dir.file("a/big.png"), "at most 32x32", "got 40x36"});
  PreprocessConfig resize = pad;
  resize.fit = "resize";
  Loader ok(ds, lc, resize);
  EXPECT_EQ(ok.next().shape(), (Shape{2, 3, 32, 32}));
}

}  // namespace
}  // namespace sngan
