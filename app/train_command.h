// `sngan train`: the run directory and the training loop around core's Trainer.
#pragma once

#include <string>
#include <vector>

namespace sngan {

struct TrainOptions {
  std::string config_path;             // JSON config; with --resume defaults to <out>/config.json
  std::vector<std::string> overrides;  // "key.path=value"
  std::string out_dir;                 // default runs/<config file stem>
  bool resume = false;
  bool dry_run = false;
};

int run_train(const TrainOptions& options);

}  // namespace sngan
