#include "core/gan/checkpoint.h"

#include <cmath>

namespace sngan {

std::string first_non_finite(const std::vector<std::pair<std::string, Tensor>>& tensors) {
  for (const auto& [name, t] : tensors) {
    const Scalar* p = t.data();
    for (int64_t i = 0; i < t.numel(); ++i)
      if (!std::isfinite(p[i])) return name;
  }
  return "";
}

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
