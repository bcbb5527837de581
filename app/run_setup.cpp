#include "app/run_setup.h"

#include <omp.h>

#include <Eigen/Core>
#include <algorithm>
#include <filesystem>

#include "app/mpi_group.h"
#include "core/tensor/kernels/gemm_ops.h"

namespace sngan {

RunConfig load_run_config(const std::string& path, const std::vector<std::string>& overrides) {
  nlohmann::json doc = load_json_file(path);
  for (const auto& o : overrides) apply_override(doc, o);
  return parse_run_config(doc, path);
}

RunConfig run_config_from_text(const std::string& text, const std::string& source) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range (1e400)
    throw Error(detail::concat(source, ": the stored config is not valid JSON: ", e.what()));
  }
  return parse_run_config(doc, source);
}

std::unique_ptr<Dataset> open_run_dataset(const DatasetConfig& config) {
  try {
    return open_dataset(config);
  } catch (const Error& e) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (config.path.empty() || fs::exists(config.path, ec)) throw;
    std::string hint;
    if (config.format == "cifar10" || config.format == "cifar100" || config.format == "stl10")
      hint = "; download it with: bash scripts/download_data.sh " + config.format +
             " (from the project root; it unpacks under datasets/)";
    else if (config.path.rfind("/usr/share/datasets/fashion-mnist", 0) == 0)
      hint = "; install Debian's package dataset-fashion-mnist (bash scripts/setup.sh does)";
    if (fs::path(config.path).is_relative())
      hint += detail::concat("; a relative data.path is read from the current directory (",
                             fs::current_path(ec).string(), ")");
    throw Error(e.what() + hint);
  }
}

int threads_per_rank(int threads) {
  if (threads > 0) return threads;
  return std::max(1, omp_get_num_procs() / ranks_on_this_host());
}

int set_threads(int threads) {
  const int n = threads > 0 ? threads : omp_get_num_procs();
  omp_set_num_threads(n);
  Eigen::setNbThreads(n);
  return n;
}

Shape example_shape(const RunConfig& c) {
  if (!is_image_data(c)) return Shape{2};
  return Shape{c.preprocess.channels, c.preprocess.image_size, c.preprocess.image_size};
}

namespace {
Tensor synthetic_batch(const RunConfig& c, int64_t n) {
  std::vector<int64_t> dims{n};
  for (int64_t d : example_shape(c).to_vector()) dims.push_back(d);
  return Tensor::zeros(Shape(dims));
}

// Multiply-adds of one generator iteration of `trainer` on batches of 2.
double iteration_macs(Trainer& trainer, const RunConfig& c) {
  mac_counter() = 0;
  trainer.step([&] { return synthetic_batch(c, 2); });
  return static_cast<double>(mac_counter());
}
}  // namespace

ModelCost measure_model_cost(const RunConfig& config) {
  // The model's nominal cost: the multiply-adds of its layers as defined, not the fewer that
  // folded resampling or Winograd convs compute (which would make throughput look lower than
  // it is).
  const kernels::NoWinogradScope nominal;
  RunConfig c = config;
  c.generator.fold_resampling = c.discriminator.fold_resampling = false;
  TrainConfig t = c.train;
  t.batch_size = t.g_batch_size = 2;
  t.ema_decay = 0;  // no work of its own
  t.n_dis = 1;
  Trainer one(t, c.generator, c.discriminator);
  ModelCost cost;
  cost.g_params = one.generator().parameter_count();
  cost.d_params = one.discriminator().parameter_count();
  {
    NoGradGuard no_grad;
    mac_counter() = 0;
    Var x = one.generator().forward(Var(one.generator().sample_z(one.z_rng(), 2)));
    cost.g_macs_per_image = static_cast<double>(mac_counter()) / 2;
    mac_counter() = 0;
    one.discriminator().forward(x);
    cost.d_macs_per_image = static_cast<double>(mac_counter()) / 2;
  }
  // An iteration is n_dis discriminator steps of batch B and a generator step of batch Bg,
  // each linear in its batch: iterations with n_dis 1 and 2 at batch 2 give both per image.
  const double m1 = iteration_macs(one, c);
  t.n_dis = 2;
  Trainer two(t, c.generator, c.discriminator);
  const double m2 = iteration_macs(two, c);
  const double d_step = (m2 - m1) / 2, g_step = (2 * m1 - m2) / 2;  // per image
  cost.flop_per_iteration = 2 * (static_cast<double>(c.train.n_dis * c.train.batch_size) * d_step +
                                 static_cast<double>(c.train.g_batch_size) * g_step);
  return cost;
}

}  // namespace sngan
