// IDX files, the format of MNIST and Fashion-MNIST.
//
// Layout (big-endian): magic = 0x00 0x00 <type> <ndim>, then ndim uint32 sizes, then the
// data. Only type 0x08 (unsigned byte) is used: images are idx3 (N, H, W), labels idx1 (N).
// A file may be gzip-compressed or plain; this is detected from its content (zlib reads
// plain files through). The whole split is decoded once into memory (60k x 28 x 28 =
// 47 MB), so read() is a copy.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace sngan {

struct IdxArray {
  std::vector<int64_t> dims;  // e.g. (N, H, W)
  std::vector<uint8_t> data;  // row-major, prod(dims) bytes
};

// Reads a whole uint8 IDX file that must have expected_ndim dimensions and exactly the
// bytes its header announces (no more, no less). Throws naming the path on a missing
// file, wrong magic, truncated or over-long data, or a corrupt gzip stream.
IdxArray read_idx_u8(const std::string& path, int expected_ndim);

struct IdxPaths {
  std::string images;
  std::string labels;
};

// Where the files of a split are.
//  - path is a directory: "<path>/{train,t10k}-{images-idx3,labels-idx1}-ubyte" with or
//    without ".gz" (split "train" or "test").
//  - path is a file: it is the images file; the labels file is labels_path if given, else
//    the images path with "images-idx3" replaced by "labels-idx1".
IdxPaths resolve_idx_paths(const std::string& path, const std::string& split,
                           const std::string& labels_path = "");

class IdxDataset : public Dataset {
 public:
  // Labels must match the images in count; num_classes() = largest label + 1.
  IdxDataset(const std::string& images_path, const std::string& labels_path);

  int64_t size() const override { return count_; }
  void read(int64_t i, Example& out) const override;
  int num_classes() const override { return num_classes_; }
  ImageDims dims(int64_t) const override { return {height_, width_, 1}; }
  std::string source(int64_t i) const override;
  std::string describe() const override;

 private:
  std::string images_path_;
  int64_t count_ = 0;
  int height_ = 0;
  int width_ = 0;
  int num_classes_ = 0;
  std::vector<uint8_t> pixels_;  // (N, H, W)
  std::vector<uint8_t> labels_;  // (N)
};

}  // namespace sngan
