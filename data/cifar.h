// CIFAR-10 and CIFAR-100, "binary version" batches.
//
// A batch file is a sequence of records with no header:
//   CIFAR-10:  <label: 1 byte, 0..9> <3072 pixel bytes>                    (3073 bytes)
//   CIFAR-100: <coarse label: 1 byte, 0..19> <fine label: 1 byte, 0..99> <3072 bytes> (3074)
// The 3072 pixel bytes are the red plane, then green, then blue, each 32x32 row-major.
// Official layout: cifar-10-batches-bin/{data_batch_1..5,test_batch}.bin and
// cifar-100-binary/{train,test}.bin (10,000 / 50,000 records per file). Files of any whole
// number of records are accepted. The split is decoded once into memory as HWC
// (50k x 32 x 32 x 3 = 154 MB).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace sngan {

enum class CifarKind { kCifar10, kCifar100 };

// Files of a split. path is either the directory of the official layout (split "train" or
// "test") or a single batch file (split ignored).
std::vector<std::string> cifar_files(CifarKind kind, const std::string& path,
                                     const std::string& split);

class CifarDataset : public Dataset {
 public:
  // Concatenates the files in order. coarse_labels selects CIFAR-100's 20 superclasses
  // instead of its 100 fine classes (ignored for CIFAR-10). Throws naming the file on a
  // missing or empty file, a size that is not a whole number of records, or a label out of
  // range.
  CifarDataset(CifarKind kind, const std::vector<std::string>& files, bool coarse_labels = false);

  int64_t size() const override { return static_cast<int64_t>(labels_.size()); }
  void read(int64_t i, Example& out) const override;
  int num_classes() const override { return num_classes_; }
  ImageDims dims(int64_t) const override { return {32, 32, 3}; }
  std::string source(int64_t i) const override;
  std::string describe() const override;

  static constexpr int kImageBytes = 32 * 32 * 3;

 private:
  CifarKind kind_;
  std::vector<std::string> files_;
  std::vector<int64_t> file_starts_;  // index of each file's first record
  int num_classes_ = 0;
  std::vector<uint8_t> pixels_;  // (N, 32, 32, 3)
  std::vector<uint8_t> labels_;  // (N)
};

}  // namespace sngan
