// The run configuration: JSON file -> validated structs for core/ and data/.
// Every error names the file, the key path and what was expected; unknown keys are errors.
#pragma once

#include <nlohmann/json.hpp>

#include <set>
#include <string>
#include <vector>

#include "core/gan/config.h"
#include "data/loader.h"
#include "data/open_dataset.h"
#include "data/preprocess.h"

namespace sngan {

struct OutputConfig {
  int64_t log_every = 50;            // generator iterations between log.jsonl lines
  int64_t checkpoint_every = 10000;  // a numbered checkpoint every K iterations (0: none)
  int64_t sample_count = 64;         // images in the per-epoch grid (fixed z)
  bool sample_ema = true;            // grid from EMA-G when it exists
  // Evaluation during training (0: off): every eval_every generator iterations and at the end,
  // eval_samples images (from EMA-G when sample_ema and it exists) are scored against
  // eval_reference (a statistics file of `sngan stats`, or "" for the first eval_real_images
  // images of the run's own data) in the space of eval_features; eval_metric picks the value
  // that keeps checkpoints/best.safetensors.
  int64_t eval_every = 0;
  int64_t eval_samples = 5000;
  int64_t eval_real_images = 10000;
  std::string eval_features = "models/inception_v3_fid.safetensors";
  std::string eval_reference;
  std::string eval_metric = "fd";  // "fd" or "kid" (lower is better), "is" (higher is better)
};

struct RunConfig {
  uint64_t seed = 0;
  int threads = 0;  // 0: every core
  DatasetConfig data;
  PreprocessConfig preprocess;
  LoaderConfig loader;
  GeneratorConfig generator;
  DiscriminatorConfig discriminator;
  TrainConfig train;
  OutputConfig output;
  std::string setting;      // train.setting as given (one of the paper's A-F), "" when not
  nlohmann::json resolved;  // every setting with its final value, as written to the run dir
};

// Applies "a.b.c=value" overrides to a JSON document (value parsed as JSON when it parses,
// else taken as a string). Throws naming the override when the path does not exist.
void apply_override(nlohmann::json& doc, const std::string& assignment);

// Reads and validates; `source` names the file in messages. The schema (app/config.cpp) names
// each key once and both parses it and writes it into `resolved`; `keys_read`, when not null,
// collects the path of every key the parser asked for.
RunConfig parse_run_config(const nlohmann::json& doc, const std::string& source,
                           std::set<std::string>* keys_read = nullptr);
nlohmann::json load_json_file(const std::string& path);

// Whether the data are images (false for the toy 2D sets).
bool is_image_data(const RunConfig& config);

}  // namespace sngan
