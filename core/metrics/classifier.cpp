#include "core/metrics/classifier.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <set>

#include "core/tensor/ops.h"

namespace sngan {

using nlohmann::json;

void validate(const ClassifierConfig& c) {
  SNGAN_CHECK(c.image_size >= 4 && c.image_size <= 1024,
              "classifier image_size: expected 4..1024, got ", c.image_size);
  SNGAN_CHECK(!c.channels.empty() && c.channels.size() <= 6,
              "classifier channels: expected 1 to 6 conv widths, got ", c.channels.size());
  for (int64_t ch : c.channels)
    SNGAN_CHECK(ch >= 1 && ch <= 1024, "classifier channels: expected widths in 1..1024, got ", ch);
  SNGAN_CHECK(c.feature_dim >= 2 && c.feature_dim <= 100000,
              "classifier feature_dim: expected 2..100000, got ", c.feature_dim);
  SNGAN_CHECK(c.num_classes >= 2 && c.num_classes <= 100000,
              "classifier num_classes: expected 2..100000, got ", c.num_classes);
}

std::string classifier_config_to_json(const ClassifierConfig& c) {
  json j = {{"image_size", c.image_size},
            {"channels", c.channels},
            {"feature_dim", c.feature_dim},
            {"num_classes", c.num_classes}};
  return j.dump();
}

ClassifierConfig classifier_config_from_json(const std::string& text, const std::string& source) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    SNGAN_CHECK(false, source, ": expected a JSON classifier config, got a parse error: ", e.what());
  }
  SNGAN_CHECK(j.is_object(), source, ": expected a JSON object as classifier config");
  const std::set<std::string> known{"image_size", "channels", "feature_dim", "num_classes"};
  for (auto it = j.begin(); it != j.end(); ++it)
    SNGAN_CHECK(known.count(it.key()) == 1, source, ": unknown classifier config key '", it.key(), "'");
  ClassifierConfig c;
  try {
    if (j.contains("image_size")) c.image_size = j.at("image_size").get<int>();
    if (j.contains("channels")) c.channels = j.at("channels").get<std::vector<int64_t>>();
    if (j.contains("feature_dim")) c.feature_dim = j.at("feature_dim").get<int64_t>();
    if (j.contains("num_classes")) c.num_classes = j.at("num_classes").get<int64_t>();
  } catch (const json::exception& e) {
    SNGAN_CHECK(false, source, ": classifier config: expected integers, got ", e.what());
  }
  validate(c);
  return c;
}

ClassifierNet::ClassifierNet(const ClassifierConfig& config, Rng& rng) : config_(config) {
  validate(config_);
  int64_t in = 1, size = config_.image_size;
  for (size_t i = 0; i < config_.channels.size(); ++i) {
    const int64_t stride = i == 0 ? 1 : 2;
    const std::string idx = std::to_string(i);
    convs_.push_back(register_module(
        "conv" + idx, std::make_shared<Conv2d>(in, config_.channels[i], 3, Conv2dOptions{stride, 1}, rng, false)));
    norms_.push_back(register_module("bn" + idx, std::make_shared<BatchNorm>(config_.channels[i])));
    in = config_.channels[i];
    if (stride == 2) size = (size - 1) / 2 + 1;  // (size + 2 - 3) / 2 + 1
  }
  fc_ = register_module("fc", std::make_shared<Linear>(in * size * size, config_.feature_dim, true, rng));
  out_ = register_module("out", std::make_shared<Linear>(config_.feature_dim, config_.num_classes, true, rng));
}

Var ClassifierNet::forward(const Var& x, Var* features) {
  SNGAN_CHECK(x.shape().ndim() == 4 && x.dim(1) == 1 && x.dim(2) == config_.image_size &&
                  x.dim(3) == config_.image_size,
              "classifier: expected images (N, 1, ", config_.image_size, ", ", config_.image_size,
              "), got ", x.shape().str());
  Var h = x;
  for (size_t i = 0; i < convs_.size(); ++i) h = norms_[i]->forward_relu(convs_[i]->forward(h));
  Var f = relu(fc_->forward(flatten(h)));  // (N, feature_dim)
  if (features) *features = f;
  return out_->forward(f);  // (N, num_classes)
}

