// An image folder: every PNG or JPEG file (extensions .png .jpg .jpeg, any case) found
// recursively under a root, decoded through OpenCV.
//
// Labels: the class of an image is the first-level subfolder it lies under (root/cat/a.png
// and root/cat/x/b.png are both "cat"); classes are numbered in sorted name order. Images
// directly in the root have label -1. Files are visited in sorted path order, so indices
// are stable across runs.
//
// Images are decoded once when the dataset is opened (in parallel) and kept in memory as
// uint8 HWC at their own size, so an undecodable file fails at open, naming the file.
// Colour images become RGB (alpha dropped), grey stays grey, 16-bit becomes 8-bit. Memory
// is the sum of H*W*C over the images: pre-resize a folder of large photos.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace sngan {

class ImageFolderDataset : public Dataset {
 public:
  explicit ImageFolderDataset(const std::string& root);

  int64_t size() const override { return static_cast<int64_t>(files_.size()); }
  void read(int64_t i, Example& out) const override;
  int num_classes() const override { return static_cast<int>(class_names_.size()); }
  ImageDims dims(int64_t i) const override;
  bool fixed_dims() const override { return false; }
  std::string source(int64_t i) const override;
  std::string describe() const override;

  const std::vector<std::string>& class_names() const { return class_names_; }

 private:
  std::string root_;
  std::vector<std::string> files_;
  std::vector<int> labels_;
  std::vector<ImageDims> dims_;
  std::vector<std::vector<uint8_t>> pixels_;  // per image (H, W, C)
  std::vector<std::string> class_names_;
};

}  // namespace sngan
