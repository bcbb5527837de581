// CIFAR-10 / CIFAR-100 binary readers on files written here.
#include <gtest/gtest.h>

#include "data/cifar.h"
#include "data/loader.h"
#include "data/open_dataset.h"
#include "tests/data/data_test_util.h"

namespace sngan {
namespace {

using testing::data_config;
using testing::expect_error;
using testing::pattern;
using testing::TempDir;

// One record: label bytes, then the R, G, B planes (each 32x32 row-major).
std::vector<uint8_t> record(const std::vector<uint8_t>& label_bytes, const std::vector<uint8_t>& planes) {
  std::vector<uint8_t> r = label_bytes;
  r.insert(r.end(), planes.begin(), planes.end());
  return r;
}

void expect_pixels(const Example& e, const std::vector<uint8_t>& planes) {
  ASSERT_EQ(e.height, 32);
  ASSERT_EQ(e.width, 32);
  ASSERT_EQ(e.channels, 3);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 32; ++y)
      for (int x = 0; x < 32; ++x)
        ASSERT_EQ(e.pixels[(y * 32 + x) * 3 + c], planes[c * 1024 + y * 32 + x])
            << "c=" << c << " y=" << y << " x=" << x;
}

TEST(Cifar10, DirectoryOfBatchesReadsBackInOrder) {
  TempDir dir;
  std::vector<std::vector<uint8_t>> planes;
  std::vector<int> labels;
  for (int b = 1; b <= 5; ++b) {
    std::vector<uint8_t> bytes;
    for (int r = 0; r < b % 2 + 1; ++r) {  // 2, 1, 2, 1, 2 records
      planes.push_back(pattern(3072, 100 + static_cast<uint32_t>(planes.size())));
      labels.push_back(static_cast<int>(planes.size() * 7 % 10));
      const auto rec = record({static_cast<uint8_t>(labels.back())}, planes.back());
      bytes.insert(bytes.end(), rec.begin(), rec.end());
    }
    testing::write_bytes(dir.file("data_batch_" + std::to_string(b) + ".bin"), bytes);
  }
  testing::write_bytes(dir.file("test_batch.bin"), record({4}, pattern(3072, 7)));

  auto ds = open_dataset(data_config("cifar10", dir.path(), "train"));
  ASSERT_EQ(ds->size(), 8);
  EXPECT_EQ(ds->num_classes(), 10);
  for (int i = 0; i < 8; ++i) {
    const Example e = ds->get(i);
    EXPECT_EQ(e.label, labels[i]);
    expect_pixels(e, planes[i]);
  }
  EXPECT_EQ(ds->source(2), dir.file("data_batch_2.bin") + " record 0");
  auto test = open_dataset(data_config("cifar10", dir.path(), "test"));
  ASSERT_EQ(test->size(), 1);
  EXPECT_EQ(test->get(0).label, 4);
  expect_pixels(test->get(0), pattern(3072, 7));
}

TEST(Cifar100, TwoLabelBytesCoarseThenFine) {
  TempDir dir;
  const auto p0 = pattern(3072, 1), p1 = pattern(3072, 2);
  auto bytes = record({19, 99}, p0);
  const auto r1 = record({3, 42}, p1);
  bytes.insert(bytes.end(), r1.begin(), r1.end());
  testing::write_bytes(dir.file("train.bin"), bytes);

  auto fine = open_dataset(data_config("cifar100", dir.path(), "train"));
  ASSERT_EQ(fine->size(), 2);
  EXPECT_EQ(fine->num_classes(), 100);
  EXPECT_EQ(fine->get(0).label, 99);
  EXPECT_EQ(fine->get(1).label, 42);
  expect_pixels(fine->get(0), p0);
  expect_pixels(fine->get(1), p1);

  DatasetConfig coarse_cfg = data_config("cifar100", dir.file("train.bin"));
  coarse_cfg.coarse_labels = true;
  auto coarse = open_dataset(coarse_cfg);
  EXPECT_EQ(coarse->num_classes(), 20);
  EXPECT_EQ(coarse->get(0).label, 19);
  EXPECT_EQ(coarse->get(1).label, 3);
}

TEST(Cifar, BadInputsNamePathExpectedAndFound) {
  TempDir dir;
  // Missing batch in the official layout.
  for (int b : {1, 2, 4, 5}) testing::write_bytes(dir.file("data_batch_" + std::to_string(b) + ".bin"), record({1}, pattern(3072, 3)));
  expect_error([&] { open_dataset(data_config("cifar10", dir.path(), "train")); },
               {dir.file("data_batch_3.bin"), "no such file"});
  // Not a whole number of records (truncated).
  auto two = record({1}, pattern(3072, 3));
  two.insert(two.end(), two.begin(), two.begin() + 100);
  testing::write_bytes(dir.file("cut.bin"), two);
  expect_error([&] { open_dataset(data_config("cifar10", dir.file("cut.bin"))); },
               {dir.file("cut.bin"), "whole number of 3073-byte", "3173 bytes", "100 bytes left over"});
  expect_error([&] { open_dataset(data_config("cifar100", dir.file("cut.bin"))); },
               {dir.file("cut.bin"), "3074-byte", "3173 bytes"});
  // Empty file.
  testing::write_bytes(dir.file("empty.bin"), {});
  expect_error([&] { open_dataset(data_config("cifar10", dir.file("empty.bin"))); }, {dir.file("empty.bin"), "empty file"});
  // Label out of range: a CIFAR-100 file read as CIFAR-10 usually shows this.
  auto bad = record({1}, pattern(3072, 3));
  const auto r1 = record({10}, pattern(3072, 4));
  bad.insert(bad.end(), r1.begin(), r1.end());
  testing::write_bytes(dir.file("label.bin"), bad);
  expect_error([&] { open_dataset(data_config("cifar10", dir.file("label.bin"))); },
               {dir.file("label.bin"), "label in [0, 10)", "record 1", "got 10"});
  // An image size the preprocessing cannot handle: 32x32 cannot be padded to 28x28.
  testing::write_bytes(dir.file("one.bin"), record({1}, pattern(3072, 3)));
  std::shared_ptr<const Dataset> one = open_dataset(data_config("cifar10", dir.file("one.bin")));
  PreprocessConfig p;
  p.image_size = 28;
  LoaderConfig lc;
  lc.batch_size = 1;
  expect_error([&] { Loader(one, lc, p); }, {dir.file("one.bin") + " record 0", "at most 28x28", "got 32x32"});
  // Bad split.
  expect_error([&] { open_dataset(data_config("cifar10", dir.path(), "valid")); }, {dir.path(), "'valid'"});
}

}  // namespace
}  // namespace sngan
