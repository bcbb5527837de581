#include "app/run_setup.h"

#include <omp.h>

#include <Eigen/Core>

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

// Multiply-adds of one generator iteration at the given batch sizes.
double iteration_macs(const RunConfig& c, int64_t batch, int64_t g_batch) {
  TrainConfig t = c.train;
  t.batch_size = batch;
  t.g_batch_size = g_batch;
  Trainer trainer(t, c.generator, c.discriminator);
  mac_counter() = 0;
  trainer.step([&] { return synthetic_batch(c, batch); });
  return static_cast<double>(mac_counter());
}
}  // namespace

ModelCost measure_model_cost(const RunConfig& config) {
  // The model's nominal cost: the multiply-adds of its layers as defined, not the fewer that
  // folded resampling computes (which would make throughput look lower than it is).
  RunConfig c = config;
  c.generator.fold_resampling = c.discriminator.fold_resampling = false;
  ModelCost cost;
  TrainConfig t = c.train;
  t.batch_size = t.g_batch_size = 2;
  Trainer trainer(t, c.generator, c.discriminator);
  cost.g_params = trainer.generator().parameter_count();
  cost.d_params = trainer.discriminator().parameter_count();
  {
    NoGradGuard no_grad;
    mac_counter() = 0;
    Var x = trainer.generator().forward(Var(trainer.generator().sample_z(trainer.z_rng(), 2)));
    cost.g_macs_per_image = static_cast<double>(mac_counter()) / 2;
    mac_counter() = 0;
    trainer.discriminator().forward(x);
    cost.d_macs_per_image = static_cast<double>(mac_counter()) / 2;
  }
  // MACs(B, Bg) = a B + b Bg: two tiny iterations give a and b.
  const double m22 = iteration_macs(c, 2, 2), m42 = iteration_macs(c, 4, 2);
  const double a = (m42 - m22) / 2, b = (m22 - 2 * a) / 2;
  cost.flop_per_iteration = 2 * (a * static_cast<double>(c.train.batch_size) +
                                 b * static_cast<double>(c.train.g_batch_size));
  return cost;
}

}  // namespace sngan
