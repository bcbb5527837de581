// `sngan stats`: embeds the real images of a data config once and writes a reference
// statistics file for `sngan eval`; and the reader of such files (or of a data config given
// as the reference directly).
//
// Statistics file (safetensors; float32 tensors, so the double statistics are stored as a
// float32 value plus a float32 remainder, value + remainder being the double to ~1e-14):
//   "mean", "mean_lo"          (D)      feature mean
//   "cov", "cov_lo"            (D, D)   unbiased feature covariance
//   "features"                 (M, D)   a feature sample for KID and precision/recall: M =
//                                       min(N, sample limit) rows, evenly spaced in data order
//   "class_histogram"          (K)      argmax counts of the real images' logits
// metadata: "sngan_stats" = "1", "feature_network" (the id of OpenedFeatureExtractor),
//   "data" (the data set), "count" (N), "preprocess" (JSON: image_size, channels, fit).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/metrics/feature_stats.h"
#include "core/metrics/open_feature_extractor.h"
#include "data/preprocess.h"

namespace sngan {

struct StatsOptions {
  std::string config_path;
  std::string features_path = "models/inception_v3_fid.safetensors";
  std::string out_path;
  int64_t n = 0;                 // real images to embed (0: the whole split)
  int64_t sample_limit = 10000;  // rows kept for KID / precision-recall
};

int run_stats(const StatsOptions& options);

struct Reference {
  FeatureStats stats;
  FeatureMatrix sample;                 // (M, D)
  std::vector<int64_t> class_histogram;  // (K)
  std::string extractor_id;
  std::string data;                     // describes the real images
  PreprocessConfig preprocess;          // how the real images were brought to the network
  std::string source;                   // the file it came from
};

// The reference of `sngan eval`: a statistics file (.safetensors) or a data config (any other
// file, parsed as a run config whose data section is embedded with `net`). Throws naming the
// path for a missing/damaged file, or a statistics file made with another feature network.
Reference load_reference(const std::string& path, OpenedFeatureExtractor& net,
                         int64_t sample_limit = 10000);

// The reference of the first n (all when n <= 0) images of a run config's data, embedded with
// `net`; `source` names where the config came from.
struct RunConfig;
Reference reference_from_data(const RunConfig& cfg, OpenedFeatureExtractor& net, int64_t n, int64_t sample_limit,
                              const std::string& source);

}  // namespace sngan
