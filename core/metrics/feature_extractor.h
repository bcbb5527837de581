// A network that embeds images for the evaluation metrics: features for FID, KID and
// precision/recall, class logits for the Inception score and the class histogram.
// Implementations: the FID Inception-v3 (pool3 features, 1008-way logits) and the project's
// own small classifier (penultimate features, its class logits).
#pragma once

#include <cstdint>
#include <string>

#include "core/tensor/tensor.h"

namespace sngan {

class FeatureExtractor {
 public:
  virtual ~FeatureExtractor() = default;
  // Names the network and its weights in reports and statistics files, e.g.
  // "inception_v3_fid" or "classifier".
  virtual std::string name() const = 0;
  virtual int64_t feature_dim() const = 0;  // width of the features
  virtual int64_t num_classes() const = 0;  // width of the logits
  // images (N, C, H, W) in [-1, 1], as the generator makes them; the extractor adapts channels
  // and size to what its network takes. Writes features (N, feature_dim) and logits
  // (N, num_classes); either pointer may be null when not wanted. Evaluation mode, no graph.
  virtual void embed(const Tensor& images, Tensor* features, Tensor* logits) = 0;
};

}  // namespace sngan
