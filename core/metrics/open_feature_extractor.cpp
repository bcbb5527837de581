#include "core/metrics/open_feature_extractor.h"

#include "core/io/safetensors.h"
#include "core/metrics/classifier.h"
#include "core/metrics/inception.h"

#include <filesystem>

namespace sngan {

OpenedFeatureExtractor open_feature_extractor(const std::string& path) {
  std::error_code ec;
  SNGAN_CHECK(std::filesystem::exists(path, ec), path, ": no such feature network file (the FID Inception "
              "weights come from scripts/download_inception.sh; the Fashion-MNIST classifier from "
              "`sngan classifier train --config configs/classifier_fashion_mnist.json`)");
  const TensorFile file = read_safetensors(path);
  SNGAN_CHECK(file.metadata.count("sngan_stats") == 0, path,
              ": expected a feature network file, got a statistics file of `sngan stats` (give it "
              "as --reference)");
  auto kind = file.metadata.find("feature_extractor");
  // Inception files converted without the metadata entry are known by their tensors.
  const bool inception_tensors = file.tensors.count("Mixed_7c.branch_pool.conv.weight") > 0;
  SNGAN_CHECK(kind != file.metadata.end() || inception_tensors, path,
              ": expected a feature network file (metadata 'feature_extractor' not found; make "
              "one with `sngan classifier train`)");
  OpenedFeatureExtractor out;
  out.path = path;
  const std::string name = kind != file.metadata.end() ? kind->second : "inception_v3_fid";
  if (name == "classifier") {
    out.net = Classifier::from_file(file, path);
  } else if (name == "inception_v3_fid") {
    out.net = make_inception_v3(file.tensors, path);
  } else {
    SNGAN_CHECK(false, path, ": unknown feature network '", name,
                "' (expected 'classifier' or 'inception_v3_fid')");
  }
  auto sum = file.metadata.find(kSafetensorsChecksumKey);
  out.id = out.net->name() + (sum != file.metadata.end() ? ":" + sum->second : std::string());
  return out;
}

}  // namespace sngan
