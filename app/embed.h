// Embedding image sets with a feature network for `sngan stats`, `sngan eval` and
// `sngan classifier train`: real images of a dataset (preprocessed as a run sees them) and
// images from a generator, in batches, with a progress bar and the throughput.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/metrics/feature_extractor.h"
#include "core/metrics/feature_stats.h"
#include "data/dataset.h"
#include "data/preprocess.h"

namespace sngan {

struct Embedded {
  FeatureMatrix features;   // (N, feature_dim)
  FeatureMatrix logits;     // (N, num_classes)
  std::vector<int> labels;  // (N): dataset labels (-1 unlabeled); empty for generated images
  double seconds = 0;       // time spent, for images per second
};

// Source of image batches: fills (n, C, S, S) images for the next n examples.
using ImageBatchSource = std::function<Tensor(int64_t n)>;

// Embeds n images drawn from `source` in batches of `batch`; `label` names the progress bar.
Embedded embed_images(FeatureExtractor& net, const ImageBatchSource& source, int64_t n,
                      const std::string& label, int64_t batch = 500);

// Examples [first, first + n) of dataset (n <= 0: to the end), in order, preprocessed with
// preprocess (no flip, no dequantisation noise), embedded; labels are kept.
Embedded embed_dataset(FeatureExtractor& net, const Dataset& dataset,
                       const PreprocessConfig& preprocess, int64_t n, const std::string& label,
                       int64_t first = 0);

}  // namespace sngan
