// Dataset: random access to examples of one split of one data set.
//
// An example is either an image (uint8 pixels, HWC with interleaved channels, RGB order for
// colour) or, for the toy 2D sets, a small float feature vector. Preprocessing to the
// model's input (float NCHW in [-1, 1], fitting to the configured size, augmentation) is
// not done here: see data/preprocess.h and data/loader.h.
//
// Contract for every implementation:
//  - read(i, out) is const and thread-safe: the loader calls it from a background thread
//    while the trainer may call it from another. It may reuse out's buffers.
//  - every error a user can cause (missing file, bad magic, truncated data...) throws
//    sngan::Error from the constructor with a message naming the path, what was expected
//    and what was found; read() throws only for an index out of range or an I/O failure
//    of a file that was valid when opened.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sngan {

struct Example {
  std::vector<uint8_t> pixels;  // (H, W, C) row-major; empty for feature examples
  int height = 0;
  int width = 0;
  int channels = 0;             // 1 (grey) or 3 (RGB)
  std::vector<float> features;  // toy sets: (feature_dim); empty for images
  int label = -1;               // class index in [0, num_classes), or -1 when unlabeled
};

// Geometry of one example, known without decoding its pixels.
struct ImageDims {
  int height = 0;
  int width = 0;
  int channels = 0;
};

class Dataset {
 public:
  virtual ~Dataset() = default;

  virtual int64_t size() const = 0;
  // Fills out with example i, 0 <= i < size(). Thread-safe; reuses out's buffers.
  virtual void read(int64_t i, Example& out) const = 0;
  Example get(int64_t i) const {
    Example e;
    read(i, e);
    return e;
  }

  // Number of classes; 0 when the split carries no labels (STL-10 unlabeled).
  virtual int num_classes() const = 0;
  // > 0 for feature datasets (toy 2D: 2); 0 for image datasets.
  virtual int feature_dim() const { return 0; }
  // Geometry of example i (image datasets). Fixed-size formats return the same dims for
  // every i; the image folder returns each image's own.
  virtual ImageDims dims(int64_t i) const = 0;
  // True when every example has the same dims (then checking dims(0) checks them all).
  virtual bool fixed_dims() const { return true; }
  // Where example i comes from, for error messages: "<path>" or "<path> record <n>".
  virtual std::string source(int64_t i) const = 0;
  // One line for logs: format, path, split, count, geometry.
  virtual std::string describe() const = 0;

 protected:
  // Throws sngan::Error naming the data set unless 0 <= i < size().
  void check_index(int64_t i) const;
};

}  // namespace sngan
