// Shared set-up for the subcommands: config loading, threads, model summaries.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "app/config.h"
#include "data/dataset.h"
#include "core/gan/trainer.h"

namespace sngan {

// Loads the JSON file, applies --set overrides, validates.
RunConfig load_run_config(const std::string& path, const std::vector<std::string>& overrides);
RunConfig run_config_from_text(const std::string& json_text, const std::string& source);

// open_dataset, and when the data are not where the config says, the error also says how to
// get them: the download script for CIFAR-10/100 and STL-10, the Debian package for
// Fashion-MNIST, and that a relative path is read from the current directory.
std::unique_ptr<Dataset> open_run_dataset(const DatasetConfig& config);

// Sets OpenMP and Eigen threads (0: every core). Returns the count in use.
int set_threads(int threads);
// The threads of one process: `threads` when set (> 0), else this host's cores shared among
// the MPI ranks that run on it (every core when alone).
int threads_per_rank(int threads);

struct ModelCost {
  int64_t g_params = 0, d_params = 0;
  double g_macs_per_image = 0, d_macs_per_image = 0;  // forward multiply-adds
  double flop_per_iteration = 0;  // one generator iteration (n_dis D steps + G step), all passes
};
// Measured with the op-level multiply-add counter on tiny batches, scaled to the configured
// batch sizes (every count is linear in the batch size). The model's nominal cost: ResNet
// blocks are counted as defined, not as folded (GeneratorConfig::fold_resampling).
ModelCost measure_model_cost(const RunConfig& config);

// Dimensions of one real example as the model sees it: (C, S, S) or (features).
Shape example_shape(const RunConfig& config);

}  // namespace sngan
