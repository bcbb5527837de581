// STL-10 binary reader: column-major planes, labels 1..10, unlabeled split.
#include <gtest/gtest.h>

#include "data/stl10.h"
#include "tests/data/data_test_util.h"

namespace sngan {
namespace {

using testing::data_config;
using testing::expect_error;
using testing::TempDir;

// The value written for (image n, channel c, row y, col x): distinct enough that a
// row-major/column-major or plane mix-up shows.
uint8_t value(int n, int c, int y, int x) { return static_cast<uint8_t>(n * 31 + c * 101 + y * 7 + x * 3 + (x * y) % 5); }

// STL-10 layout: per image, per channel, column-major (byte c*9216 + x*96 + y).
std::vector<uint8_t> stl_images(int count) {
  std::vector<uint8_t> bytes(static_cast<size_t>(count) * 27648);
  for (int n = 0; n < count; ++n)
    for (int c = 0; c < 3; ++c)
      for (int x = 0; x < 96; ++x)
        for (int y = 0; y < 96; ++y) bytes[n * 27648 + c * 9216 + x * 96 + y] = value(n, c, y, x);
  return bytes;
}

TEST(Stl10, ColumnMajorPlanesAndLabelsReadBackExactly) {
  TempDir dir;
  testing::write_bytes(dir.file("train_X.bin"), stl_images(3));
  testing::write_bytes(dir.file("train_y.bin"), {1, 10, 4});
  testing::write_bytes(dir.file("unlabeled_X.bin"), stl_images(2));

  auto ds = open_dataset(data_config("stl10", dir.path(), "train"));
  ASSERT_EQ(ds->size(), 3);
  EXPECT_EQ(ds->num_classes(), 10);
  const int expected_labels[] = {0, 9, 3};
  for (int n = 0; n < 3; ++n) {
    const Example e = ds->get(n);
    ASSERT_EQ(e.height, 96);
    ASSERT_EQ(e.width, 96);
    ASSERT_EQ(e.channels, 3);
    EXPECT_EQ(e.label, expected_labels[n]);
    for (int y = 0; y < 96; ++y)
      for (int x = 0; x < 96; ++x)
        for (int c = 0; c < 3; ++c)
          ASSERT_EQ(e.pixels[(y * 96 + x) * 3 + c], value(n, c, y, x)) << n << " " << c << " " << y << " " << x;
  }

  auto unlabeled = open_dataset(data_config("stl10", dir.path(), "unlabeled"));
  ASSERT_EQ(unlabeled->size(), 2);
  EXPECT_EQ(unlabeled->num_classes(), 0);
  const Example e = unlabeled->get(1);
  EXPECT_EQ(e.label, -1);
  EXPECT_EQ(e.pixels[(5 * 96 + 70) * 3 + 2], value(1, 2, 5, 70));
  // The images file alone: labels beside it are found.
  EXPECT_EQ(open_dataset(data_config("stl10", dir.file("train_X.bin")))->num_classes(), 10);
}

TEST(Stl10, BadInputsNamePathExpectedAndFound) {
  TempDir dir;
  expect_error([&] { open_dataset(data_config("stl10", dir.path(), "test")); },
               {dir.file("test_X.bin"), "no such file"});
  auto images = stl_images(2);
  images.resize(images.size() - 1000);
  testing::write_bytes(dir.file("test_X.bin"), images);
  testing::write_bytes(dir.file("test_y.bin"), {1, 2});
  expect_error([&] { open_dataset(data_config("stl10", dir.path(), "test")); },
               {dir.file("test_X.bin"), "whole number of 27648-byte", "54296 bytes"});
  testing::write_bytes(dir.file("train_X.bin"), stl_images(2));
  testing::write_bytes(dir.file("train_y.bin"), {1, 2, 3});
  expect_error([&] { open_dataset(data_config("stl10", dir.path(), "train")); },
               {dir.file("train_y.bin"), "expected 2 label bytes", "got 3"});
  testing::write_bytes(dir.file("train_y.bin"), {1, 0});
  expect_error([&] { open_dataset(data_config("stl10", dir.path(), "train")); },
               {dir.file("train_y.bin"), "1..10", "got 0"});
  testing::write_bytes(dir.file("train_y.bin"), {});
  expect_error([&] { open_dataset(data_config("stl10", dir.path(), "train")); },
               {dir.file("train_y.bin"), "expected 2 label bytes", "got 0"});
  expect_error([&] { open_dataset(data_config("stl10", dir.path(), "extra")); }, {dir.path(), "'extra'"});
}

}  // namespace
}  // namespace sngan
