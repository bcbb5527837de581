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

}  // namespace sngan