Var cross_entropy(const Var& logits, const std::vector<int>& labels) {
  const Tensor& z = logits.value();
  SNGAN_CHECK(z.ndim() == 2 && z.dim(0) == static_cast<int64_t>(labels.size()),
              "cross_entropy: expected logits (N, K) for N = ", labels.size(), " labels, got ",
              z.shape().str());
  const int64_t n = z.dim(0), k = z.dim(1);
  Tensor dlogits = Tensor::empty(Shape{n, k});  // (N, K): (softmax - onehot) / N
  double loss = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int y = labels[static_cast<size_t>(i)];
    SNGAN_CHECK(y >= 0 && y < k, "cross_entropy: expected labels in [0, ", k, "), got ", y);
    const Scalar* row = z.data() + i * k;
    const double mx = *std::max_element(row, row + k);
    double se = 0;
    for (int64_t c = 0; c < k; ++c) se += std::exp(double(row[c]) - mx);
    loss += mx + std::log(se) - row[y];
    for (int64_t c = 0; c < k; ++c)
      dlogits[i * k + c] = Scalar((std::exp(double(row[c]) - mx) / se - (c == y ? 1.0 : 0.0)) / n);
  }
  Tensor v = Tensor::scalar(Scalar(loss / n));
  return Var::make_op(std::move(v), "cross_entropy", {logits}, [dlogits](const Var& g) {
    return std::vector<Var>{mul(Var(dlogits), g)};
  });
}

void save_classifier(const std::string& path, const ClassifierNet& net,
                     const std::map<std::string, std::string>& metadata) {
  TensorFile file;
  for (const auto& [name, p] : net.named_parameters()) file.tensors[name] = p.value();
  for (const auto& [name, b] : net.named_buffers()) file.tensors[name] = b;
  file.metadata = metadata;
  file.metadata["feature_extractor"] = "classifier";
  file.metadata["classifier_config"] = classifier_config_to_json(net.config());
  write_safetensors(path, file);
}

Classifier::Classifier(std::shared_ptr<ClassifierNet> net) : net_(std::move(net)) {}

std::unique_ptr<Classifier> Classifier::from_file(const TensorFile& file, const std::string& path) {
  auto it = file.metadata.find("classifier_config");
  SNGAN_CHECK(it != file.metadata.end(), path,
              ": expected a classifier file (metadata 'classifier_config' not found)");
  const ClassifierConfig config = classifier_config_from_json(it->second, path + " (classifier_config)");
  Rng rng(0);
  auto net = std::make_shared<ClassifierNet>(config, rng);
  auto load = [&](const std::string& name, Tensor dst) {
    auto t = file.tensors.find(name);
    SNGAN_CHECK(t != file.tensors.end(), path, ": expected tensor '", name, "' (classifier ",
                "weights), not found");
    SNGAN_CHECK(t->second.shape() == dst.shape(), path, ": tensor '", name, "': expected shape ",
                dst.shape().str(), ", got ", t->second.shape().str());
    dst.copy_from(t->second);
  };
  for (auto& [name, p] : net->named_parameters()) load(name, p.value());
  for (auto& [name, b] : net->named_buffers()) load(name, b);
  net->eval();
  return std::make_unique<Classifier>(net);
}

void Classifier::embed(const Tensor& images, Tensor* features, Tensor* logits) {
  const int64_t s = net_->config().image_size;
  SNGAN_CHECK(images.ndim() == 4 && (images.dim(1) == 1 || images.dim(1) == 3) &&
                  images.dim(2) == s && images.dim(3) == s,
              "classifier: expected images (N, 1 or 3, ", s, ", ", s, "), got ", images.shape().str());
  const int64_t n = images.dim(0), c = images.dim(1), plane = s * s;
  if (features) *features = Tensor::empty(Shape{n, feature_dim()});  // (N, feature_dim)
  if (logits) *logits = Tensor::empty(Shape{n, num_classes()});      // (N, num_classes)
  NoGradGuard no_grad;
  net_->eval();
  const int64_t batch = 256;
  for (int64_t b0 = 0; b0 < n; b0 += batch) {
    const int64_t nb = std::min(batch, n - b0);
    Tensor x = Tensor::empty(Shape{nb, 1, s, s});  // (nb, 1, S, S)
    for (int64_t i = 0; i < nb; ++i) {
      const Scalar* src = images.data() + (b0 + i) * c * plane;
      Scalar* dst = x.data() + i * plane;
      for (int64_t p = 0; p < plane; ++p)
        dst[p] = c == 1 ? src[p]
                        : Scalar(0.299) * src[p] + Scalar(0.587) * src[plane + p] +
                              Scalar(0.114) * src[2 * plane + p];
    }
    Var f;
    const Var z = net_->forward(Var(x), &f);
    if (features)
      std::copy(f.value().data(), f.value().data() + f.numel(), features->data() + b0 * feature_dim());
    if (logits)
      std::copy(z.value().data(), z.value().data() + z.numel(), logits->data() + b0 * num_classes());
  }
}

}  // namespace sngan
