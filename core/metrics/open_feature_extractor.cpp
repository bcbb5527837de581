#include "core/metrics/open_feature_extractor.h"

#include "core/io/safetensors.h"
#include "core/metrics/classifier.h"

namespace sngan {

OpenedFeatureExtractor open_feature_extractor(const std::string& path) {
  const TensorFile file = read_safetensors(path);
  SNGAN_CHECK(file.metadata.count("sngan_stats") == 0, path,
              ": expected a feature network file, got a statistics file of `sngan stats` (give it "
              "as --reference)");
  auto kind = file.metadata.find("feature_extractor");
  SNGAN_CHECK(kind != file.metadata.end(), path,
              ": expected a feature network file (metadata 'feature_extractor' not found; make "
              "one with `sngan classifier train`)");
  OpenedFeatureExtractor out;
  out.path = path;
  if (kind->second == "classifier") {
    out.net = Classifier::from_file(file, path);
  } else {
    SNGAN_CHECK(false, path, ": unknown feature network '", kind->second,
                "' (expected 'classifier')");
  }
  auto sum = file.metadata.find(kSafetensorsChecksumKey);
  out.id = out.net->name() + (sum != file.metadata.end() ? ":" + sum->second : std::string());
  return out;
}

}  // namespace sngan
