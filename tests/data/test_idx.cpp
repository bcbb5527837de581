// IDX reader: files written here, plain and gzipped; every bad input names the path.
#include <gtest/gtest.h>

#include "data/idx.h"
#include "data/open_dataset.h"
#include "tests/data/data_test_util.h"

namespace sngan {
namespace {

using testing::data_config;
using testing::expect_error;
using testing::pattern;
using testing::TempDir;

std::vector<uint8_t> idx_header(uint8_t ndim, std::vector<uint32_t> dims) {
  std::vector<uint8_t> h = {0, 0, 0x08, ndim};
  for (uint32_t d : dims)
    for (int s = 24; s >= 0; s -= 8) h.push_back(static_cast<uint8_t>(d >> s));
  return h;
}

std::vector<uint8_t> concat(std::vector<uint8_t> a, const std::vector<uint8_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

constexpr int kN = 5, kH = 3, kW = 4;

struct IdxFiles {
  std::vector<uint8_t> pixels = pattern(kN * kH * kW, 1);
  std::vector<uint8_t> labels = {3, 0, 9, 1, 3};
  std::vector<uint8_t> images_file = concat(idx_header(3, {kN, kH, kW}), pixels);
  std::vector<uint8_t> labels_file = concat(idx_header(1, {kN}), labels);
};

void expect_matches(const Dataset& ds, const IdxFiles& f) {
  ASSERT_EQ(ds.size(), kN);
  EXPECT_EQ(ds.num_classes(), 10);
  for (int i = 0; i < kN; ++i) {
    const Example e = ds.get(i);
    EXPECT_EQ(e.height, kH);
    EXPECT_EQ(e.width, kW);
    EXPECT_EQ(e.channels, 1);
    EXPECT_EQ(e.label, f.labels[i]);
    EXPECT_EQ(e.pixels, std::vector<uint8_t>(f.pixels.begin() + i * kH * kW,
                                             f.pixels.begin() + (i + 1) * kH * kW));
  }
}

TEST(Idx, PlainFilesReadBackExactly) {
  TempDir dir;
  IdxFiles f;
  testing::write_bytes(dir.file("train-images-idx3-ubyte"), f.images_file);
  testing::write_bytes(dir.file("train-labels-idx1-ubyte"), f.labels_file);
  expect_matches(IdxDataset(dir.file("train-images-idx3-ubyte"), dir.file("train-labels-idx1-ubyte")), f);
  // Directory layout and the images-file form through the factory.
  expect_matches(*open_dataset(data_config("idx", dir.path(), "train")), f);
  expect_matches(*open_dataset(data_config("idx", dir.file("train-images-idx3-ubyte"), "train")), f);
}

TEST(Idx, GzippedFilesReadBackExactly) {
  TempDir dir;
  IdxFiles f;
  testing::write_gz(dir.file("t10k-images-idx3-ubyte.gz"), f.images_file);
  testing::write_gz(dir.file("t10k-labels-idx1-ubyte.gz"), f.labels_file);
  expect_matches(*open_dataset(data_config("idx", dir.path(), "test")), f);
}

TEST(Idx, MissingFileNamesPath) {
  TempDir dir;
  const std::string missing = dir.file("train-images-idx3-ubyte");
  expect_error([&] { open_dataset(data_config("idx", dir.path(), "train")); }, {missing, "no such file"});
  expect_error([&] { IdxDataset(dir.file("nope-images-idx3-ubyte"), dir.file("x")); },
               {dir.file("nope-images-idx3-ubyte"), "no such file"});
  // Images present, labels (found by name) missing.
  testing::write_bytes(dir.file("only-images-idx3-ubyte"), IdxFiles().images_file);
  expect_error([&] { open_dataset(data_config("idx", dir.file("only-images-idx3-ubyte"))); },
               {dir.file("only-labels-idx1-ubyte"), "no such file"});
}

TEST(Idx, WrongMagicNamesPathAndBothValues) {
  TempDir dir;
  IdxFiles f;
  // A labels file where the images file should be.
  testing::write_bytes(dir.file("a-images-idx3-ubyte"), f.labels_file);
  testing::write_bytes(dir.file("a-labels-idx1-ubyte"), f.labels_file);
  expect_error([&] { IdxDataset(dir.file("a-images-idx3-ubyte"), dir.file("a-labels-idx1-ubyte")); },
               {dir.file("a-images-idx3-ubyte"), "0x00000803", "0x00000801"});
  // Not IDX at all (a PNG signature).
  testing::write_bytes(dir.file("b-images-idx3-ubyte"), {0x89, 'P', 'N', 'G', 0, 0, 0, 0});
  expect_error([&] { read_idx_u8(dir.file("b-images-idx3-ubyte"), 3); },
               {dir.file("b-images-idx3-ubyte"), "magic", "0x89504e47"});
}

TEST(Idx, TruncatedFilesNamePathAndCounts) {
  TempDir dir;
  IdxFiles f;
  auto cut = f.images_file;
  cut.resize(cut.size() - 7);
  testing::write_bytes(dir.file("plain-images-idx3-ubyte"), cut);
  expect_error([&] { read_idx_u8(dir.file("plain-images-idx3-ubyte"), 3); },
               {dir.file("plain-images-idx3-ubyte"), "expected 60 bytes", "got 53", "truncated"});
  // Truncated inside the header.
  testing::write_bytes(dir.file("head-images-idx3-ubyte"), std::vector<uint8_t>(f.images_file.begin(), f.images_file.begin() + 9));
  expect_error([&] { read_idx_u8(dir.file("head-images-idx3-ubyte"), 3); },
               {dir.file("head-images-idx3-ubyte"), "16-byte IDX header", "got 9"});
  // Empty file.
  testing::write_bytes(dir.file("empty-images-idx3-ubyte"), {});
  expect_error([&] { read_idx_u8(dir.file("empty-images-idx3-ubyte"), 3); },
               {dir.file("empty-images-idx3-ubyte"), "got 0 bytes"});
  // A gzip stream cut short (incompressible data, so half the file is half the data).
  testing::write_gz(dir.file("full.gz"), concat(idx_header(3, {5, 30, 30}), pattern(4500, 9)));
  auto gz = testing::read_bytes(dir.file("full.gz"));
  gz.resize(gz.size() / 2);
  testing::write_bytes(dir.file("cut-images-idx3-ubyte.gz"), gz);
  expect_error([&] { read_idx_u8(dir.file("cut-images-idx3-ubyte.gz"), 3); },
               {dir.file("cut-images-idx3-ubyte.gz"), "expected 4500 bytes", "gzip"});
}

TEST(Idx, TrailingBytesAndCountMismatchAreErrors) {
  TempDir dir;
  IdxFiles f;
  testing::write_bytes(dir.file("long-images-idx3-ubyte"), concat(f.images_file, {1, 2}));
  expect_error([&] { read_idx_u8(dir.file("long-images-idx3-ubyte"), 3); },
               {dir.file("long-images-idx3-ubyte"), "to end after 60 bytes", "more bytes"});
  testing::write_bytes(dir.file("c-images-idx3-ubyte"), f.images_file);
  testing::write_bytes(dir.file("c-labels-idx1-ubyte"), concat(idx_header(1, {4}), {1, 2, 3, 4}));
  expect_error([&] { open_dataset(data_config("idx", dir.file("c-images-idx3-ubyte"), "train")); },
               {dir.file("c-labels-idx1-ubyte"), "expected 5 labels", "got 4"});
}

}  // namespace
}  // namespace sngan
