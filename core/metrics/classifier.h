// A small CNN classifier used as a feature network where no Inception weights fit the data
// (grey 32x32 Fashion-MNIST): its penultimate activations are the features for the Frechet
// distance, KID and precision/recall, its logits give the Inception-style score and the class
// histogram (mode coverage).
//
// Network (every conv 3x3, pad 1, no bias, then batch norm and ReLU):
//   x (N, 1, S, S) -> conv stride 1 to channels[0] -> conv stride 2 to channels[1] -> ...
//   -> flatten -> dense to feature_dim -> ReLU  = features (N, feature_dim)
//   -> dense to num_classes                     = logits (N, num_classes)
// With the defaults (S = 32, channels 32, 64, 128, 128 features, 10 classes) the last conv
// map is 8x8 and a forward costs about 10.5M multiply-adds per image.
//
// Files: safetensors with the parameters and BN buffers under their module names
// ("conv0.weight", "bn0.running_mean", "fc.weight", "out.bias"...) and metadata
//   "feature_extractor" = "classifier", "classifier_config" = the ClassifierConfig as JSON,
// plus whatever the caller adds (training data, test accuracy).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/io/safetensors.h"
#include "core/metrics/feature_extractor.h"
#include "core/nn/layers.h"

namespace sngan {

struct ClassifierConfig {
  int image_size = 32;                       // S; input images are S x S
  std::vector<int64_t> channels{32, 64, 128};  // conv widths; every conv after the first has stride 2
  int64_t feature_dim = 128;
  int64_t num_classes = 10;
};

// Throws naming the field unless image_size in [4, 1024], 1 to 6 conv layers of 1 to 1024
// channels, feature_dim and num_classes in [2, 100000] (num_classes >= 2).
void validate(const ClassifierConfig& config);
std::string classifier_config_to_json(const ClassifierConfig& config);
// source names the text in errors.
ClassifierConfig classifier_config_from_json(const std::string& text, const std::string& source);

class ClassifierNet : public Module {
 public:
  ClassifierNet(const ClassifierConfig& config, Rng& rng);
  // x (N, 1, S, S) in [-1, 1] -> logits (N, num_classes); features (N, feature_dim) if asked.
  Var forward(const Var& x, Var* features = nullptr);
  const ClassifierConfig& config() const { return config_; }

 private:
  ClassifierConfig config_;
  std::vector<std::shared_ptr<Conv2d>> convs_;
  std::vector<std::shared_ptr<BatchNorm>> norms_;
  std::shared_ptr<Linear> fc_, out_;
};

// Mean cross-entropy of softmax(logits (N, K)) against labels (N) in [0, K). Differentiable
// in logits (its gradient (softmax - onehot) / N is a constant times the incoming gradient).
Var cross_entropy(const Var& logits, const std::vector<int>& labels);

// Writes net (parameters and buffers) and its config to path atomically; `metadata` is added.
void save_classifier(const std::string& path, const ClassifierNet& net,
                     const std::map<std::string, std::string>& metadata);

// The FeatureExtractor over a trained ClassifierNet: grey images of the configured size (RGB
// images are turned grey with the BT.601 luma weights 0.299, 0.587, 0.114); run in eval mode,
// no graph, in batches of 256.
class Classifier : public FeatureExtractor {
 public:
  explicit Classifier(std::shared_ptr<ClassifierNet> net);
  // Builds the net from a file read with read_safetensors(path); throws naming path for a
  // missing config, a missing tensor or a shape mismatch.
  static std::unique_ptr<Classifier> from_file(const TensorFile& file, const std::string& path);

  std::string name() const override { return "classifier"; }
  int64_t feature_dim() const override { return net_->config().feature_dim; }
  int64_t num_classes() const override { return net_->config().num_classes; }
  // images (N, 1 or 3, S, S); throws unless the size is the configured S.
  void embed(const Tensor& images, Tensor* features, Tensor* logits) override;
  ClassifierNet& net() { return *net_; }

 private:
  std::shared_ptr<ClassifierNet> net_;
};

}  // namespace sngan
