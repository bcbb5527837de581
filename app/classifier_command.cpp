#include "app/classifier_command.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "app/embed.h"
#include "app/progress.h"
#include "app/run_setup.h"
#include "core/metrics/classifier.h"
#include "core/nn/optim.h"
#include "data/loader.h"
#include "data/open_dataset.h"

namespace sngan {
namespace {

using nlohmann::json;

struct ClassifierTrainConfig {
  uint64_t seed = 0;
  int threads = 0;
  DatasetConfig data;
  PreprocessConfig preprocess;
  ClassifierConfig model;
  int64_t epochs = 3, iterations = 0, batch_size = 64, test_limit = 0;
  AdamConfig adam{1e-3, 0.9, 0.999, 1e-8};
  std::string lr_decay = "linear";
  std::string out = "models/classifier.safetensors";
};

// Rejects keys of `obj` (at `where`) outside `known`, naming the file and the key path.
void check_keys(const json& obj, const std::string& where, const std::set<std::string>& known,
                const std::string& file) {
  SNGAN_CHECK(obj.is_object(), file, ": ", where.empty() ? "the config" : where,
              ": expected a JSON object");
  for (auto it = obj.begin(); it != obj.end(); ++it)
    SNGAN_CHECK(known.count(it.key()) == 1, file, ": unknown key '",
                where.empty() ? it.key() : where + "." + it.key(), "'");
}

template <typename T>
void get(const json& obj, const std::string& key, const std::string& where, T& out,
         const std::string& file) {
  if (!obj.contains(key)) return;
  try {
    out = obj.at(key).get<T>();
  } catch (const json::exception&) {
    SNGAN_CHECK(false, file, ": ", where.empty() ? key : where + "." + key, ": expected ",
                std::is_same<T, std::string>::value ? "a string" : "a number", ", got ",
                obj.at(key).dump());
  }
}

ClassifierTrainConfig parse_config(const std::string& file) {
  std::ifstream in(file);
  SNGAN_CHECK(in.good(), "cannot open classifier config '", file, "'");
  std::stringstream ss;
  ss << in.rdbuf();
  json j;
  try {
    j = json::parse(ss.str());
  } catch (const json::exception& e) {
    SNGAN_CHECK(false, file, ": expected JSON, got a parse error: ", e.what());
  }
  ClassifierTrainConfig c;
  check_keys(j, "", {"seed", "threads", "data", "model", "train", "test_limit", "out"}, file);
  get(j, "seed", "", c.seed, file);
  get(j, "threads", "", c.threads, file);
  get(j, "test_limit", "", c.test_limit, file);
  get(j, "out", "", c.out, file);
  SNGAN_CHECK(j.contains("data"), file, ": data: expected a data section with data.path");
  const json& d = j.at("data");
  check_keys(d, "data", {"format", "path", "image_size", "fit"}, file);
  c.data.format = "idx";
  get(d, "format", "data", c.data.format, file);
  get(d, "path", "data", c.data.path, file);
  SNGAN_CHECK(!c.data.path.empty(), file, ": data.path: expected the data set's directory");
  get(d, "image_size", "data", c.preprocess.image_size, file);
  get(d, "fit", "data", c.preprocess.fit, file);
  c.preprocess.channels = 1;
  c.model.image_size = c.preprocess.image_size;
  if (j.contains("model")) {
    const json& m = j.at("model");
    check_keys(m, "model", {"channels", "feature_dim"}, file);
    if (m.contains("channels")) {
      try {
        c.model.channels = m.at("channels").get<std::vector<int64_t>>();
      } catch (const json::exception&) {
        SNGAN_CHECK(false, file, ": model.channels: expected a list of integers, got ",
                    m.at("channels").dump());
      }
    }
    get(m, "feature_dim", "model", c.model.feature_dim, file);
  }
  if (j.contains("train")) {
    const json& t = j.at("train");
    check_keys(t, "train", {"epochs", "iterations", "batch_size", "lr", "beta1", "beta2", "lr_decay"}, file);
    get(t, "epochs", "train", c.epochs, file);
    get(t, "iterations", "train", c.iterations, file);
    get(t, "batch_size", "train", c.batch_size, file);
    get(t, "lr", "train", c.adam.lr, file);
    get(t, "beta1", "train", c.adam.beta1, file);
    get(t, "beta2", "train", c.adam.beta2, file);
    get(t, "lr_decay", "train", c.lr_decay, file);
  }
  SNGAN_CHECK(c.epochs >= 1, file, ": train.epochs: expected >= 1, got ", c.epochs);
  SNGAN_CHECK(c.iterations >= 0, file, ": train.iterations: expected >= 0, got ", c.iterations);
  SNGAN_CHECK(c.batch_size >= 2 && c.batch_size <= 4096, file,
              ": train.batch_size: expected 2..4096, got ", c.batch_size);
  SNGAN_CHECK(c.adam.lr > 0 && c.adam.lr < 1, file, ": train.lr: expected in (0, 1), got ", c.adam.lr);
  SNGAN_CHECK(c.adam.beta1 >= 0 && c.adam.beta1 < 1 && c.adam.beta2 >= 0 && c.adam.beta2 < 1, file,
              ": train.beta1/beta2: expected in [0, 1)");
  SNGAN_CHECK(c.lr_decay == "linear" || c.lr_decay == "none", file,
              ": train.lr_decay: expected \"linear\" or \"none\", got \"", c.lr_decay, "\"");
  SNGAN_CHECK(c.test_limit >= 0, file, ": test_limit: expected >= 0, got ", c.test_limit);
  try {
    validate(c.preprocess);
    validate(c.model);
  } catch (const Error& e) {
    SNGAN_CHECK(false, file, ": ", e.what());
  }
  return c;
}

// The trained net's logits on the (first test_limit examples of the) test split, with labels.
Embedded evaluate(const std::shared_ptr<ClassifierNet>& net, const Dataset& test_set,
                  const ClassifierTrainConfig& c) {
  net->eval();
  Classifier classifier(net);
  return embed_dataset(classifier, test_set, c.preprocess, c.test_limit, "test");
}

}  // namespace

int run_classifier_train(const ClassifierTrainOptions& o) {
  ClassifierTrainConfig c = parse_config(o.config_path);
  if (!o.out_path.empty()) c.out = o.out_path;
  const int threads = set_threads(c.threads);
  DatasetConfig train_data = c.data, test_data = c.data;
  train_data.split = "train";
  test_data.split = "test";
  std::shared_ptr<const Dataset> train_set = open_run_dataset(train_data);
  std::shared_ptr<const Dataset> test_set = open_run_dataset(test_data);
  SNGAN_CHECK(train_set->num_classes() >= 2, train_set->describe(),
              ": expected a labelled data set with at least 2 classes");
  c.model.num_classes = train_set->num_classes();
  spdlog::info("classifier: {} ({} threads)", train_set->describe(), threads);

  Rng rng(c.seed);
  auto net = std::make_shared<ClassifierNet>(c.model, rng);
  LoaderConfig lc;
  lc.batch_size = static_cast<int>(c.batch_size);
  lc.seed = c.seed;
  Loader loader(train_set, lc, c.preprocess);
  const int64_t iters = c.iterations > 0 ? c.iterations : c.epochs * loader.batches_per_epoch();
  Adam adam(net->named_parameters(), c.adam);
  net->train(true);
  Progress progress("train", iters);
  const auto t0 = std::chrono::steady_clock::now();
  double loss_avg = 0;
  int64_t correct = 0, seen = 0;
  for (int64_t it = 0; it < iters; ++it) {
    if (c.lr_decay == "linear") adam.set_lr(c.adam.lr * (1.0 - double(it) / double(iters)));
    std::vector<int> labels;
    const Tensor x = loader.next(&labels);  // (B, 1, S, S)
    const Var logits = net->forward(Var(x));
    const Var loss = cross_entropy(logits, labels);
    adam.zero_grad();
    backward(loss);
    adam.step();
    loss_avg = it == 0 ? loss.item() : 0.98 * loss_avg + 0.02 * loss.item();
    const int64_t k = logits.dim(1);
    for (size_t i = 0; i < labels.size(); ++i) {
      const Scalar* row = logits.value().data() + i * k;
      correct += (std::max_element(row, row + k) - row) == labels[i];
    }
    seen += static_cast<int64_t>(labels.size());
    if ((it + 1) % 20 == 0 || it + 1 == iters) {
      char extra[96];
      std::snprintf(extra, sizeof extra, "loss %.4f, train acc %.3f", loss_avg, double(correct) / seen);
      progress.update(it + 1, extra);
      correct = seen = 0;
    }
  }
  progress.finish();
  const double train_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  const Embedded test = evaluate(net, *test_set, c);
  int64_t right = 0;
  for (int64_t i = 0; i < test.logits.rows(); ++i) {
    Eigen::Index best = 0;
    test.logits.row(i).maxCoeff(&best);
    right += best == test.labels[static_cast<size_t>(i)];
  }
  const double accuracy = double(right) / double(test.logits.rows());
  std::printf("test accuracy: %.4f (%lld of %lld test images), training %s (%lld iterations)\n",
              accuracy, static_cast<long long>(right), static_cast<long long>(test.logits.rows()),
              format_duration(train_s).c_str(), static_cast<long long>(iters));

  std::error_code ec;
  const std::filesystem::path parent = std::filesystem::path(c.out).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  SNGAN_CHECK(!ec, "cannot create directory ", parent.string(), ": ", ec.message());
  char acc[32];
  std::snprintf(acc, sizeof acc, "%.6f", accuracy);
  save_classifier(c.out, *net,
                  {{"data", train_set->describe()},
                   {"preprocess", json{{"image_size", c.preprocess.image_size},
                                       {"channels", 1},
                                       {"fit", c.preprocess.fit}}.dump()},
                   {"test_accuracy", acc},
                   {"test_examples", std::to_string(test.logits.rows())},
                   {"iterations", std::to_string(iters)},
                   {"seed", std::to_string(c.seed)}});
  spdlog::info("wrote {}", c.out);
  return 0;
}

}  // namespace sngan
