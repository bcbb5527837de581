#include "core/gan/checkpoint.h"

namespace sngan {

void save_checkpoint(const std::string& path, const Trainer& trainer,
                     const std::map<std::string, std::string>& extra_metadata) {
  auto tensors = trainer.state_tensors();
  const std::string bad = first_non_finite(tensors);
  SNGAN_CHECK(bad.empty(), "refusing to write checkpoint ", path, ": tensor '", bad,
              "' holds a non-finite value (the previous checkpoint is kept)");
  TensorFile file;
  for (auto& [name, t] : tensors) file.tensors.emplace(name, t);
  file.metadata = extra_metadata;
  for (auto& [k, v] : trainer.state_metadata()) file.metadata[k] = v;
  write_safetensors(path, file);
}

std::map<std::string, std::string> load_checkpoint(const std::string& path, Trainer& trainer) {
  TensorFile file = read_safetensors(path);
  trainer.load_state(file.tensors, file.metadata, path);
  return file.metadata;
}

std::shared_ptr<Generator> load_generator(const TensorFile& file, const GeneratorConfig& config, bool ema,
                                          const std::string& source) {
  const std::string prefix = ema ? "generator_ema." : "generator.";
  if (ema) {
    auto it = file.tensors.lower_bound(prefix);
    SNGAN_CHECK(it != file.tensors.end() && it->first.rfind(prefix, 0) == 0, source,
                ": --ema asked for, but this run kept no moving average (train.ema_decay was 0)");
  }
  Rng init_rng(0);  // every weight is overwritten below
  std::shared_ptr<Generator> g = make_generator(config, init_rng);
  std::vector<std::pair<std::string, Tensor>> expected;
  for (auto& [name, p] : g->named_parameters()) expected.emplace_back(prefix + name, p.value());
  for (auto& [name, b] : g->named_buffers()) expected.emplace_back(prefix + name, b);
  for (auto& [name, t] : expected) {  // validate everything before copying anything
    auto it = file.tensors.find(name);
    SNGAN_CHECK(it != file.tensors.end(), source, ": expected tensor '", name,
                "' for this model, not found (a checkpoint of another model or config?)");
    SNGAN_CHECK(it->second.shape() == t.shape(), source, ": tensor '", name, "' has shape ",
                it->second.shape().str(), ", this model expects ", t.shape().str());
  }
  for (auto& [name, t] : expected) t.copy_from(file.tensors.at(name));
  g->eval();
  return g;
}

}  // namespace sngan
