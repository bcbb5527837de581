// Opens a feature network file for the evaluation commands, dispatching on its metadata entry
// "feature_extractor": "classifier" (core/metrics/classifier.h) or "inception_v3_fid"
// (core/metrics/inception.h; a file without the entry but with Inception's tensors is one too).
#pragma once

#include <memory>
#include <string>

#include "core/metrics/feature_extractor.h"

namespace sngan {

struct OpenedFeatureExtractor {
  std::unique_ptr<FeatureExtractor> net;
  // Identifies the network and its weights: "<name>:<the file's sngan_checksum>" (or the name
  // alone for a file without a checksum). Statistics files record it, and an evaluation refuses
  // a reference made with another network.
  std::string id;
  std::string path;
};

// Throws sngan::Error naming path for a missing, damaged or unknown file.
OpenedFeatureExtractor open_feature_extractor(const std::string& path);

}  // namespace sngan
