// STL-10, binary version (stl10_binary/).
//
// Images: <split>_X.bin, records of 3 x 96 x 96 bytes with no header; each record holds the
// red, green and blue planes, and each plane is stored column-major (pixel (row y, col x)
// of channel c is at byte c*9216 + x*96 + y). Labels: <split>_y.bin, one byte per image,
// 1..10 (returned as 0..9). Splits: train (5,000), test (8,000), unlabeled (100,000, no
// labels file; label -1).
//
// Storage choice: images are NOT loaded into memory (the unlabeled split is 2.7 GB). Each
// read() is one pread of 27,648 bytes from the open file (thread-safe, no shared offset)
// followed by the transpose to HWC; the OS page cache keeps hot data in memory. Labels
// are small and read once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace sngan {

class FileReader;

struct Stl10Paths {
  std::string images;
  std::string labels;  // empty for the unlabeled split
};

// path: the stl10_binary directory (split "train", "test" or "unlabeled"), or an images
// file "*_X.bin" (labels "*_y.bin" beside it if that exists, else unlabeled).
Stl10Paths resolve_stl10_paths(const std::string& path, const std::string& split);

class Stl10Dataset : public Dataset {
 public:
  static constexpr int kSide = 96;
  static constexpr int kImageBytes = kSide * kSide * 3;

  // labels_path empty: unlabeled. Throws naming the file on a missing or empty file, a size
  // that is not a whole number of records, a label count that differs from the image
  // count, or a label outside 1..10.
  Stl10Dataset(const std::string& images_path, const std::string& labels_path);
  ~Stl10Dataset() override;

  int64_t size() const override { return count_; }
  void read(int64_t i, Example& out) const override;
  int num_classes() const override { return labels_.empty() ? 0 : 10; }
  ImageDims dims(int64_t) const override { return {kSide, kSide, 3}; }
  std::string source(int64_t i) const override;
  std::string describe() const override;

 private:
  std::unique_ptr<FileReader> images_;
  int64_t count_ = 0;
  std::vector<uint8_t> labels_;  // (N), 0..9; empty when unlabeled
};

}  // namespace sngan
