// `sngan eval`: scores generated images against a reference in a feature network's space:
// Frechet distance (FID with Inception, "FD" with another network), KID, Inception-style score,
// improved precision/recall, and the class histogram of the samples (mode coverage).
// Images come from a checkpoint's generator (--checkpoint, N samples of seed S) or from a
// folder of PNG/JPEG files (--images, preprocessed as the reference's real images were), or
// from a run config's data section (--data: e.g. the test split against a train-split
// reference, the floor a generator can reach).
// Results are printed as a table and written as JSON (atomically) with --out.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <set>
#include <string>

namespace sngan {

struct EvalOptions {
  std::string checkpoint;
  std::string images_dir;
  std::string data_config;  // the images of a run config's data section (the real-vs-real floor)
  int64_t n = 10000;
  bool ema = false;
  uint64_t seed = 0;
  std::string reference;  // statistics file of `sngan stats`, or a data config
  std::string features = "models/inception_v3_fid.safetensors";  // feature network file
  std::string metrics = "fd,kid,is,pr";
  std::string out;        // JSON results; empty: print only
  int is_splits = 10;
  int kid_subsets = 100;
  int64_t kid_subset_size = 1000;
  int pr_k = 3;
};

int run_eval(const EvalOptions& options);

struct Reference;
struct Embedded;
// The asked metrics ("fd", "kid", "is", "pr") of `fake` against `ref` as JSON, with the
// options' IS splits, KID subsets (seeded by options.seed) and precision/recall k; printed as a
// table when `print`. Throws naming the metric when there are too few samples for it.
nlohmann::json compute_metrics(const EvalOptions& options, const std::set<std::string>& metrics,
                               const std::string& net_name, const Reference& ref, const Embedded& fake,
                               bool print = true);

}  // namespace sngan
