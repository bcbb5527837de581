#include "core/gan/config.h"

namespace sngan {

bool paper_setting(const std::string& name, AdamSetting* out) {
  static const struct {
    const char* name;
    AdamSetting setting;
  } kSettings[] = {{"A", {1e-4, 0.5, 0.9, 5}},   {"B", {1e-4, 0.5, 0.999, 1}},
                   {"C", {2e-4, 0.5, 0.999, 1}}, {"D", {1e-3, 0.5, 0.9, 5}},
                   {"E", {1e-3, 0.5, 0.999, 5}}, {"F", {1e-3, 0.9, 0.999, 5}}};
  for (const auto& s : kSettings)
    if (name == s.name) {
      *out = s.setting;
      return true;
    }
  return false;
}

const char* to_string(Architecture a) {
  switch (a) {
    case Architecture::kStandardCnn: return "standard_cnn";
    case Architecture::kResNet: return "resnet";
    case Architecture::kMlp: return "mlp";
  }
  return "?";
}

const char* to_string(DNormalization n) {
  switch (n) {
    case DNormalization::kSpectral: return "spectral";
    case DNormalization::kNone: return "none";
    case DNormalization::kWeightClip: return "weight_clip";
    case DNormalization::kWeightNorm: return "weight_norm";
    case DNormalization::kBatchNorm: return "batch_norm";
    case DNormalization::kLayerNorm: return "layer_norm";
    case DNormalization::kOrthonormal: return "orthonormal";
  }
  return "?";
}

}  // namespace sngan
